/* SPDX-License-Identifier: Apache-2.0 */
/* The CPUID a vCPU sees: KVM's supported set, with the APIC id and topology of this VM. */
#ifndef KILN_ARCH_X86_CPUID_H
#define KILN_ARCH_X86_CPUID_H

#include <linux/kvm.h>

/* Rewrites the entries of c (a copy of KVM_GET_SUPPORTED_CPUID) for vCPU vcpu_id of nvcpus. */
void x86_cpuid_patch(struct kvm_cpuid2 *c, unsigned int vcpu_id, unsigned int nvcpus);

#endif
