/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A vCPU's state in one line, for the log when the guest crashes (a triple fault, an emulation
 * failure): where it was and what it was doing, so the crash can be traced to a guest symbol.
 */
#ifndef KILN_ARCH_X86_VCPU_STATE_H
#define KILN_ARCH_X86_VCPU_STATE_H

#include <linux/kvm.h>
#include <stddef.h>

/*
 * Formats the registers, descriptor tables and pending events into buf (always terminated); a vCPU
 * that KVM already put back at the reset vector is named as such instead.
 */
void x86_format_vcpu_state(const struct kvm_regs *r, const struct kvm_sregs *s, const struct kvm_vcpu_events *ev,
			   char *buf, size_t len);

/* Reads the vCPU's state from KVM and formats it; on failure, says which ioctl failed. */
void x86_describe_vcpu(int vcpu_fd, char *buf, size_t len);

#endif
