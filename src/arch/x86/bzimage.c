/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux bzImage through the 64-bit boot protocol (Documentation/arch/x86/boot.rst, "64-bit BOOT
 * PROTOCOL"): the protected-mode kernel goes to 1 MiB, a zero page (struct boot_params) carries
 * the setup header, command line, initrd, RSDP and e820 map, and the vCPU starts at 1 MiB + 0x200.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/boot_internal.h"
#include "arch/x86/layout.h"

#define BZIMAGE_HDR_OFFSET 0x1f1
#define BZIMAGE_HDR_JUMP_OFFSET 0x201 /* the jump's displacement: the header's end is 0x202 + it */
#define BZIMAGE_HDR_MAGIC_OFFSET 0x202
#define BZIMAGE_HDR_MAGIC "HdrS"
#define BZIMAGE_MIN_VERSION 0x020c /* 2.12: xloadflags, so the 64-bit entry can be checked */
#define BZIMAGE_SECTOR 512
#define BZIMAGE_64BIT_ENTRY_OFFSET 0x200

/* boot.rst: loadflags */
#define BZIMAGE_LOADED_HIGH 0x01
#define BZIMAGE_CAN_USE_HEAP 0x80
/* boot.rst: xloadflags */
#define BZIMAGE_XLF_KERNEL_64 0x01
/* boot.rst: type_of_loader 0xff, "undefined" (no assigned boot loader id). */
#define BZIMAGE_LOADER_UNDEFINED 0xff
/*
 * boot.rst: heap_end_ptr is the end of the setup heap/stack from the start of the real-mode code,
 * minus 0x200. The 64-bit entry skips the real-mode code, so this only keeps its conventional 64 KiB
 * segment described.
 */
#define BZIMAGE_HEAP_END_PTR 0xfe00
#define BZIMAGE_E820_MAX 128
_Static_assert(X86_E820_MAX_ENTRIES <= BZIMAGE_E820_MAX, "the e820 map fits in boot_params");

/* The setup header, as in boot_params at 0x1f1 (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
struct bzimage_setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct bzimage_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The zero page (Documentation/arch/x86/zero-page.rst); only the fields kiln writes are named. */
struct bzimage_boot_params {
	uint8_t pad0[0x070];
	uint64_t acpi_rsdp_addr;
	uint8_t pad1[0x1e8 - 0x078];
	uint8_t e820_entries;
	uint8_t pad2[0x1f1 - 0x1e9];
	struct bzimage_setup_header hdr;
	uint8_t hdr_room[0x290 - 0x26c]; /* for setup header fields newer than kernel_info_offset */
	uint8_t edd_mbr_sig_buffer[0x2d0 - 0x290];
	struct bzimage_e820_entry e820_table[BZIMAGE_E820_MAX];
	uint8_t pad4[0x1000 - 0xcd0];
} __attribute__((packed));

#define BP_AT(field, off) _Static_assert(offsetof(struct bzimage_boot_params, field) == (off), #field)
BP_AT(acpi_rsdp_addr, 0x070);
BP_AT(e820_entries, 0x1e8);
BP_AT(hdr, BZIMAGE_HDR_OFFSET);
BP_AT(hdr.setup_sects, 0x1f1);
BP_AT(hdr.jump, 0x200);
BP_AT(hdr.header, 0x202);
BP_AT(hdr.version, 0x206);
BP_AT(hdr.type_of_loader, 0x210);
BP_AT(hdr.loadflags, 0x211);
BP_AT(hdr.ramdisk_image, 0x218);
BP_AT(hdr.ramdisk_size, 0x21c);
BP_AT(hdr.heap_end_ptr, 0x224);
BP_AT(hdr.cmd_line_ptr, 0x228);
BP_AT(hdr.initrd_addr_max, 0x22c);
BP_AT(hdr.kernel_alignment, 0x230);
BP_AT(hdr.relocatable_kernel, 0x234);
BP_AT(hdr.xloadflags, 0x236);
BP_AT(hdr.cmdline_size, 0x238);
BP_AT(hdr.pref_address, 0x258);
BP_AT(hdr.init_size, 0x260);
BP_AT(hdr.kernel_info_offset, 0x268);
BP_AT(edd_mbr_sig_buffer, 0x290);
BP_AT(e820_table, 0x2d0);
_Static_assert(sizeof(struct bzimage_boot_params) == 0x1000, "boot_params is one page");
_Static_assert(sizeof(struct bzimage_e820_entry) == 20, "e820 entries are 20 bytes");

/* The header must reach the last field kiln reads: init_size (protocol 2.10). */
#define BZIMAGE_HDR_MIN_END (offsetof(struct bzimage_boot_params, hdr.init_size) + sizeof(uint32_t))

/* Where the parts of the image go, from the header. */
struct bzimage_layout {
	uint64_t kernel_offset; /* file offset of the protected-mode kernel */
	uint64_t kernel_size;
	gpa_t kernel_end; /* end of what the kernel uses before it reads the memory map */
};

bool bzimage_detect(const uint8_t *file, size_t size)
{
	return x86_boot_file_has(size, BZIMAGE_HDR_MAGIC_OFFSET, 4) &&
	       memcmp(file + BZIMAGE_HDR_MAGIC_OFFSET, BZIMAGE_HDR_MAGIC, 4) == 0;
}

/*
 * Copies the file's setup header into bp. 64-bit boot protocol: it ends at 0x202 + the byte at 0x201.
 * Fields past what kiln names are kept as the kernel wrote them.
 */
static int bzimage_copy_header(const struct x86_boot_ctx *ctx, struct bzimage_boot_params *bp)
{
	const uint8_t *file = ctx->in->kernel;
	size_t size = ctx->in->kernel_size;
	uint64_t hdr_end;

	if (!x86_boot_file_has(size, BZIMAGE_HDR_JUMP_OFFSET, 1))
		return x86_boot_err(ctx, -ENOEXEC, "truncated bzImage: no setup header");
	hdr_end = BZIMAGE_HDR_MAGIC_OFFSET + (uint64_t)file[BZIMAGE_HDR_JUMP_OFFSET];
	if (hdr_end < BZIMAGE_HDR_MIN_END)
		return x86_boot_err(ctx, -ENOEXEC, "corrupt bzImage: setup header ends at 0x%" PRIx64,
				    hdr_end);
	if (hdr_end > offsetof(struct bzimage_boot_params, edd_mbr_sig_buffer))
		hdr_end = offsetof(struct bzimage_boot_params, edd_mbr_sig_buffer);
	if (!x86_boot_file_has(size, BZIMAGE_HDR_OFFSET, hdr_end - BZIMAGE_HDR_OFFSET))
		return x86_boot_err(ctx, -ENOEXEC, "truncated bzImage: setup header ends at 0x%" PRIx64,
				    hdr_end);
	memcpy((uint8_t *)bp + BZIMAGE_HDR_OFFSET, file + BZIMAGE_HDR_OFFSET, hdr_end - BZIMAGE_HDR_OFFSET);
	return 0;
}

static int bzimage_check_header(const struct x86_boot_ctx *ctx, const struct bzimage_setup_header *h)
{
	if (h->version < BZIMAGE_MIN_VERSION)
		return x86_boot_err(ctx, -ENOEXEC,
				    "Linux boot protocol %u.%02u is too old: kiln needs 2.12 or later",
				    h->version >> 8, h->version & 0xff);
	if (!(h->xloadflags & BZIMAGE_XLF_KERNEL_64))
		return x86_boot_err(ctx, -ENOEXEC,
				    "bzImage has no 64-bit entry point (XLF_KERNEL_64 not set in xloadflags)");
	if (h->relocatable_kernel &&
	    (h->kernel_alignment == 0 || (h->kernel_alignment & (h->kernel_alignment - 1)) != 0))
		return x86_boot_err(ctx, -ENOEXEC, "corrupt bzImage: kernel_alignment 0x%x",
				    h->kernel_alignment);
	return 0;
}

/*
 * Where the kernel runs: boot.rst, init_size: "if (relocatable_kernel) { if (load_address <
 * pref_address) load_address = pref_address; runtime_start = align_up(load_address,
 * kernel_alignment); } else runtime_start = pref_address". It needs init_size bytes from there
 * before it reads the memory map, so that much must be RAM, and the initrd must stay above it.
 */
static int bzimage_runtime_end(const struct x86_boot_ctx *ctx, const struct bzimage_setup_header *h,
			       gpa_t *end)
{
	uint64_t start = h->pref_address;

	if (h->relocatable_kernel) {
		if (start < X86_HIGH_MEM_START)
			start = X86_HIGH_MEM_START;
		/* Bounded first so that aligning (by at most 4 GiB) cannot overflow. */
		if (start < ctx->low_ram_end)
			start = ALIGN_UP(start, h->kernel_alignment);
	}
	if (start >= ctx->low_ram_end || h->init_size > ctx->low_ram_end - start)
		return x86_boot_err(ctx, -ENOSPC,
				    "the kernel needs RAM up to 0x%" PRIx64 " + 0x%x (init_size), but low RAM "
				    "ends at 0x%" PRIx64 "; give the VM more memory",
				    start, h->init_size, ctx->low_ram_end);
	*end = start + h->init_size;
	return 0;
}

static int bzimage_plan(const struct x86_boot_ctx *ctx, const struct bzimage_setup_header *h,
			struct bzimage_layout *lay)
{
	uint64_t setup_sects = h->setup_sects != 0 ? h->setup_sects : 4; /* boot.rst: 0 means 4 */
	size_t file_size = ctx->in->kernel_size;
	int ret;

	lay->kernel_offset = (setup_sects + 1) * BZIMAGE_SECTOR;
	if (lay->kernel_offset >= file_size)
		return x86_boot_err(ctx, -ENOEXEC,
				    "truncated bzImage: %zu bytes, its protected-mode kernel starts at 0x%" PRIx64,
				    file_size, lay->kernel_offset);
	lay->kernel_size = file_size - lay->kernel_offset;
	if (lay->kernel_size > ctx->low_ram_end - X86_HIGH_MEM_START)
		return x86_boot_err(ctx, -ENOSPC,
				    "kernel of %" PRIu64 " MiB does not fit in low RAM from 1 MiB to 0x%" PRIx64,
				    lay->kernel_size >> 20, ctx->low_ram_end);
	ret = bzimage_runtime_end(ctx, h, &lay->kernel_end);
	if (ret < 0)
		return ret;
	if (lay->kernel_end < X86_HIGH_MEM_START + lay->kernel_size)
		lay->kernel_end = X86_HIGH_MEM_START + lay->kernel_size;
	return 0;
}

/* What the loader writes into the zero page (boot.rst: "write" fields of the setup header). */
static void bzimage_fill_boot_params(const struct x86_boot_ctx *ctx, struct bzimage_boot_params *bp,
				     gpa_t initrd_gpa)
{
	bp->hdr.type_of_loader = BZIMAGE_LOADER_UNDEFINED;
	bp->hdr.loadflags |= BZIMAGE_LOADED_HIGH | BZIMAGE_CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = BZIMAGE_HEAP_END_PTR;
	bp->hdr.cmd_line_ptr = (uint32_t)X86_CMDLINE_ADDR;
	/* The initrd lies below initrd_addr_max (< 4 GiB), so the 32-bit fields hold it. */
	bp->hdr.ramdisk_image = (uint32_t)initrd_gpa;
	bp->hdr.ramdisk_size = (uint32_t)ctx->in->initrd_size;
	bp->acpi_rsdp_addr = ctx->in->rsdp_gpa; /* boot protocol 2.14: acpi_rsdp_addr */
	for (unsigned int i = 0; i < ctx->e820_count; i++)
		bp->e820_table[i] = (struct bzimage_e820_entry){ ctx->e820[i].addr, ctx->e820[i].size,
								 ctx->e820[i].type };
	bp->e820_entries = (uint8_t)ctx->e820_count;
}

int bzimage_load(const struct x86_boot_ctx *ctx, struct x86_entry *entry)
{
	struct bzimage_boot_params bp;
	struct bzimage_layout lay = { 0 };
	gpa_t initrd_gpa;
	int ret;

	memset(&bp, 0, sizeof(bp));
	ret = bzimage_copy_header(ctx, &bp);
	if (ret == 0)
		ret = bzimage_check_header(ctx, &bp.hdr);
	if (ret == 0)
		ret = bzimage_plan(ctx, &bp.hdr, &lay);
	if (ret < 0)
		return ret;
	if (gmem_write(ctx->m, X86_HIGH_MEM_START, ctx->in->kernel + lay.kernel_offset, lay.kernel_size) < 0)
		return x86_boot_err(ctx, -EFAULT, "guest RAM does not hold the kernel at 1 MiB");
	ret = x86_boot_load_cmdline(ctx, bp.hdr.cmdline_size);
	if (ret < 0)
		return ret;
	/* initrd_addr_max is the highest address the initrd may touch: its end is at most that + 1. */
	ret = x86_boot_load_initrd(ctx, lay.kernel_end, (uint64_t)bp.hdr.initrd_addr_max + 1, &initrd_gpa);
	if (ret < 0)
		return ret;
	bzimage_fill_boot_params(ctx, &bp, initrd_gpa);
	if (gmem_write(ctx->m, X86_ZERO_PAGE_ADDR, &bp, sizeof(bp)) < 0)
		return x86_boot_err(ctx, -EFAULT, "guest RAM does not hold boot_params at 0x%llx",
				    X86_ZERO_PAGE_ADDR);
	*entry = (struct x86_entry){
		.mode = X86_ENTRY_LONG64,
		.ip = X86_HIGH_MEM_START + BZIMAGE_64BIT_ENTRY_OFFSET,
		.boot_info = X86_ZERO_PAGE_ADDR,
	};
	return 0;
}
