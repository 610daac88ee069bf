/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PVH boot of an ELF kernel (a Linux vmlinux, or a tiny test guest): the PT_LOAD segments go to
 * their physical addresses, the XEN_ELFNOTE_PHYS32_ENTRY note gives the 32-bit entry point, and a
 * struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) describes the command line,
 * the initrd (module 0), the RSDP and the memory map. Every header is read from the file with its
 * offset and size checked first; nothing in it is trusted.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/boot_internal.h"
#include "arch/x86/layout.h"

/* xen/include/public/elfnote.h: the physical 32-bit entry point (protected mode, paging off). */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_NOTE_NAME "Xen"
#define PVH_MAX_PHDRS 64 /* a vmlinux has 5; more means a corrupt or hostile file */

/* xen/include/public/arch-x86/hvm/start_info.h */
#define HVM_START_MAGIC 0x336ec578
#define HVM_START_VERSION 1 /* the first with memmap_paddr/memmap_entries */

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(offsetof(struct hvm_start_info, nr_modules) == 0x0c, "start_info.h");
_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 0x10, "start_info.h");
_Static_assert(offsetof(struct hvm_start_info, cmdline_paddr) == 0x18, "start_info.h");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == 0x20, "start_info.h");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 0x28, "start_info.h");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 0x30, "start_info.h");
_Static_assert(sizeof(struct hvm_start_info) == 0x38, "start_info.h");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "start_info.h");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "start_info.h");

/* What kiln writes at X86_PVH_START_INFO_ADDR: the start info, then its module list and memory map. */
struct pvh_boot_block {
	struct hvm_start_info info;
	struct hvm_modlist_entry modules[1];
	struct hvm_memmap_table_entry memmap[X86_E820_MAX_ENTRIES];
};
_Static_assert(X86_PVH_START_INFO_ADDR + sizeof(struct pvh_boot_block) <= X86_ZERO_PAGE_ADDR,
	       "the PVH boot block fits below the zero page");

/* An ELF file of either class, its ELF header checked. */
struct pvh_elf {
	const uint8_t *file;
	size_t size;
	bool is64;
	uint64_t phoff;
	unsigned int phnum;
};

/* One program header, widened to 64 bits. */
struct pvh_segment {
	uint32_t type;
	uint64_t offset;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

/* What the program headers say. */
struct pvh_image {
	bool has_entry;
	gpa_t entry;
	gpa_t kernel_end; /* end of the highest PT_LOAD segment */
};

bool pvh_detect(const uint8_t *file, size_t size)
{
	return size >= SELFMAG && memcmp(file, ELFMAG, SELFMAG) == 0;
}

/* Reads the class-specific ELF header fields kiln uses: machine, type, and the program headers. */
static int pvh_read_ehdr(const struct x86_boot_ctx *ctx, struct pvh_elf *elf, uint16_t *type,
			 uint16_t *phentsize)
{
	if (elf->is64) {
		Elf64_Ehdr eh;

		if (elf->size < sizeof(eh))
			return x86_boot_err(ctx, -ENOEXEC, "truncated ELF: no ELF header");
		memcpy(&eh, elf->file, sizeof(eh));
		if (eh.e_machine != EM_X86_64)
			return x86_boot_err(ctx, -ENOEXEC, "ELF64 file is not for x86-64");
		*type = eh.e_type;
		*phentsize = eh.e_phentsize;
		elf->phoff = eh.e_phoff;
		elf->phnum = eh.e_phnum;
	} else {
		Elf32_Ehdr eh;

		if (elf->size < sizeof(eh))
			return x86_boot_err(ctx, -ENOEXEC, "truncated ELF: no ELF header");
		memcpy(&eh, elf->file, sizeof(eh));
		if (eh.e_machine != EM_386)
			return x86_boot_err(ctx, -ENOEXEC, "ELF32 file is not for i386");
		*type = eh.e_type;
		*phentsize = eh.e_phentsize;
		elf->phoff = eh.e_phoff;
		elf->phnum = eh.e_phnum;
	}
	return 0;
}

static int pvh_open_elf(const struct x86_boot_ctx *ctx, struct pvh_elf *elf)
{
	const uint8_t *ident = ctx->in->kernel;
	uint16_t type = 0, phentsize = 0;
	int ret;

	elf->file = ctx->in->kernel;
	elf->size = ctx->in->kernel_size;
	if (elf->size < EI_NIDENT)
		return x86_boot_err(ctx, -ENOEXEC, "truncated ELF: no ELF header");
	if ((ident[EI_CLASS] != ELFCLASS64 && ident[EI_CLASS] != ELFCLASS32) ||
	    ident[EI_DATA] != ELFDATA2LSB || ident[EI_VERSION] != EV_CURRENT)
		return x86_boot_err(ctx, -ENOEXEC, "ELF file is not little-endian ELF32 or ELF64");
	elf->is64 = ident[EI_CLASS] == ELFCLASS64;
	ret = pvh_read_ehdr(ctx, elf, &type, &phentsize);
	if (ret < 0)
		return ret;
	if (type != ET_EXEC)
		return x86_boot_err(ctx, -ENOEXEC, "ELF file is not an executable (e_type %u)", type);
	if (elf->phnum == 0 || elf->phnum > PVH_MAX_PHDRS)
		return x86_boot_err(ctx, -ENOEXEC, "ELF file has %u program headers", elf->phnum);
	if (phentsize != (elf->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return x86_boot_err(ctx, -ENOEXEC, "corrupt ELF: program header size %u", phentsize);
	if (!x86_boot_file_has(elf->size, elf->phoff, (uint64_t)elf->phnum * phentsize))
		return x86_boot_err(ctx, -ENOEXEC,
				    "truncated ELF: program headers at 0x%" PRIx64 " run past its end",
				    elf->phoff);
	return 0;
}

/* Program header i (i < phnum; pvh_open_elf() has checked they all lie inside the file). */
static struct pvh_segment pvh_segment_at(const struct pvh_elf *elf, unsigned int i)
{
	if (elf->is64) {
		Elf64_Phdr ph;

		memcpy(&ph, elf->file + elf->phoff + i * sizeof(ph), sizeof(ph));
		return (struct pvh_segment){ ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz,
					     ph.p_align };
	}
	Elf32_Phdr ph;

	memcpy(&ph, elf->file + elf->phoff + i * sizeof(ph), sizeof(ph));
	return (struct pvh_segment){ ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz,
				     ph.p_align };
}

/* A PT_LOAD segment must come from the file and land in RAM between 1 MiB and the end of low RAM. */
static int pvh_check_load(const struct x86_boot_ctx *ctx, const struct pvh_elf *elf,
			  const struct pvh_segment *seg)
{
	if (!x86_boot_file_has(elf->size, seg->offset, seg->filesz))
		return x86_boot_err(ctx, -ENOEXEC,
				    "truncated ELF: segment at file offset 0x%" PRIx64 " runs past its end",
				    seg->offset);
	if (seg->filesz > seg->memsz)
		return x86_boot_err(ctx, -ENOEXEC, "corrupt ELF: segment with filesz > memsz");
	if (seg->paddr < X86_HIGH_MEM_START || seg->paddr >= ctx->low_ram_end ||
	    seg->memsz > ctx->low_ram_end - seg->paddr)
		return x86_boot_err(ctx, -ENOSPC,
				    "ELF segment at 0x%" PRIx64 " (0x%" PRIx64 " bytes) is outside guest RAM "
				    "from 1 MiB to 0x%" PRIx64,
				    seg->paddr, seg->memsz, ctx->low_ram_end);
	return 0;
}

static bool pvh_is_entry_note(const Elf64_Nhdr *nh, const uint8_t *name)
{
	return nh->n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh->n_namesz == sizeof(PVH_NOTE_NAME) &&
	       memcmp(name, PVH_NOTE_NAME, sizeof(PVH_NOTE_NAME)) == 0;
}

/* The note's value: 4 bytes (the Xen ABI) or 8 (Linux's vmlinux uses _ASM_PTR), below 4 GiB. */
static int pvh_read_entry(const struct x86_boot_ctx *ctx, const Elf64_Nhdr *nh, const uint8_t *desc,
			  struct pvh_image *img)
{
	uint32_t entry32;
	uint64_t entry;

	if (nh->n_descsz == sizeof(entry32)) {
		memcpy(&entry32, desc, sizeof(entry32));
		entry = entry32;
	} else if (nh->n_descsz == sizeof(entry)) {
		memcpy(&entry, desc, sizeof(entry));
	} else {
		return x86_boot_err(ctx, -ENOEXEC, "corrupt PVH entry note: %u-byte value", nh->n_descsz);
	}
	if (entry >= X86_MMIO_HOLE_END)
		return x86_boot_err(ctx, -ENOEXEC, "PVH entry 0x%" PRIx64 " is not a 32-bit address", entry);
	img->has_entry = true;
	img->entry = entry;
	return 0;
}

/*
 * Walks the notes of a PT_NOTE segment (ELF gABI, "Note Section": namesz, descsz, type, then the
 * name and the descriptor, each padded to the segment's alignment) for the PVH entry.
 */
static int pvh_scan_notes(const struct x86_boot_ctx *ctx, const struct pvh_elf *elf,
			  const struct pvh_segment *seg, struct pvh_image *img)
{
	uint64_t align = seg->align == 8 ? 8 : 4;
	uint64_t left = seg->filesz;
	const uint8_t *p;

	/* Checked before the pointer is formed: file + an offset past its end is undefined (C11 §6.5.6). */
	if (!x86_boot_file_has(elf->size, seg->offset, seg->filesz))
		return x86_boot_err(ctx, -ENOEXEC, "truncated ELF: notes at 0x%" PRIx64 " run past its end",
				    seg->offset);
	p = elf->file + seg->offset;
	/* Elf32_Nhdr and Elf64_Nhdr are the same three 32-bit words. */
	while (left >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_len, desc_len;
		int ret;

		memcpy(&nh, p, sizeof(nh));
		p += sizeof(nh);
		left -= sizeof(nh);
		name_len = ALIGN_UP((uint64_t)nh.n_namesz, align);
		desc_len = ALIGN_UP((uint64_t)nh.n_descsz, align);
		if (name_len > left || nh.n_descsz > left - name_len)
			return x86_boot_err(ctx, -ENOEXEC,
					    "corrupt ELF note: its sizes run past its PT_NOTE segment");
		if (!img->has_entry && pvh_is_entry_note(&nh, p)) {
			ret = pvh_read_entry(ctx, &nh, p + name_len, img);
			if (ret < 0)
				return ret;
		}
		/* The last descriptor's padding may be missing. */
		if (desc_len > left - name_len)
			desc_len = left - name_len;
		p += name_len + desc_len;
		left -= name_len + desc_len;
	}
	return 0;
}

static bool pvh_entry_is_loaded(const struct pvh_elf *elf, gpa_t entry)
{
	for (unsigned int i = 0; i < elf->phnum; i++) {
		struct pvh_segment seg = pvh_segment_at(elf, i);

		if (seg.type == PT_LOAD && entry >= seg.paddr && entry - seg.paddr < seg.memsz)
			return true;
	}
	return false;
}

/* Checks every program header and finds the entry point and the kernel's end; writes nothing. */
static int pvh_scan(const struct x86_boot_ctx *ctx, const struct pvh_elf *elf, struct pvh_image *img)
{
	int ret = 0;

	*img = (struct pvh_image){ .kernel_end = 0 };
	for (unsigned int i = 0; i < elf->phnum && ret == 0; i++) {
		struct pvh_segment seg = pvh_segment_at(elf, i);

		if (seg.type == PT_LOAD) {
			ret = pvh_check_load(ctx, elf, &seg);
			if (ret == 0 && seg.paddr + seg.memsz > img->kernel_end)
				img->kernel_end = seg.paddr + seg.memsz;
		} else if (seg.type == PT_NOTE) {
			ret = pvh_scan_notes(ctx, elf, &seg, img);
		}
	}
	if (ret < 0)
		return ret;
	if (img->kernel_end == 0)
		return x86_boot_err(ctx, -ENOEXEC, "ELF file has nothing to load (no PT_LOAD segment)");
	if (!img->has_entry)
		return x86_boot_err(ctx, -ENOEXEC,
				    "not a Linux bzImage or an ELF with a PVH entry note "
				    "(no XEN_ELFNOTE_PHYS32_ENTRY)");
	if (!pvh_entry_is_loaded(elf, img->entry))
		return x86_boot_err(ctx, -ENOEXEC, "PVH entry 0x%" PRIx64 " is outside the loaded segments",
				    img->entry);
	return 0;
}

/* Copies a PT_LOAD segment (checked by pvh_scan()) to its physical address and zeroes its bss. */
static int pvh_copy_segment(const struct x86_boot_ctx *ctx, const struct pvh_elf *elf,
			    const struct pvh_segment *seg)
{
	uint64_t bss_len = seg->memsz - seg->filesz;
	uint8_t *bss;

	if (gmem_write(ctx->m, seg->paddr, elf->file + seg->offset, seg->filesz) < 0)
		return x86_boot_err(ctx, -EFAULT, "guest RAM does not hold the ELF segment at 0x%" PRIx64,
				    seg->paddr);
	/* Not looked up when empty: a segment may end where RAM ends, and no region holds [end, end). */
	if (bss_len == 0)
		return 0;
	bss = gmem_ptr(ctx->m, seg->paddr + seg->filesz, bss_len);
	if (bss == NULL)
		return x86_boot_err(ctx, -EFAULT,
				    "guest RAM does not hold the bss of the ELF segment at 0x%" PRIx64,
				    seg->paddr);
	memset(bss, 0, bss_len);
	gmem_mark_dirty(ctx->m, seg->paddr + seg->filesz, bss_len);
	return 0;
}

static int pvh_copy_segments(const struct x86_boot_ctx *ctx, const struct pvh_elf *elf)
{
	int ret = 0;

	for (unsigned int i = 0; i < elf->phnum && ret == 0; i++) {
		struct pvh_segment seg = pvh_segment_at(elf, i);

		if (seg.type == PT_LOAD)
			ret = pvh_copy_segment(ctx, elf, &seg);
	}
	return ret;
}

static int pvh_write_start_info(const struct x86_boot_ctx *ctx, gpa_t initrd_gpa)
{
	const gpa_t base = X86_PVH_START_INFO_ADDR;
	struct pvh_boot_block b;

	memset(&b, 0, sizeof(b));
	b.info = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.cmdline_paddr = X86_CMDLINE_ADDR,
		.rsdp_paddr = ctx->in->rsdp_gpa,
		.memmap_paddr = base + offsetof(struct pvh_boot_block, memmap),
		.memmap_entries = ctx->e820_count,
	};
	if (initrd_gpa != 0) {
		b.info.nr_modules = 1;
		b.info.modlist_paddr = base + offsetof(struct pvh_boot_block, modules);
		b.modules[0] = (struct hvm_modlist_entry){ .paddr = initrd_gpa, .size = ctx->in->initrd_size };
	}
	for (unsigned int i = 0; i < ctx->e820_count; i++)
		b.memmap[i] = (struct hvm_memmap_table_entry){ .addr = ctx->e820[i].addr,
							       .size = ctx->e820[i].size,
							       .type = ctx->e820[i].type };
	if (gmem_write(ctx->m, base, &b, sizeof(b)) < 0)
		return x86_boot_err(ctx, -EFAULT, "guest RAM does not hold the PVH start info at 0x%" PRIx64,
				    base);
	return 0;
}

int pvh_load(const struct x86_boot_ctx *ctx, struct x86_entry *entry)
{
	struct pvh_elf elf = { 0 };
	struct pvh_image img = { 0 };
	gpa_t initrd_gpa;
	int ret;

	ret = pvh_open_elf(ctx, &elf);
	if (ret == 0)
		ret = pvh_scan(ctx, &elf, &img);
	if (ret == 0)
		ret = pvh_copy_segments(ctx, &elf);
	if (ret == 0)
		ret = x86_boot_load_cmdline(ctx, X86_CMDLINE_MAX - 1);
	if (ret == 0)
		ret = x86_boot_load_initrd(ctx, img.kernel_end, ctx->low_ram_end, &initrd_gpa);
	if (ret == 0)
		ret = pvh_write_start_info(ctx, initrd_gpa);
	if (ret < 0)
		return ret;
	*entry = (struct x86_entry){
		.mode = X86_ENTRY_PVH32,
		.ip = img.entry,
		.boot_info = X86_PVH_START_INFO_ADDR,
	};
	return 0;
}
