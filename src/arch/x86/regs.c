/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/regs.h"

#include <string.h>

#include "arch/x86/layout.h"

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_HUGE (1ull << 7) /* a 2 MiB page in a page directory */

#define SEG_TYPE_CODE_RX 0xb  /* execute/read, accessed */
#define SEG_TYPE_DATA_RW 0x3  /* read/write, accessed */
#define SEG_TYPE_TSS_BUSY 0xb /* 32/64-bit TSS, busy */

/*
 * A GDT descriptor (Intel SDM vol. 3A §3.4.5) from its fields: flags holds G, D/B, L, AVL in bits
 * 12-15 of the high half's byte 2, access holds P, DPL, S and type.
 */
static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf) << 52) |
	       ((uint64_t)(limit & 0xf0000) << 32) | ((uint64_t)access << 40) |
	       ((uint64_t)(base & 0x00ffffff) << 16) | (limit & 0xffff);
}

#define GDT_FLAGS_G 0x8
#define GDT_FLAGS_DB 0x4
#define GDT_FLAGS_L 0x2
#define GDT_ACCESS(type, s) (0x80 | ((s) << 4) | (type)) /* present, DPL 0 */

static int write_gdt(const struct gmem *m, bool long_mode)
{
	uint64_t gdt[5] = {
		0,
		0,
		gdt_entry(0, 0xfffff, GDT_ACCESS(SEG_TYPE_CODE_RX, 1),
			  GDT_FLAGS_G | (long_mode ? GDT_FLAGS_L : GDT_FLAGS_DB)),
		gdt_entry(0, 0xfffff, GDT_ACCESS(SEG_TYPE_DATA_RW, 1), GDT_FLAGS_G | GDT_FLAGS_DB),
		gdt_entry(0, 0xfffff, GDT_ACCESS(SEG_TYPE_TSS_BUSY, 0), 0),
	};
	uint64_t empty_idt = 0;
	int rc = gmem_write(m, X86_GDT_ADDR, gdt, sizeof(gdt));

	return rc ? rc : gmem_write(m, X86_IDT_ADDR, &empty_idt, sizeof(empty_idt));
}

/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages: 4 GiB identity-mapped. */
static int write_page_tables(const struct gmem *m)
{
	uint64_t pml4[512] = { X86_PDPT_ADDR | PTE_PRESENT | PTE_WRITE };
	uint64_t pdpt[512] = { 0 };
	uint64_t pd[512];
	int rc;

	for (unsigned int dir = 0; dir < 4; dir++) {
		gpa_t pd_addr = X86_PD_ADDR + dir * 0x1000ull;

		pdpt[dir] = pd_addr | PTE_PRESENT | PTE_WRITE;
		for (unsigned int i = 0; i < 512; i++)
			pd[i] = ((uint64_t)dir << 30) + ((uint64_t)i << 21) + (PTE_PRESENT | PTE_WRITE | PTE_HUGE);
		rc = gmem_write(m, pd_addr, pd, sizeof(pd));
		if (rc)
			return rc;
	}
	rc = gmem_write(m, X86_PDPT_ADDR, pdpt, sizeof(pdpt));
	return rc ? rc : gmem_write(m, X86_PML4_ADDR, pml4, sizeof(pml4));
}

int x86_write_boot_tables(const struct gmem *m, bool long_mode)
{
	int rc = write_gdt(m, long_mode);

	if (rc == 0 && long_mode)
		rc = write_page_tables(m);
	return rc;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type, bool code_long)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code_long ? 0 : 1,
		.s = 1,
		.l = code_long ? 1 : 0,
		.g = 1,
	};
}

void x86_boot_sregs(struct kvm_sregs *s, bool long_mode)
{
	struct kvm_segment data = flat_segment(X86_SEL_DATA, SEG_TYPE_DATA_RW, false);

	s->cs = flat_segment(X86_SEL_CODE, SEG_TYPE_CODE_RX, long_mode);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct kvm_segment){ .selector = X86_SEL_TSS, .limit = 0xfffff, .type = SEG_TYPE_TSS_BUSY,
				      .present = 1 };
	s->gdt.base = X86_GDT_ADDR;
	s->gdt.limit = 5 * 8 - 1;
	s->idt.base = X86_IDT_ADDR;
	s->idt.limit = 0;

	s->cr0 = CR0_PE | CR0_ET;
	s->cr4 = 0;
	s->efer = 0;
	if (long_mode) {
		s->cr0 |= CR0_PG;
		s->cr3 = X86_PML4_ADDR;
		s->cr4 |= CR4_PAE;
		s->efer |= EFER_LME | EFER_LMA;
	}
}

void x86_boot_regs(struct kvm_regs *r, bool long_mode, uint64_t ip, uint64_t boot_info)
{
	memset(r, 0, sizeof(*r));
	r->rflags = 0x2; /* bit 1 is reserved and always set; interrupts off */
	r->rip = ip;
	r->rsp = X86_BOOT_STACK_TOP;
	r->rbp = X86_BOOT_STACK_TOP;
	if (long_mode)
		r->rsi = boot_info; /* boot protocol: RSI = boot_params */
	else
		r->rbx = boot_info; /* PVH: EBX = hvm_start_info */
}
