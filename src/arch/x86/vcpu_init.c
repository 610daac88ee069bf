/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/vcpu_init.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/regs.h"
#include "arch/x86/kvm_x86.h"
#include "kvm/kvm.h"
#include "log.h"

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define MISC_ENABLE_FAST_STRING 1ull
#define MTRR_ENABLE (1ull << 11)
#define MTRR_TYPE_WRITEBACK 6ull

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static int set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int id, unsigned int n)
{
	size_t size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int rc;

	if (c == NULL)
		return -ENOMEM;
	memcpy(c, supported, size);
	x86_cpuid_patch(c, id, n);
	rc = kvm_set_cpuid(vcpu_fd, c);
	free(c);
	return rc;
}

/* Architectural MSRs at reset values, fast strings on, MTRRs enabled with write-back default. */
static int set_msrs(int vcpu_fd)
{
	static const struct { uint32_t index; uint64_t value; } boot_msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 }, { MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },	     { MSR_LSTAR, 0 },		   { MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },     { MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRITEBACK },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[ARRAY_SIZE(boot_msrs)];
	} msrs = { .hdr.nmsrs = ARRAY_SIZE(boot_msrs) };

	for (size_t i = 0; i < ARRAY_SIZE(boot_msrs); i++) {
		msrs.entries[i].index = boot_msrs[i].index;
		msrs.entries[i].data = boot_msrs[i].value;
	}
	int set = kvm_set_msrs(vcpu_fd, &msrs.hdr);
	if (set < 0)
		return set;
	if ((size_t)set < ARRAY_SIZE(boot_msrs))
		log_warn("vcpu", "KVM refused MSR %#x", boot_msrs[set].index);
	return 0;
}

static int set_fpu(int vcpu_fd)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 }; /* x87 and SSE reset defaults */

	return kvm_set_fpu(vcpu_fd, &fpu);
}

static void set_lvt_mode(struct kvm_lapic_state *lapic, unsigned int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &lapic->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&lapic->regs[reg], &v, sizeof(v));
}

/* LINT0 takes the PIC's interrupts (ExtINT), LINT1 the NMI, as on a PC (MP spec §5.1). */
static int set_lapic(int vcpu_fd)
{
	struct kvm_lapic_state lapic;
	int rc = kvm_get_lapic(vcpu_fd, &lapic);

	if (rc < 0)
		return rc;
	set_lvt_mode(&lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	set_lvt_mode(&lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
	return kvm_set_lapic(vcpu_fd, &lapic);
}

static int set_boot_registers(int vcpu_fd, const struct x86_boot_cpu *boot)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int rc = kvm_get_sregs(vcpu_fd, &sregs);

	if (rc < 0)
		return rc;
	x86_boot_sregs(&sregs, boot->long_mode);
	rc = kvm_set_sregs(vcpu_fd, &sregs);
	if (rc < 0)
		return rc;
	x86_boot_regs(&regs, boot->long_mode, boot->ip, boot->boot_info);
	return kvm_set_regs(vcpu_fd, &regs);
}

int x86_vcpu_init(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int id,
		  unsigned int nvcpus, const struct x86_boot_cpu *boot)
{
	int rc = set_cpuid(vcpu_fd, supported, id, nvcpus);

	if (rc == 0)
		rc = set_msrs(vcpu_fd);
	if (rc == 0)
		rc = set_fpu(vcpu_fd);
	if (rc == 0)
		rc = set_lapic(vcpu_fd);
	if (rc == 0 && boot != NULL)
		rc = set_boot_registers(vcpu_fd, boot);
	return rc;
}
