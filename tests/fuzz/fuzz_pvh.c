/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the PVH/ELF kernel loader (arch/x86/pvh.c through x86_boot_load) on crafted
 * files, into a guest of 1-2 MiB of RAM (see boot_harness.h for the 4-byte header that chooses the
 * RAM size, the initrd and the command line).
 *
 * Input: the header, then the ELF file from e_ident[EI_CLASS] on: the harness puts the 4-byte ELF
 * magic in front, so every input takes the PVH path.
 *
 * Checks: an error is one line of a documented kind and wrote nothing outside the boot block, the
 * command line and RAM from 1 MiB. A success means the harness, parsing the file on its own, agrees
 * that every PT_LOAD lies inside the file and in RAM from 1 MiB, and the entry inside one of them;
 * each segment that no later one overlaps holds its file bytes and a zeroed bss; RAM outside the
 * segments and the initrd is untouched; the hvm_start_info (magic, version, module list, command
 * line, RSDP, memory map) describes what was loaded.
 */
#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot_harness.h"

#define PVH_FUZZ_MAX_PHDRS 64 /* what pvh.c accepts; more is an error */
#define PVH_START_INFO_SIZE 0x38
#define PVH_MODLIST_ENTRY_SIZE 32
#define PVH_MEMMAP_ENTRY_SIZE 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

struct pvh_fuzz_seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct pvh_fuzz_elf {
	bool is64;
	uint64_t phoff;
	unsigned int phnum, phentsize;
	struct pvh_fuzz_seg segs[PVH_FUZZ_MAX_PHDRS];
};

/* The program headers, read by the harness's own code (gABI "Program Header"). */
static void pvh_fuzz_parse(const struct boot_run *r, struct pvh_fuzz_elf *e)
{
	e->is64 = boot_file_get(r, EI_CLASS, 1) == ELFCLASS64;
	e->phoff = e->is64 ? boot_file_get(r, offsetof(Elf64_Ehdr, e_phoff), 8)
			   : boot_file_get(r, offsetof(Elf32_Ehdr, e_phoff), 4);
	e->phnum = (unsigned int)(e->is64 ? boot_file_get(r, offsetof(Elf64_Ehdr, e_phnum), 2)
					  : boot_file_get(r, offsetof(Elf32_Ehdr, e_phnum), 2));
	e->phentsize = e->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	/* A loaded file has its program headers inside it, and not too many. */
	boot_check(e->phnum <= PVH_FUZZ_MAX_PHDRS);
	boot_check(boot_file_has(r, e->phoff, (uint64_t)e->phnum * e->phentsize));
	for (unsigned int i = 0; i < e->phnum; i++) {
		uint64_t ph = e->phoff + (uint64_t)i * e->phentsize;
		struct pvh_fuzz_seg *s = &e->segs[i];

		s->type = (uint32_t)boot_file_get(r, ph, 4);
		if (e->is64) {
			s->offset = boot_file_get(r, ph + offsetof(Elf64_Phdr, p_offset), 8);
			s->paddr = boot_file_get(r, ph + offsetof(Elf64_Phdr, p_paddr), 8);
			s->filesz = boot_file_get(r, ph + offsetof(Elf64_Phdr, p_filesz), 8);
			s->memsz = boot_file_get(r, ph + offsetof(Elf64_Phdr, p_memsz), 8);
		} else {
			s->offset = boot_file_get(r, ph + offsetof(Elf32_Phdr, p_offset), 4);
			s->paddr = boot_file_get(r, ph + offsetof(Elf32_Phdr, p_paddr), 4);
			s->filesz = boot_file_get(r, ph + offsetof(Elf32_Phdr, p_filesz), 4);
			s->memsz = boot_file_get(r, ph + offsetof(Elf32_Phdr, p_memsz), 4);
		}
	}
}

static bool pvh_fuzz_overlap(const struct pvh_fuzz_seg *a, const struct pvh_fuzz_seg *b)
{
	return a->paddr < b->paddr + b->memsz && b->paddr < a->paddr + a->memsz;
}

/* Segment i holds its file bytes and zeroes, unless a later PT_LOAD was written over it. */
static void pvh_fuzz_check_contents(const struct boot_run *r, const struct pvh_fuzz_elf *e, unsigned int i)
{
	const struct pvh_fuzz_seg *s = &e->segs[i];

	for (unsigned int j = i + 1; j < e->phnum; j++)
		if (e->segs[j].type == PT_LOAD && pvh_fuzz_overlap(s, &e->segs[j]))
			return;
	boot_check(memcmp(r->ram + s->paddr, r->kernel + s->offset, s->filesz) == 0);
	for (uint64_t k = s->filesz; k < s->memsz; k++)
		boot_check(r->ram[s->paddr + k] == 0);
}

/* Every PT_LOAD is in the file and RAM from 1 MiB; returns the end of the highest. */
static gpa_t pvh_fuzz_check_segments(const struct boot_run *r, const struct pvh_fuzz_elf *e,
				     struct boot_range *ranges, unsigned int *n)
{
	gpa_t kernel_end = 0;
	bool entry_loaded = false;

	for (unsigned int i = 0; i < e->phnum; i++) {
		const struct pvh_fuzz_seg *s = &e->segs[i];

		if (s->type != PT_LOAD)
			continue;
		boot_check(boot_file_has(r, s->offset, s->filesz) && s->filesz <= s->memsz);
		boot_check(s->paddr >= X86_HIGH_MEM_START && s->paddr < r->ram_bytes &&
			   s->memsz <= r->ram_bytes - s->paddr);
		if (r->entry.ip >= s->paddr && r->entry.ip - s->paddr < s->memsz)
			entry_loaded = true;
		if (s->paddr + s->memsz > kernel_end)
			kernel_end = s->paddr + s->memsz;
		ranges[(*n)++] = (struct boot_range){ s->paddr, s->memsz };
		pvh_fuzz_check_contents(r, e, i);
	}
	boot_check(entry_loaded);
	return kernel_end;
}

/* hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) and the tables it points to. */
static void pvh_fuzz_check_start_info(const struct boot_run *r, gpa_t kernel_end,
				      struct boot_range *initrd)
{
	const gpa_t si = X86_PVH_START_INFO_ADDR;
	const gpa_t block_end = X86_ZERO_PAGE_ADDR;
	uint64_t nr_modules = boot_ram_get(r, si + 0x0c, 4);
	uint64_t memmap = boot_ram_get(r, si + 0x28, 8);
	uint64_t memmap_entries = boot_ram_get(r, si + 0x30, 4);

	boot_check(boot_ram_get(r, si, 4) == 0x336ec578); /* magic */
	boot_check(boot_ram_get(r, si + 0x04, 4) == 1);   /* version */
	boot_check(boot_ram_get(r, si + 0x08, 4) == 0);   /* flags */
	boot_check(boot_ram_get(r, si + 0x18, 8) == X86_CMDLINE_ADDR);
	boot_check(boot_ram_get(r, si + 0x20, 8) == r->in.rsdp_gpa);
	boot_check(memmap >= si + PVH_START_INFO_SIZE && memmap < block_end &&
		   memmap_entries <= (block_end - memmap) / PVH_MEMMAP_ENTRY_SIZE);
	boot_harness_check_e820(r, memmap, memmap_entries, PVH_MEMMAP_ENTRY_SIZE);
	boot_check(nr_modules == (r->in.initrd_size > 0));
	if (nr_modules == 0) {
		boot_harness_check_initrd(r, 0, 0, kernel_end);
		return;
	}
	uint64_t modlist = boot_ram_get(r, si + 0x10, 8);

	boot_check(modlist >= si + PVH_START_INFO_SIZE && modlist < block_end &&
		   block_end - modlist >= PVH_MODLIST_ENTRY_SIZE);
	*initrd = (struct boot_range){ boot_ram_get(r, modlist, 8), boot_ram_get(r, modlist + 8, 8) };
	boot_harness_check_initrd(r, initrd->start, initrd->size, kernel_end);
	boot_check(boot_ram_get(r, modlist + 16, 8) == 0); /* no module command line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint8_t magic[SELFMAG] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3 };
	static struct pvh_fuzz_elf elf;
	struct boot_range ranges[PVH_FUZZ_MAX_PHDRS + 1] = { { 0, 0 } };
	unsigned int n = 0;
	struct boot_run r;
	gpa_t kernel_end;

	if (!boot_harness_load(&r, data, len, magic, sizeof(magic), 0, NULL, 0))
		return 0;
	boot_harness_check_common(&r, X86_PVH_START_INFO_ADDR);
	if (r.ret == 0) {
		boot_check(r.entry.mode == X86_ENTRY_PVH32 && r.entry.boot_info == X86_PVH_START_INFO_ADDR);
		pvh_fuzz_parse(&r, &elf);
		kernel_end = pvh_fuzz_check_segments(&r, &elf, ranges, &n);
		pvh_fuzz_check_start_info(&r, kernel_end, &ranges[n++]);
		boot_harness_check_cmdline(&r);
		boot_harness_check_high(&r, ranges, n);
	}
	boot_harness_free(&r);
	return 0;
}
