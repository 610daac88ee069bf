/* SPDX-License-Identifier: Apache-2.0 */
/* What the fake KVM recorded, for unit tests that link tests/fakes/fake_kvm.c. */
#ifndef KILN_TESTS_FAKE_KVM_H
#define KILN_TESTS_FAKE_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>

struct fake_vcpu_state {
	struct kvm_cpuid_entry2 cpuid[64];
	unsigned int cpuid_nent;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool sregs_set, regs_set;
	struct kvm_fpu fpu;
	struct kvm_msr_entry msrs[32];
	unsigned int nmsrs;
	struct kvm_lapic_state lapic;
};

/* The state of the vCPU with this fd (fds 100.. are vCPUs 0..). */
struct fake_vcpu_state *fake_kvm_vcpu(int vcpu_fd);
void fake_kvm_reset(void);

#endif
