/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch/x86: the state a vCPU is given at boot (CPUID topology, MSRs, LAPIC LVTs, entry registers),
 * recorded by the fake KVM, and the GDT and page tables written into guest memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "arch/x86/vcpu_init.h"
#include "fakes/fake_kvm.h"

#define VCPU_FD(i) (100 + (i))

static struct kvm_cpuid2 *supported_cpuid(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 6 * sizeof(c->entries[0]));

	c->nent = 6;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0x1, .ebx = 0x00000800, .edx = 1 };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1 };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 2 };
	c->entries[4] = (struct kvm_cpuid_entry2){ .function = 0x4, .eax = 0x121 }; /* L1 data cache */
	c->entries[5] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0x7007 };
	return c;
}

static const struct kvm_cpuid_entry2 *leaf(const struct fake_vcpu_state *v, uint32_t fn, uint32_t index)
{
	for (unsigned int i = 0; i < v->cpuid_nent; i++)
		if (v->cpuid[i].function == fn && v->cpuid[i].index == index)
			return &v->cpuid[i];
	fail_msg("leaf %#x.%u missing", fn, index);
	return NULL;
}

static uint32_t lvt(const struct fake_vcpu_state *v, unsigned int reg)
{
	uint32_t val;

	memcpy(&val, &v->lapic.regs[reg], sizeof(val));
	return val;
}

static void test_cpuid_topology_per_vcpu(void **state)
{
	struct kvm_cpuid2 *c = supported_cpuid();
	const struct x86_boot_cpu boot = { .long_mode = true, .ip = 0x100200, .boot_info = 0x7000 };

	(void)state;
	fake_kvm_reset();
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(x86_vcpu_init(VCPU_FD(i), c, i, 4, i == 0 ? &boot : NULL), 0);
	for (unsigned int i = 0; i < 4; i++) {
		const struct fake_vcpu_state *v = fake_kvm_vcpu(VCPU_FD(i));

		assert_int_equal(leaf(v, 1, 0)->ebx >> 24, i);               /* initial APIC id */
		assert_int_equal((leaf(v, 1, 0)->ebx >> 16) & 0xff, 4);      /* logical ids */
		assert_int_equal(leaf(v, 1, 0)->ebx & 0xffff, 0x0800);       /* the rest kept */
		assert_true(leaf(v, 1, 0)->ecx & (1u << 31));                /* hypervisor */
		assert_true(leaf(v, 1, 0)->edx & (1u << 28));                /* HTT: > 1 logical */
		assert_int_equal(leaf(v, 0xb, 0)->edx, i);                   /* x2APIC id */
		assert_int_equal(leaf(v, 0xb, 1)->ebx, 4);                   /* cores in the package */
		assert_int_equal(leaf(v, 0xb, 1)->eax, 2);                   /* APIC id shift */
		assert_int_equal((leaf(v, 0xb, 2)->ecx >> 8) & 0xff, 0);     /* no third level */
		assert_int_equal(leaf(v, 0x4, 0)->eax >> 26, 3);             /* cores - 1 */
		assert_int_equal(leaf(v, 0x80000008, 0)->ecx & 0xff, 3);     /* AMD NC */
		assert_int_equal(lvt(v, 0x350) & 0x700, 0x700);              /* LINT0 ExtINT */
		assert_int_equal(lvt(v, 0x360) & 0x700, 0x400);              /* LINT1 NMI */
		assert_int_equal(v->fpu.fcw, 0x37f);
		assert_true(v->nmsrs > 0);
		/* Only the boot CPU gets entry registers; APs wait for INIT/SIPI. */
		assert_int_equal(v->regs_set, i == 0);
		assert_int_equal(v->sregs_set, i == 0);
	}
	free(c);
}

static void test_single_vcpu_has_no_htt(void **state)
{
	struct kvm_cpuid2 *c = supported_cpuid();

	(void)state;
	c->entries[0].edx |= 1u << 28;
	x86_cpuid_patch(c, 0, 1);
	assert_false(c->entries[0].edx & (1u << 28));
	assert_int_equal((c->entries[0].ebx >> 16) & 0xff, 1);
	free(c);
}

static void test_tsc_deadline_is_offered_in_leaf1_only(void **state)
{
	struct kvm_cpuid2 *c = supported_cpuid();
	uint32_t ecx_before[6];

	(void)state;
	for (unsigned int i = 0; i < c->nent; i++)
		ecx_before[i] = c->entries[i].ecx;
	x86_cpuid_enable_tsc_deadline(c);
	assert_true(c->entries[0].ecx & (1u << 24));
	assert_int_equal(c->entries[0].ecx & ~(1u << 24), ecx_before[0]);
	for (unsigned int i = 1; i < c->nent; i++)
		assert_int_equal(c->entries[i].ecx, ecx_before[i]);
	free(c);
}

static void test_long_mode_entry_state(void **state)
{
	struct kvm_cpuid2 *c = supported_cpuid();
	const struct x86_boot_cpu boot = { .long_mode = true, .ip = 0x100200, .boot_info = 0x7000 };

	(void)state;
	fake_kvm_reset();
	assert_int_equal(x86_vcpu_init(VCPU_FD(0), c, 0, 1, &boot), 0);
	const struct fake_vcpu_state *v = fake_kvm_vcpu(VCPU_FD(0));
	assert_int_equal(v->regs.rip, 0x100200);
	assert_int_equal(v->regs.rsi, 0x7000); /* boot protocol: RSI = boot_params */
	assert_int_equal(v->regs.rflags, 2);
	assert_true(v->sregs.cr0 & 1);           /* PE */
	assert_true(v->sregs.cr0 & (1ull << 31)); /* PG */
	assert_true(v->sregs.cr4 & (1ull << 5));  /* PAE */
	assert_int_equal(v->sregs.efer & 0x500, 0x500); /* LME | LMA */
	assert_int_equal(v->sregs.cr3, X86_PML4_ADDR);
	assert_int_equal(v->sregs.cs.selector, X86_SEL_CODE);
	assert_int_equal(v->sregs.cs.l, 1);
	assert_int_equal(v->sregs.ds.selector, X86_SEL_DATA);
	free(c);
}

static void test_pvh_entry_state(void **state)
{
	struct kvm_cpuid2 *c = supported_cpuid();
	const struct x86_boot_cpu boot = { .long_mode = false, .ip = 0x1000000, .boot_info = 0x6000 };

	(void)state;
	fake_kvm_reset();
	assert_int_equal(x86_vcpu_init(VCPU_FD(0), c, 0, 1, &boot), 0);
	const struct fake_vcpu_state *v = fake_kvm_vcpu(VCPU_FD(0));
	assert_int_equal(v->regs.rip, 0x1000000);
	assert_int_equal(v->regs.rbx, 0x6000); /* PVH: EBX = hvm_start_info */
	assert_int_equal(v->sregs.cr0 & (1ull << 31), 0); /* paging off */
	assert_int_equal(v->sregs.efer, 0);
	assert_int_equal(v->sregs.cs.db, 1); /* 32-bit code */
	assert_int_equal(v->sregs.cs.l, 0);
	free(c);
}

static void test_boot_tables_in_memory(void **state)
{
	struct gmem m = { 0 };
	uint8_t *ram = calloc(1, MiB(2));
	uint64_t entry;

	(void)state;
	assert_int_equal(gmem_add_region(&m, 0, ram, MiB(2)), 0);
	assert_int_equal(x86_write_boot_tables(&m, true), 0);
	/* The 64-bit code descriptor: present, code, L set, D clear. */
	memcpy(&entry, ram + X86_GDT_ADDR + X86_SEL_CODE, 8);
	assert_int_equal(entry, 0x00af9b000000ffffull);
	memcpy(&entry, ram + X86_GDT_ADDR + X86_SEL_DATA, 8);
	assert_int_equal(entry, 0x00cf93000000ffffull);
	/* PML4[0] -> PDPT -> PDs of 2 MiB pages, identity: the PD entry for 3 GiB + 2 MiB. */
	memcpy(&entry, ram + X86_PML4_ADDR, 8);
	assert_int_equal(entry & ~0xfffull, X86_PDPT_ADDR);
	memcpy(&entry, ram + X86_PDPT_ADDR + 3 * 8, 8);
	assert_int_equal(entry & ~0xfffull, X86_PD_ADDR + 3 * 0x1000);
	memcpy(&entry, ram + X86_PD_ADDR + 3 * 0x1000 + 8, 8);
	assert_int_equal(entry, (3ull << 30) + (2ull << 20) + 0x83);
	/* 32-bit PVH: its code descriptor has D set and L clear. */
	assert_int_equal(x86_write_boot_tables(&m, false), 0);
	memcpy(&entry, ram + X86_GDT_ADDR + X86_SEL_CODE, 8);
	assert_int_equal(entry, 0x00cf9b000000ffffull);
	free(ram);
}

static void test_boot_tables_need_ram(void **state)
{
	struct gmem m = { 0 };
	uint8_t *ram = calloc(1, 0x8000);

	(void)state;
	/* RAM that ends below the page tables: an error, not a write past the buffer. */
	assert_int_equal(gmem_add_region(&m, 0, ram, 0x8000), 0);
	assert_true(x86_write_boot_tables(&m, true) < 0);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_topology_per_vcpu),
		cmocka_unit_test(test_single_vcpu_has_no_htt),
		cmocka_unit_test(test_tsc_deadline_is_offered_in_leaf1_only),
		cmocka_unit_test(test_long_mode_entry_state),
		cmocka_unit_test(test_pvh_entry_state),
		cmocka_unit_test(test_boot_tables_in_memory),
		cmocka_unit_test(test_boot_tables_need_ram),
	};
	return cmocka_run_group_tests_name("vcpu_init", tests, NULL, NULL);
}
