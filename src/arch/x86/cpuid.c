/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topology: one package, nvcpus cores, one thread per core; the APIC id is the vCPU index.
 * Leaves per the Intel SDM vol. 2A (CPUID) and AMD APM vol. 3 (appendix E).
 */
#include "arch/x86/cpuid.h"

#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define TOPOLOGY_LEVEL_SMT 1
#define TOPOLOGY_LEVEL_CORE 2

/* Bits needed to number n ids: ceil(log2(n)). */
static unsigned int id_bits(unsigned int n)
{
	unsigned int bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void patch_leaf1(struct kvm_cpuid_entry2 *e, unsigned int vcpu_id, unsigned int nvcpus)
{
	/* EBX[31:24] initial APIC id, EBX[23:16] addressable logical processor ids. */
	e->ebx = (e->ebx & 0x0000ffffu) | (vcpu_id << 24) | ((1u << id_bits(nvcpus)) << 16);
	e->ecx |= CPUID_1_ECX_HYPERVISOR;
	if (nvcpus > 1)
		e->edx |= CPUID_1_EDX_HTT;
	else
		e->edx &= ~CPUID_1_EDX_HTT;
}

/* Intel deterministic cache parameters: cores per package, and how many threads share each cache. */
static void patch_leaf4(struct kvm_cpuid_entry2 *e, unsigned int nvcpus)
{
	unsigned int cache_level = (e->eax >> 5) & 0x7;
	unsigned int sharing = cache_level >= 3 ? nvcpus : 1;

	if ((e->eax & 0x1f) == 0) /* no more caches */
		return;
	e->eax &= 0x3fff;
	e->eax |= ((sharing - 1) & 0xfff) << 14;
	e->eax |= ((nvcpus - 1) & 0x3f) << 26;
}

/* Extended topology (leaves 0xb and 0x1f): an SMT level of one thread, a core level of nvcpus. */
static void patch_topology(struct kvm_cpuid_entry2 *e, unsigned int vcpu_id, unsigned int nvcpus)
{
	unsigned int core_shift = id_bits(nvcpus);

	e->edx = vcpu_id; /* x2APIC id */
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPOLOGY_LEVEL_SMT << 8) | 0;
		break;
	case 1:
		e->eax = core_shift;
		e->ebx = nvcpus;
		e->ecx = (TOPOLOGY_LEVEL_CORE << 8) | 1;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index; /* level type 0: invalid, no more levels */
		break;
	}
}

/* AMD: leaf 0x80000008 ECX gives the core count and the APIC id bits used for cores. */
static void patch_amd_size(struct kvm_cpuid_entry2 *e, unsigned int nvcpus)
{
	e->ecx = (e->ecx & ~0xf0ffu) | (id_bits(nvcpus) << 12) | ((nvcpus - 1) & 0xff);
}

/* AMD: leaf 0x8000001e, extended APIC id, one thread per core, node 0. */
static void patch_amd_ext_apic(struct kvm_cpuid_entry2 *e, unsigned int vcpu_id)
{
	e->eax = vcpu_id;
	e->ebx = vcpu_id & 0xff; /* core id; threads per core - 1 = 0 */
	e->ecx = 0;
}

void x86_cpuid_patch(struct kvm_cpuid2 *c, unsigned int vcpu_id, unsigned int nvcpus)
{
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 0x1:
			patch_leaf1(e, vcpu_id, nvcpus);
			break;
		case 0x4:
			patch_leaf4(e, nvcpus);
			break;
		case 0xb:
		case 0x1f:
			patch_topology(e, vcpu_id, nvcpus);
			break;
		case 0x80000008:
			patch_amd_size(e, nvcpus);
			break;
		case 0x8000001e:
			patch_amd_ext_apic(e, vcpu_id);
			break;
		default:
			break;
		}
	}
}

void x86_cpuid_enable_tsc_deadline(struct kvm_cpuid2 *c)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x1)
			c->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
}
