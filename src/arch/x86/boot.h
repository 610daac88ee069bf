/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The x86 kernel loader: a Linux bzImage (64-bit boot protocol) or an ELF with a PVH entry note
 * (a vmlinux, or one of the tiny test guests), its initrd and command line, and the boot
 * structures that describe the machine to it (boot_params or hvm_start_info, with the e820 map).
 */
#ifndef KILN_ARCH_X86_BOOT_H
#define KILN_ARCH_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "mem/gmem.h"
#include "util.h"

enum x86_entry_mode {
	X86_ENTRY_LONG64, /* bzImage: 64-bit mode, identity-mapped paging, RSI = boot_params */
	X86_ENTRY_PVH32,  /* PVH: 32-bit protected mode, paging off, EBX = hvm_start_info */
};

/* Where and how the vCPU starts. */
struct x86_entry {
	enum x86_entry_mode mode;
	uint64_t ip;     /* LONG64: load address + 0x200; PVH32: the PHYS32_ENTRY note's value */
	gpa_t boot_info; /* LONG64: boot_params (goes in RSI); PVH32: hvm_start_info (goes in EBX) */
};

struct x86_boot_input {
	const uint8_t *kernel; /* the whole file in memory */
	size_t kernel_size;
	const uint8_t *initrd; /* NULL/0 if none */
	size_t initrd_size;
	const char *cmdline; /* NULL means empty */
	uint64_t ram_bytes;  /* as given to x86_ram_ranges() */
	gpa_t rsdp_gpa;      /* 0 if no ACPI */
};

/*
 * Loads the kernel (bzImage or PVH ELF), initrd and command line into guest RAM and writes
 * boot_params or hvm_start_info with the e820 map. Nothing in the files is trusted. Returns 0, or
 * -errno with one line (no newline) in err: -ENOEXEC for a file that is not a kernel kiln can boot
 * (or is truncated or corrupt), -E2BIG for a command line that is too long, -ENOSPC when the kernel
 * or initrd does not fit in RAM, -EINVAL for a bad input.
 */
int x86_boot_load(const struct gmem *m, const struct x86_boot_input *in, struct x86_entry *entry,
		  char *err, size_t errlen) MUST_CHECK;

/* Memory map entry types (ACPI 6.5 §15.1, shared by e820 and hvm_memmap_table_entry). */
#define X86_E820_RAM 1
#define X86_E820_RESERVED 2

/* At most: low RAM, the EBDA/BIOS hole, RAM from 1 MiB, RAM above 4 GiB. */
#define X86_E820_MAX_ENTRIES 4

struct x86_e820_entry {
	gpa_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * The guest's memory map for ram_bytes of RAM: RAM [0, EBDA), reserved [EBDA, 1 MiB), RAM [1 MiB,
 * end of low RAM), and RAM above 4 GiB when there is any. Returns the number of entries, or
 * -EINVAL when ram_bytes leaves no RAM above 1 MiB.
 */
int x86_e820_build(uint64_t ram_bytes, struct x86_e820_entry out[X86_E820_MAX_ENTRIES]) MUST_CHECK;

#endif
