/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arm64 machine's sections of a state file: ACPU/n each vCPU (vcpu_snapshot.c), GIC3/0 the
 * vgic-v3 (gic_snapshot.c). Each load refuses, in one line in why, what this machine does not have.
 */
#ifndef KILN_ARCH_ARM64_SNAPSHOT_H
#define KILN_ARCH_ARM64_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snap_file.h"
#include "util.h"

#define ARM64_SNAP_TAG_VCPU SNAP_TAG('A', 'C', 'P', 'U')
#define ARM64_SNAP_TAG_GIC SNAP_TAG('G', 'I', 'C', '3')

/*
 * vCPU id's registers (every one its KVM_GET_REG_LIST lists) and MP state; the virtual counter
 * (KVM_REG_ARM_TIMER_CNT) saved as counter, its value when the VM was paused.
 */
int arm64_vcpu_save(int vcpu_fd, unsigned int id, uint64_t counter, struct snap_writer *w) MUST_CHECK;
/* Into vCPU id, created and initialised as at boot. */
int arm64_vcpu_load(int vcpu_fd, unsigned int id, const struct snap_reader *r, char *why, size_t whylen) MUST_CHECK;

/* The vgic-v3 of nvcpus vCPUs (their fds, for their MPIDRs), after KVM_DEV_ARM_VGIC_CTRL_INIT. */
int arm64_gic_save(int gic_fd, const int *vcpu_fds, unsigned int nvcpus, struct snap_writer *w) MUST_CHECK;
int arm64_gic_load(int gic_fd, const int *vcpu_fds, unsigned int nvcpus, const struct snap_reader *r,
		   char *why, size_t whylen) MUST_CHECK;

#endif
