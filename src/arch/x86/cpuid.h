/* SPDX-License-Identifier: Apache-2.0 */
/* The CPUID a vCPU sees: KVM's supported set, with the APIC id and topology of this VM. */
#ifndef KILN_ARCH_X86_CPUID_H
#define KILN_ARCH_X86_CPUID_H

#include <linux/kvm.h>

/* Rewrites the entries of c (a copy of KVM_GET_SUPPORTED_CPUID) for vCPU vcpu_id of nvcpus. */
void x86_cpuid_patch(struct kvm_cpuid2 *c, unsigned int vcpu_id, unsigned int nvcpus);

/*
 * Offers the TSC-deadline mode of the local APIC timer (leaf 1 ECX bit 24), which KVM emulates
 * when it has KVM_CAP_TSC_DEADLINE_TIMER but leaves out of KVM_GET_SUPPORTED_CPUID (api.rst).
 * Linux then arms its timer with one MSR write instead of the one-shot count register.
 */
void x86_cpuid_enable_tsc_deadline(struct kvm_cpuid2 *c);

#endif
