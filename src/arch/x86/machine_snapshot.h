/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The x86 machine's in-kernel state in a snapshot, section MACH/0: the PIC pair, the IOAPIC and the
 * guest's kvmclock (linux/kvm.h structures, as KVM defines them).
 */
#ifndef KILN_ARCH_X86_MACHINE_SNAPSHOT_H
#define KILN_ARCH_X86_MACHINE_SNAPSHOT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>

#include "snapshot/snap_file.h"
#include "util.h"

#define X86_SNAP_TAG_MACHINE SNAP_TAG('M', 'A', 'C', 'H')

/*
 * clock: the kvmclock taken when the VM paused (vm_pause.c), so time resumes from there;
 * realtime_ns: the host's CLOCK_REALTIME then.
 */
int x86_machine_save(int vm_fd, const struct kvm_clock_data *clock, uint64_t realtime_ns,
		     struct snap_writer *w) MUST_CHECK;
/*
 * Loads MACH/0 into a VM built with the same irqchip; *clock is the kvmclock set. With
 * clock_realtime, kvmclock also moves on by the host's wall-clock time since the snapshot's
 * pause (Firecracker's clock_realtime). 0, or -errno and why.
 */
int x86_machine_load(int vm_fd, const struct snap_reader *r, bool clock_realtime, struct kvm_clock_data *clock,
		     char *why, size_t whylen) MUST_CHECK;

#endif
