/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the bzImage kernel loader (arch/x86/bzimage.c through x86_boot_load) on
 * crafted files, into a guest of 1-2 MiB of RAM (see boot_harness.h for the 4-byte header that
 * chooses the RAM size, the initrd and the command line).
 *
 * Input: the header, then the bzImage from its setup header (offset 0x1f1) on: the harness puts
 * 0x1f1 zero bytes (the boot sector, which the loader does not read) in front and "HdrS" at 0x202.
 *
 * Checks: an error is one line of a documented kind and wrote nothing outside the zero page, the
 * command line and RAM from 1 MiB. A success means the harness, reading the header on its own
 * (Documentation/arch/x86/boot.rst), agrees that the protocol is 2.12 or later with a 64-bit entry,
 * that the protected-mode kernel fits in RAM from 1 MiB and is there, that the kernel's runtime
 * area (pref_address, kernel_alignment, init_size) lies in RAM below the initrd, that the initrd
 * ends at or below initrd_addr_max and the command line is within cmdline_size; the zero page is
 * exactly the file's setup header with the loader's fields, the RSDP and the e820 map, and zeroes
 * elsewhere; RAM from 1 MiB outside the kernel and the initrd is untouched.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot_harness.h"

/* boot.rst, "THE REAL-MODE KERNEL HEADER": offsets in the file and in the zero page. */
#define BZ_HDR 0x1f1
#define BZ_SETUP_SECTS 0x1f1
#define BZ_JUMP_END 0x201
#define BZ_MAGIC 0x202
#define BZ_VERSION 0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS 0x211
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE 0x21c
#define BZ_HEAP_END_PTR 0x224
#define BZ_CMD_LINE_PTR 0x228
#define BZ_INITRD_ADDR_MAX 0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE 0x234
#define BZ_XLOADFLAGS 0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE 0x260
#define BZ_HDR_MIN_END 0x264 /* init_size is the last field the loader reads */
#define BZ_HDR_MAX_END 0x290 /* edd_mbr_sig_buffer follows the header's room in boot_params */
/* zero-page.rst */
#define ZP_ACPI_RSDP 0x070
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_ENTRY_SIZE 20
#define ZP_SIZE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void bz_put(uint8_t *p, unsigned int len, uint64_t v)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Where the kernel runs (boot.rst, init_size); it must lie in RAM. Returns its end. */
static gpa_t bz_runtime_end(const struct boot_run *r)
{
	uint64_t start = boot_file_get(r, BZ_PREF_ADDRESS, 8);
	uint64_t align = boot_file_get(r, BZ_KERNEL_ALIGNMENT, 4);
	uint64_t init_size = boot_file_get(r, BZ_INIT_SIZE, 4);

	if (boot_file_get(r, BZ_RELOCATABLE, 1) != 0) {
		boot_check(align != 0 && (align & (align - 1)) == 0);
		if (start < X86_HIGH_MEM_START)
			start = X86_HIGH_MEM_START;
		boot_check(start < r->ram_bytes);
		start = ALIGN_UP(start, align);
	}
	boot_check(start < r->ram_bytes && init_size <= r->ram_bytes - start);
	return start + init_size;
}

/* The protected-mode kernel is at 1 MiB; returns its size. */
static uint64_t bz_check_kernel(const struct boot_run *r)
{
	uint64_t setup_sects = boot_file_get(r, BZ_SETUP_SECTS, 1);
	uint64_t offset = ((setup_sects != 0 ? setup_sects : 4) + 1) * 512;
	uint64_t size;

	boot_check(boot_file_get(r, BZ_VERSION, 2) >= 0x020c);
	boot_check(boot_file_get(r, BZ_XLOADFLAGS, 2) & 0x01); /* XLF_KERNEL_64 */
	boot_check(offset < r->kernel_size);
	size = r->kernel_size - offset;
	boot_check(size <= r->ram_bytes - X86_HIGH_MEM_START);
	boot_check(memcmp(r->ram + X86_HIGH_MEM_START, r->kernel + offset, size) == 0);
	return size;
}

/* The zero page as the boot protocol says it must be, compared byte for byte. */
static void bz_check_zero_page(const struct boot_run *r, gpa_t initrd_gpa)
{
	uint8_t want[ZP_SIZE] = { 0 };
	uint64_t hdr_end = BZ_MAGIC + boot_file_get(r, BZ_JUMP_END, 1);

	boot_check(hdr_end >= BZ_HDR_MIN_END);
	if (hdr_end > BZ_HDR_MAX_END)
		hdr_end = BZ_HDR_MAX_END;
	boot_check(boot_file_has(r, BZ_HDR, hdr_end - BZ_HDR));
	memcpy(want + BZ_HDR, r->kernel + BZ_HDR, hdr_end - BZ_HDR);
	want[BZ_TYPE_OF_LOADER] = 0xff;
	want[BZ_LOADFLAGS] |= 0x81; /* LOADED_HIGH, CAN_USE_HEAP */
	bz_put(want + BZ_RAMDISK_IMAGE, 4, initrd_gpa);
	bz_put(want + BZ_RAMDISK_SIZE, 4, r->in.initrd_size);
	bz_put(want + BZ_HEAP_END_PTR, 2, 0xfe00);
	bz_put(want + BZ_CMD_LINE_PTR, 4, X86_CMDLINE_ADDR);
	bz_put(want + ZP_ACPI_RSDP, 8, r->in.rsdp_gpa);
	want[ZP_E820_ENTRIES] = 3;
	boot_check(memcmp(r->ram + X86_ZERO_PAGE_ADDR, want, ZP_E820_TABLE) == 0);
	boot_harness_check_e820(r, X86_ZERO_PAGE_ADDR + ZP_E820_TABLE, 3, ZP_E820_ENTRY_SIZE);
	boot_check(memcmp(r->ram + X86_ZERO_PAGE_ADDR + ZP_E820_TABLE + 3 * ZP_E820_ENTRY_SIZE,
			  want + ZP_E820_TABLE + 3 * ZP_E820_ENTRY_SIZE,
			  ZP_SIZE - ZP_E820_TABLE - 3 * ZP_E820_ENTRY_SIZE) == 0);
}

static void bz_check_loaded(const struct boot_run *r)
{
	const gpa_t zp = X86_ZERO_PAGE_ADDR;
	uint64_t kernel_size = bz_check_kernel(r);
	gpa_t lowest = bz_runtime_end(r);
	gpa_t initrd_gpa = boot_ram_get(r, zp + BZ_RAMDISK_IMAGE, 4);
	struct boot_range ranges[] = { { X86_HIGH_MEM_START, kernel_size },
				       { initrd_gpa, r->in.initrd_size } };

	boot_check(r->entry.mode == X86_ENTRY_LONG64 && r->entry.ip == X86_HIGH_MEM_START + 0x200 &&
		   r->entry.boot_info == zp);
	if (lowest < X86_HIGH_MEM_START + kernel_size)
		lowest = X86_HIGH_MEM_START + kernel_size;
	boot_harness_check_initrd(r, initrd_gpa, boot_ram_get(r, zp + BZ_RAMDISK_SIZE, 4), lowest);
	/* initrd_addr_max is the last byte the initrd may use. */
	if (r->in.initrd_size > 0)
		boot_check(initrd_gpa + r->in.initrd_size - 1 <= boot_file_get(r, BZ_INITRD_ADDR_MAX, 4));
	boot_check(r->cmdline_len <= boot_file_get(r, BZ_CMDLINE_SIZE, 4));
	boot_harness_check_cmdline(r);
	bz_check_zero_page(r, initrd_gpa);
	boot_harness_check_high(r, ranges, ARRAY_SIZE(ranges));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint8_t boot_sector[BZ_HDR];
	struct boot_run r;

	if (!boot_harness_load(&r, data, len, boot_sector, sizeof(boot_sector), BZ_MAGIC, "HdrS", 4))
		return 0;
	boot_harness_check_common(&r, X86_ZERO_PAGE_ADDR);
	if (r.ret == 0)
		bz_check_loaded(&r);
	boot_harness_free(&r);
	return 0;
}
