/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The x86 kernel loader against synthesized kernels: bzImages made of a setup header and payload
 * bytes, ELFs with a PVH note. Guest RAM is calloc'd windows of the guest-physical space (a
 * "5 GiB" machine is a few MiB at 0 and a few MiB below 3 GiB); what the loader wrote is read back
 * at the offsets the boot protocol and start_info.h give, not through the loader's own structs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "mem/gmem.h"

/* --- guest RAM ------------------------------------------------------------------------------ */

#define LOW_WINDOW MiB(32)
#define VM_MAX_WINDOWS 3

struct vm {
	struct gmem m;
	uint8_t *windows[VM_MAX_WINDOWS];
	unsigned int nwindows;
	uint64_t ram_bytes;
};

/* Maps [gpa, gpa + size) to a buffer filled with 0xaa, so that what the loader zeroes shows. */
static void vm_window(struct vm *vm, gpa_t gpa, uint64_t size)
{
	uint8_t *buf = malloc(size);

	assert_non_null(buf);
	memset(buf, 0xaa, size);
	assert_int_equal(gmem_add_region(&vm->m, gpa, buf, size), 0);
	vm->windows[vm->nwindows++] = buf;
}

/* A machine of ram_bytes whose RAM is backed from 0 up to at most LOW_WINDOW. */
static void vm_init(struct vm *vm, uint64_t ram_bytes)
{
	memset(vm, 0, sizeof(*vm));
	vm->ram_bytes = ram_bytes;
	vm_window(vm, 0, ram_bytes < LOW_WINDOW ? ram_bytes : LOW_WINDOW);
}

static void vm_free(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nwindows; i++)
		free(vm->windows[i]);
}

static const uint8_t *vm_at(const struct vm *vm, gpa_t gpa, uint64_t len)
{
	const uint8_t *p = gmem_ptr(&vm->m, gpa, len);

	assert_non_null(p);
	return p;
}

static uint64_t get_le(const uint8_t *p, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, unsigned int len, uint64_t v)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t vm_get(const struct vm *vm, gpa_t gpa, unsigned int len)
{
	return get_le(vm_at(vm, gpa, len), len);
}

/* --- loading -------------------------------------------------------------------------------- */

struct load {
	struct x86_boot_input in;
	struct x86_entry entry;
	char err[256];
};

static struct load load_input(const uint8_t *kernel, size_t size)
{
	return (struct load){ .in = { .kernel = kernel, .kernel_size = size, .cmdline = "console=ttyS0" } };
}

/* Loads into vm; the kernel is copied to a buffer of exactly its size, so ASan sees any overread. */
static int load_into(struct vm *vm, struct load *l)
{
	uint8_t *copy = malloc(l->in.kernel_size > 0 ? l->in.kernel_size : 1);
	const uint8_t *orig = l->in.kernel;
	int ret;

	assert_non_null(copy);
	memcpy(copy, orig, l->in.kernel_size);
	l->in.kernel = copy;
	l->in.ram_bytes = vm->ram_bytes;
	memset(l->err, 0, sizeof(l->err));
	ret = x86_boot_load(&vm->m, &l->in, &l->entry, l->err, sizeof(l->err));
	l->in.kernel = orig;
	free(copy);
	if (ret < 0) {
		assert_true(strlen(l->err) > 0);
		assert_null(strchr(l->err, '\n'));
	}
	return ret;
}

static uint8_t *pattern(size_t size, uint8_t seed)
{
	uint8_t *p = malloc(size);

	assert_non_null(p);
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 7 + seed);
	return p;
}

/* --- synthesized bzImage (Documentation/arch/x86/boot.rst offsets) ---------------------------- */

#define BZ_SETUP_SECTS 4
#define BZ_KERNEL_OFFSET ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PAYLOAD 0x3000
#define BZ_SIZE (BZ_KERNEL_OFFSET + BZ_PAYLOAD)
#define BZ_PREF_ADDRESS MiB(16)
#define BZ_INIT_SIZE MiB(8)
#define BZ_KERNEL_END (BZ_PREF_ADDRESS + BZ_INIT_SIZE)

/* A bzImage of protocol 2.15 with a 64-bit entry, like a 6.1 kernel's header, and payload bytes. */
static uint8_t *bz_make(void)
{
	uint8_t *f = pattern(BZ_SIZE, 3);

	memset(f, 0, BZ_KERNEL_OFFSET);
	f[0x1f1] = BZ_SETUP_SECTS;
	put_le(f + 0x1fe, 2, 0xaa55);        /* boot_flag */
	f[0x200] = 0xeb;                     /* jump: short jmp over the header */
	f[0x201] = 0x26c - 0x202;            /* the header ends at 0x26c */
	memcpy(f + 0x202, "HdrS", 4);
	put_le(f + 0x206, 2, 0x020f);        /* version */
	f[0x211] = 0x01;                     /* loadflags: LOADED_HIGH */
	put_le(f + 0x214, 4, 0x100000);      /* code32_start */
	put_le(f + 0x22c, 4, 0x7fffffff);    /* initrd_addr_max */
	put_le(f + 0x230, 4, MiB(2));        /* kernel_alignment */
	f[0x234] = 1;                        /* relocatable_kernel */
	put_le(f + 0x236, 2, 0x3);           /* xloadflags: XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	put_le(f + 0x238, 4, 2047);          /* cmdline_size */
	put_le(f + 0x258, 8, BZ_PREF_ADDRESS);
	put_le(f + 0x260, 4, BZ_INIT_SIZE);
	return f;
}

static void assert_e820(const struct vm *vm, gpa_t table, unsigned int i, unsigned int entry_size,
			uint64_t addr, uint64_t size, uint32_t type)
{
	gpa_t e = table + i * entry_size;

	assert_int_equal(vm_get(vm, e, 8), addr);
	assert_int_equal(vm_get(vm, e + 8, 8), size);
	assert_int_equal(vm_get(vm, e + 16, 4), type);
}

static void test_bzimage_boot_params(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();
	uint8_t *initrd = pattern(3 * 4096 + 5, 9);
	struct load l = load_input(bz, BZ_SIZE);
	const gpa_t zp = X86_ZERO_PAGE_ADDR;
	const gpa_t initrd_gpa = ALIGN_DOWN(MiB(64) - (3 * 4096 + 5), 4096);

	vm_init(&vm, MiB(64));
	vm_window(&vm, MiB(63), MiB(1));
	l.in.initrd = initrd;
	l.in.initrd_size = 3 * 4096 + 5;
	l.in.rsdp_gpa = 0xe0000;
	assert_int_equal(load_into(&vm, &l), 0);

	assert_int_equal(l.entry.mode, X86_ENTRY_LONG64);
	assert_int_equal(l.entry.ip, 0x100200);
	assert_int_equal(l.entry.boot_info, zp);
	assert_memory_equal(vm_at(&vm, MiB(1), BZ_PAYLOAD), bz + BZ_KERNEL_OFFSET, BZ_PAYLOAD);
	/* The setup header is copied; the fields a loader writes are set. */
	assert_memory_equal(vm_at(&vm, zp + 0x1f1, 0x210 - 0x1f1), bz + 0x1f1, 0x210 - 0x1f1);
	assert_memory_equal(vm_at(&vm, zp + 0x22c, 0x26c - 0x22c), bz + 0x22c, 0x26c - 0x22c);
	assert_int_equal(vm_get(&vm, zp + 0x210, 1), 0xff);       /* type_of_loader */
	assert_int_equal(vm_get(&vm, zp + 0x211, 1), 0x81);       /* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(vm_get(&vm, zp + 0x224, 2), 0xfe00);     /* heap_end_ptr */
	assert_int_equal(vm_get(&vm, zp + 0x228, 4), 0x20000);    /* cmd_line_ptr */
	assert_string_equal((const char *)vm_at(&vm, 0x20000, 14), "console=ttyS0");
	assert_int_equal(vm_get(&vm, zp + 0x218, 4), initrd_gpa); /* ramdisk_image */
	assert_int_equal(vm_get(&vm, zp + 0x21c, 4), 3 * 4096 + 5);
	assert_memory_equal(vm_at(&vm, initrd_gpa, 3 * 4096 + 5), initrd, 3 * 4096 + 5);
	assert_int_equal(vm_get(&vm, zp + 0x070, 8), 0xe0000); /* acpi_rsdp_addr */
	assert_int_equal(vm_get(&vm, zp + 0x1e8, 1), 3);       /* e820_entries */
	assert_e820(&vm, zp + 0x2d0, 0, 20, 0, 0x9fc00, 1);
	assert_e820(&vm, zp + 0x2d0, 1, 20, 0x9fc00, 0x100000 - 0x9fc00, 2);
	assert_e820(&vm, zp + 0x2d0, 2, 20, 0x100000, MiB(63), 1);
	/* The rest of the zero page is zero, not left over from RAM. */
	assert_int_equal(vm_get(&vm, zp, 8), 0);
	assert_int_equal(vm_get(&vm, zp + 0xff8, 8), 0);
	free(initrd);
	free(bz);
	vm_free(&vm);
}

static void test_bzimage_e820_512m(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();
	struct load l = load_input(bz, BZ_SIZE);

	vm_init(&vm, MiB(512));
	assert_int_equal(load_into(&vm, &l), 0);
	assert_int_equal(vm_get(&vm, X86_ZERO_PAGE_ADDR + 0x1e8, 1), 3);
	assert_e820(&vm, X86_ZERO_PAGE_ADDR + 0x2d0, 0, 20, 0, 0x9fc00, 1);
	assert_e820(&vm, X86_ZERO_PAGE_ADDR + 0x2d0, 1, 20, 0x9fc00, 0x60400, 2);
	assert_e820(&vm, X86_ZERO_PAGE_ADDR + 0x2d0, 2, 20, MiB(1), MiB(511), 1);
	free(bz);
	vm_free(&vm);
}

/* 5 GiB: 3 GiB below the hole, 2 GiB from 4 GiB; the initrd goes below initrd_addr_max (2 GiB). */
static void test_bzimage_ram_above_4g(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();
	uint8_t initrd[100] = { 1, 2, 3 };
	struct load l = load_input(bz, BZ_SIZE);

	vm_init(&vm, GiB(5));
	vm_window(&vm, GiB(2) - MiB(1), MiB(1));
	l.in.initrd = initrd;
	l.in.initrd_size = sizeof(initrd);
	assert_int_equal(load_into(&vm, &l), 0);
	assert_int_equal(vm_get(&vm, X86_ZERO_PAGE_ADDR + 0x1e8, 1), 4);
	assert_e820(&vm, X86_ZERO_PAGE_ADDR + 0x2d0, 2, 20, MiB(1), GiB(3) - MiB(1), 1);
	assert_e820(&vm, X86_ZERO_PAGE_ADDR + 0x2d0, 3, 20, GiB(4), GiB(2), 1);
	assert_int_equal(vm_get(&vm, X86_ZERO_PAGE_ADDR + 0x218, 4), GiB(2) - 4096);
	free(bz);
	vm_free(&vm);
}

static void test_e820_build(void **state)
{
	(void)state;
	struct x86_e820_entry map[X86_E820_MAX_ENTRIES];

	assert_int_equal(x86_e820_build(GiB(3), map), 3);
	assert_int_equal(map[2].addr + map[2].size, GiB(3));
	assert_int_equal(x86_e820_build(GiB(64), map), 4);
	assert_int_equal(map[3].addr, GiB(4));
	assert_int_equal(map[3].size, GiB(61));
	assert_int_equal(map[3].type, X86_E820_RAM);
	assert_int_equal(x86_e820_build(MiB(1), map), -EINVAL);
}

static void test_bzimage_initrd_below_addr_max(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();
	uint8_t *initrd = pattern(MiB(1) + 5, 1);
	struct load l = load_input(bz, BZ_SIZE);
	uint64_t gpa;

	put_le(bz + 0x22c, 4, MiB(28) - 1); /* initrd_addr_max: the last byte it may use */
	vm_init(&vm, MiB(64));
	l.in.initrd = initrd;
	l.in.initrd_size = MiB(1) + 5;
	assert_int_equal(load_into(&vm, &l), 0);
	gpa = vm_get(&vm, X86_ZERO_PAGE_ADDR + 0x218, 4);
	assert_int_equal(gpa, ALIGN_DOWN(MiB(28) - (MiB(1) + 5), 4096));
	assert_true(gpa >= BZ_KERNEL_END);
	assert_memory_equal(vm_at(&vm, gpa, MiB(1) + 5), initrd, MiB(1) + 5);

	/* Between the kernel's runtime area (up to 24 MiB) and 25 MiB there is no room for it. */
	put_le(bz + 0x22c, 4, MiB(25) - 1);
	l = load_input(bz, BZ_SIZE);
	l.in.initrd = initrd;
	l.in.initrd_size = MiB(1) + 5;
	assert_int_equal(load_into(&vm, &l), -ENOSPC);
	assert_non_null(strstr(l.err, "initrd of 2 MiB does not fit below 0x1900000"));
	free(initrd);
	free(bz);
	vm_free(&vm);
}

static void test_bzimage_initrd_too_big_for_ram(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();
	static const uint8_t initrd[1];
	struct load l = load_input(bz, BZ_SIZE);

	vm_init(&vm, MiB(64));
	l.in.initrd = initrd;
	l.in.initrd_size = MiB(48); /* never read: the placement fails first */
	assert_int_equal(load_into(&vm, &l), -ENOSPC);
	assert_non_null(strstr(l.err, "initrd of 48 MiB does not fit"));
	free(bz);
	vm_free(&vm);
}

static void test_bzimage_cmdline_limits(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();
	struct load l = load_input(bz, BZ_SIZE);
	char *huge = malloc(X86_CMDLINE_MAX + 1);

	vm_init(&vm, MiB(64));
	put_le(bz + 0x238, 4, 16); /* cmdline_size: at most 16 bytes before the NUL */
	l.in.cmdline = "0123456789abcdef";
	assert_int_equal(load_into(&vm, &l), 0);
	l.in.cmdline = "0123456789abcdefg";
	assert_int_equal(load_into(&vm, &l), -E2BIG);
	assert_non_null(strstr(l.err, "command line of 17 bytes"));

	/* The kernel allows more than kiln's buffer at X86_CMDLINE_ADDR holds. */
	put_le(bz + 0x238, 4, 0x7fffffff);
	assert_non_null(huge);
	memset(huge, 'x', X86_CMDLINE_MAX);
	huge[X86_CMDLINE_MAX] = '\0';
	l.in.cmdline = huge;
	assert_int_equal(load_into(&vm, &l), -E2BIG);
	huge[X86_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(load_into(&vm, &l), 0);
	free(huge);
	free(bz);
	vm_free(&vm);
}

static void expect_bz_error(uint8_t *bz, size_t size, int err, const char *msg)
{
	struct vm vm;
	struct load l = load_input(bz, size);

	vm_init(&vm, MiB(64));
	assert_int_equal(load_into(&vm, &l), err);
	assert_non_null(strstr(l.err, msg));
	vm_free(&vm);
}

static void test_bzimage_rejected(void **state)
{
	(void)state;
	uint8_t *bz = bz_make();

	put_le(bz + 0x206, 2, 0x020b);
	expect_bz_error(bz, BZ_SIZE, -ENOEXEC, "protocol 2.11 is too old");
	put_le(bz + 0x206, 2, 0x020f);
	put_le(bz + 0x236, 2, 0x2);
	expect_bz_error(bz, BZ_SIZE, -ENOEXEC, "XLF_KERNEL_64");
	put_le(bz + 0x236, 2, 0x3);
	put_le(bz + 0x230, 4, 0x300000);
	expect_bz_error(bz, BZ_SIZE, -ENOEXEC, "kernel_alignment");
	put_le(bz + 0x230, 4, MiB(2));
	put_le(bz + 0x260, 4, MiB(64));
	expect_bz_error(bz, BZ_SIZE, -ENOSPC, "init_size");
	put_le(bz + 0x260, 4, BZ_INIT_SIZE);
	bz[0x201] = 0x20;
	expect_bz_error(bz, BZ_SIZE, -ENOEXEC, "setup header ends at 0x222");
	free(bz);
}

static void test_bzimage_setup_sects_zero_means_4(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();
	struct load l = load_input(bz, BZ_SIZE);

	bz[0x1f1] = 0;
	vm_init(&vm, MiB(64));
	assert_int_equal(load_into(&vm, &l), 0);
	assert_memory_equal(vm_at(&vm, MiB(1), BZ_PAYLOAD), bz + 5 * 512, BZ_PAYLOAD);
	free(bz);
	vm_free(&vm);
}

/* Every prefix of the file that lacks the payload fails cleanly. */
static void test_bzimage_truncated(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();

	vm_init(&vm, MiB(64));
	for (size_t size = 1; size <= BZ_KERNEL_OFFSET; size++) {
		struct load l = load_input(bz, size);

		assert_int_equal(load_into(&vm, &l), -ENOEXEC);
	}
	free(bz);
	vm_free(&vm);
}

static void test_not_a_kernel(void **state)
{
	(void)state;
	static const uint8_t text[] = "#!/bin/sh\necho this is not a kernel\n";
	uint8_t zeros[4096] = { 0 };
	struct vm vm;
	struct load l = load_input(text, sizeof(text));

	vm_init(&vm, MiB(64));
	assert_int_equal(load_into(&vm, &l), -ENOEXEC);
	assert_string_equal(l.err, "not a Linux bzImage or an ELF with a PVH entry note");
	l = load_input(zeros, sizeof(zeros));
	assert_int_equal(load_into(&vm, &l), -ENOEXEC);
	l = load_input(zeros, 0);
	assert_int_equal(load_into(&vm, &l), -EINVAL);
	vm_free(&vm);
}

static void test_too_little_ram(void **state)
{
	(void)state;
	struct vm vm;
	uint8_t *bz = bz_make();
	struct load l = load_input(bz, BZ_SIZE);

	vm_init(&vm, MiB(1));
	assert_int_equal(load_into(&vm, &l), -ENOSPC);
	free(bz);
	vm_free(&vm);
}

/* --- synthesized PVH ELF ---------------------------------------------------------------------- */

/*
 * Layout: ELF header, 3 program headers at 0x40, notes at 0x200 (a GNU build-id note, then the
 * Xen PHYS32_ENTRY note), text at 0x400 (0x100 bytes to 1 MiB), data at 0x600 (0x80 bytes to
 * 1 MiB + 0x2000, 0x3000 in memory: the rest is bss).
 */
#define ELF_PHOFF 0x40
#define ELF_NOTE_OFF 0x200
#define ELF_TEXT_OFF 0x400
#define ELF_TEXT_SIZE 0x100
#define ELF_DATA_OFF 0x600
#define ELF_DATA_SIZE 0x80
#define ELF_DATA_MEMSZ 0x3000
#define ELF_SIZE 0x680
#define ELF_TEXT_GPA MiB(1)
#define ELF_DATA_GPA (MiB(1) + 0x2000)
#define ELF_ENTRY (MiB(1) + 0x10)
#define ELF_KERNEL_END (ELF_DATA_GPA + ELF_DATA_MEMSZ)

struct elf_file {
	uint8_t *data;
	bool is64;
	size_t phentsize;
	size_t entry_note;     /* file offset of the Xen note's header */
	size_t entry_note_end; /* end of the notes */
};

static void elf_phdr(struct elf_file *e, unsigned int i, uint32_t type, uint64_t off, uint64_t paddr,
		     uint64_t filesz, uint64_t memsz, uint64_t align)
{
	uint8_t *p = e->data + ELF_PHOFF + i * e->phentsize;

	if (e->is64) {
		Elf64_Phdr ph = { .p_type = type, .p_offset = off, .p_vaddr = paddr, .p_paddr = paddr,
				  .p_filesz = filesz, .p_memsz = memsz, .p_align = align };
		memcpy(p, &ph, sizeof(ph));
	} else {
		Elf32_Phdr ph = { .p_type = type, .p_offset = (uint32_t)off, .p_vaddr = (uint32_t)paddr,
				  .p_paddr = (uint32_t)paddr, .p_filesz = (uint32_t)filesz,
				  .p_memsz = (uint32_t)memsz, .p_align = (uint32_t)align };
		memcpy(p, &ph, sizeof(ph));
	}
}

static size_t elf_note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t off = 12;

	put_le(p, 4, namesz);
	put_le(p + 4, 4, descsz);
	put_le(p + 8, 4, type);
	memcpy(p + off, name, namesz);
	off += ALIGN_UP(namesz, 4);
	memcpy(p + off, desc, descsz);
	return off + ALIGN_UP(descsz, 4);
}

/* An ELF64 (desc of 8 bytes, as vmlinux) or ELF32 (4 bytes) with a PVH entry note. */
static struct elf_file elf_make(bool is64)
{
	struct elf_file e = { .data = pattern(ELF_SIZE, 5), .is64 = is64 };
	uint8_t build_id[20] = { 0x12, 0x34 };
	uint64_t entry = ELF_ENTRY;
	size_t off = ELF_NOTE_OFF;

	memset(e.data, 0, ELF_TEXT_OFF);
	if (is64) {
		Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
				  .e_entry = ELF_ENTRY, .e_phoff = ELF_PHOFF, .e_ehsize = sizeof(eh),
				  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 3 };
		memcpy(e.data, &eh, sizeof(eh));
	} else {
		Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
				  .e_entry = ELF_ENTRY, .e_phoff = ELF_PHOFF, .e_ehsize = sizeof(eh),
				  .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = 3 };
		memcpy(e.data, &eh, sizeof(eh));
	}
	memcpy(e.data, ELFMAG, SELFMAG);
	e.data[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	e.data[EI_DATA] = ELFDATA2LSB;
	e.data[EI_VERSION] = EV_CURRENT;
	e.phentsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	off += elf_note(e.data + off, "GNU", NT_GNU_BUILD_ID, build_id, sizeof(build_id));
	e.entry_note = off;
	off += elf_note(e.data + off, "Xen", 18, &entry, is64 ? 8 : 4);
	e.entry_note_end = off;
	elf_phdr(&e, 0, PT_LOAD, ELF_TEXT_OFF, ELF_TEXT_GPA, ELF_TEXT_SIZE, ELF_TEXT_SIZE, 0x1000);
	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, ELF_DATA_GPA, ELF_DATA_SIZE, ELF_DATA_MEMSZ, 0x1000);
	elf_phdr(&e, 2, PT_NOTE, ELF_NOTE_OFF, 0, off - ELF_NOTE_OFF, 0, 4);
	return e;
}

static void assert_pvh_loaded(const struct vm *vm, const struct load *l, const struct elf_file *e)
{
	assert_int_equal(l->entry.mode, X86_ENTRY_PVH32);
	assert_int_equal(l->entry.ip, ELF_ENTRY);
	assert_int_equal(l->entry.boot_info, X86_PVH_START_INFO_ADDR);
	assert_memory_equal(vm_at(vm, ELF_TEXT_GPA, ELF_TEXT_SIZE), e->data + ELF_TEXT_OFF, ELF_TEXT_SIZE);
	assert_memory_equal(vm_at(vm, ELF_DATA_GPA, ELF_DATA_SIZE), e->data + ELF_DATA_OFF, ELF_DATA_SIZE);
	for (uint64_t i = ELF_DATA_SIZE; i < ELF_DATA_MEMSZ; i++)
		assert_int_equal(vm_at(vm, ELF_DATA_GPA + i, 1)[0], 0);
	/* The byte after the bss is untouched. */
	assert_int_equal(vm_at(vm, ELF_KERNEL_END, 1)[0], 0xaa);
}

static void test_pvh_elf64(void **state)
{
	(void)state;
	struct vm vm;
	struct elf_file e = elf_make(true);
	uint8_t *initrd = pattern(10000, 7);
	struct load l = load_input(e.data, ELF_SIZE);
	const gpa_t si = X86_PVH_START_INFO_ADDR;
	const gpa_t initrd_gpa = ALIGN_DOWN(MiB(64) - 10000, 4096);
	gpa_t modlist, memmap;

	vm_init(&vm, MiB(64));
	vm_window(&vm, MiB(63), MiB(1));
	l.in.initrd = initrd;
	l.in.initrd_size = 10000;
	l.in.rsdp_gpa = 0xe0000;
	assert_int_equal(load_into(&vm, &l), 0);
	assert_pvh_loaded(&vm, &l, &e);

	assert_int_equal(vm_get(&vm, si + 0x00, 4), 0x336ec578); /* magic */
	assert_int_equal(vm_get(&vm, si + 0x04, 4), 1);          /* version */
	assert_int_equal(vm_get(&vm, si + 0x08, 4), 0);          /* flags */
	assert_int_equal(vm_get(&vm, si + 0x0c, 4), 1);          /* nr_modules */
	modlist = vm_get(&vm, si + 0x10, 8);
	assert_int_equal(vm_get(&vm, si + 0x18, 8), 0x20000); /* cmdline_paddr */
	assert_string_equal((const char *)vm_at(&vm, 0x20000, 14), "console=ttyS0");
	assert_int_equal(vm_get(&vm, si + 0x20, 8), 0xe0000); /* rsdp_paddr */
	memmap = vm_get(&vm, si + 0x28, 8);
	assert_int_equal(vm_get(&vm, si + 0x30, 4), 3); /* memmap_entries */

	assert_int_equal(vm_get(&vm, modlist, 8), initrd_gpa);
	assert_int_equal(vm_get(&vm, modlist + 8, 8), 10000);
	assert_int_equal(vm_get(&vm, modlist + 16, 8), 0); /* no module command line */
	assert_memory_equal(vm_at(&vm, initrd_gpa, 10000), initrd, 10000);
	assert_e820(&vm, memmap, 0, 24, 0, 0x9fc00, 1);
	assert_e820(&vm, memmap, 1, 24, 0x9fc00, 0x60400, 2);
	assert_e820(&vm, memmap, 2, 24, MiB(1), MiB(63), 1);
	/* The start info and its tables stay below the zero page. */
	assert_true(modlist >= si + 0x38 && memmap >= si + 0x38 && memmap + 3 * 24 <= X86_ZERO_PAGE_ADDR);
	free(initrd);
	free(e.data);
	vm_free(&vm);
}

static void test_pvh_elf32_no_initrd(void **state)
{
	(void)state;
	struct vm vm;
	struct elf_file e = elf_make(false);
	struct load l = load_input(e.data, ELF_SIZE);

	vm_init(&vm, MiB(16));
	l.in.cmdline = NULL;
	assert_int_equal(load_into(&vm, &l), 0);
	assert_pvh_loaded(&vm, &l, &e);
	assert_int_equal(vm_get(&vm, X86_PVH_START_INFO_ADDR + 0x0c, 4), 0); /* nr_modules */
	assert_int_equal(vm_get(&vm, X86_PVH_START_INFO_ADDR + 0x10, 8), 0); /* modlist_paddr */
	assert_int_equal(vm_get(&vm, X86_PVH_START_INFO_ADDR + 0x20, 8), 0); /* rsdp_paddr */
	assert_int_equal(vm_get(&vm, 0x20000, 1), 0);                        /* empty command line */
	free(e.data);
	vm_free(&vm);
}

static void test_pvh_ram_above_4g(void **state)
{
	(void)state;
	struct vm vm;
	struct elf_file e = elf_make(true);
	uint8_t initrd[4096 + 1] = { 9 };
	struct load l = load_input(e.data, ELF_SIZE);
	gpa_t memmap;

	vm_init(&vm, GiB(5));
	vm_window(&vm, GiB(3) - MiB(1), MiB(1));
	l.in.initrd = initrd;
	l.in.initrd_size = sizeof(initrd);
	assert_int_equal(load_into(&vm, &l), 0);
	memmap = vm_get(&vm, X86_PVH_START_INFO_ADDR + 0x28, 8);
	assert_int_equal(vm_get(&vm, X86_PVH_START_INFO_ADDR + 0x30, 4), 4);
	assert_e820(&vm, memmap, 2, 24, MiB(1), GiB(3) - MiB(1), 1);
	assert_e820(&vm, memmap, 3, 24, GiB(4), GiB(2), 1);
	/* The initrd goes to the top of RAM below the hole. */
	assert_int_equal(vm_get(&vm, vm_get(&vm, X86_PVH_START_INFO_ADDR + 0x10, 8), 8),
			 GiB(3) - 2 * 4096);
	free(e.data);
	vm_free(&vm);
}

static void expect_elf_error(const struct elf_file *e, size_t size, int err, const char *msg)
{
	struct vm vm;
	struct load l = load_input(e->data, size);

	vm_init(&vm, MiB(16));
	assert_int_equal(load_into(&vm, &l), err);
	if (msg != NULL)
		assert_non_null(strstr(l.err, msg));
	vm_free(&vm);
}

static void test_pvh_malformed_headers(void **state)
{
	(void)state;
	struct elf_file e = elf_make(true);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)e.data;

	eh->e_phoff = ELF_SIZE - 8;
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "program headers at 0x678 run past its end");
	eh->e_phoff = UINT64_MAX - 8; /* offset + size would wrap */
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "run past its end");
	eh->e_phoff = ELF_PHOFF;
	eh->e_phnum = 0xffff;
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "65535 program headers");
	eh->e_phnum = 3;
	eh->e_phentsize = 32;
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "program header size 32");
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_machine = EM_AARCH64;
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "not for x86-64");
	eh->e_machine = EM_X86_64;
	eh->e_type = ET_DYN;
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "not an executable");
	eh->e_type = ET_EXEC;
	e.data[EI_DATA] = ELFDATA2MSB;
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "not little-endian");
	free(e.data);
}

static void test_pvh_malformed_segments(void **state)
{
	(void)state;
	struct elf_file e = elf_make(true);

	/* Outside RAM: above the end of a 16 MiB machine, beyond 4 GiB, wrapping, on the boot structures. */
	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, MiB(16) - 0x1000, ELF_DATA_SIZE, 0x2000, 0x1000);
	expect_elf_error(&e, ELF_SIZE, -ENOSPC, "outside guest RAM");
	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, GiB(8), ELF_DATA_SIZE, ELF_DATA_MEMSZ, 0x1000);
	expect_elf_error(&e, ELF_SIZE, -ENOSPC, "outside guest RAM");
	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, MiB(2), ELF_DATA_SIZE, UINT64_MAX, 0x1000);
	expect_elf_error(&e, ELF_SIZE, -ENOSPC, "outside guest RAM");
	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, X86_PVH_START_INFO_ADDR, ELF_DATA_SIZE, ELF_DATA_MEMSZ, 0);
	expect_elf_error(&e, ELF_SIZE, -ENOSPC, "outside guest RAM");
	/* Contents past the end of the file, or wrapping around. */
	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, ELF_DATA_GPA, ELF_DATA_SIZE + 1, ELF_DATA_MEMSZ, 0x1000);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "runs past its end");
	elf_phdr(&e, 1, PT_LOAD, UINT64_MAX - 0x10, ELF_DATA_GPA, 0x20, ELF_DATA_MEMSZ, 0x1000);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "runs past its end");
	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, ELF_DATA_GPA, UINT64_MAX, UINT64_MAX, 0x1000);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "runs past its end");
	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, ELF_DATA_GPA, ELF_DATA_SIZE, ELF_DATA_SIZE - 1, 0x1000);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "filesz > memsz");
	/* No PT_LOAD at all. */
	elf_phdr(&e, 0, PT_NULL, 0, 0, 0, 0, 0);
	elf_phdr(&e, 1, PT_NULL, 0, 0, 0, 0, 0);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "no PT_LOAD");
	free(e.data);
}

static void test_pvh_malformed_notes(void **state)
{
	(void)state;
	struct elf_file e = elf_make(true);
	uint8_t *xen = e.data + e.entry_note;
	const size_t notes_size = e.entry_note_end - ELF_NOTE_OFF;

	put_le(xen, 4, 0x1000); /* namesz runs past the segment */
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "sizes run past its PT_NOTE segment");
	put_le(xen, 4, UINT32_MAX);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "sizes run past its PT_NOTE segment");
	put_le(xen, 4, 4);
	put_le(xen + 4, 4, 9); /* descsz past the segment by 1 */
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "sizes run past its PT_NOTE segment");
	put_le(xen + 4, 4, 2);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "2-byte value");
	put_le(xen + 4, 4, 8);
	/* The note segment itself past the end of the file. */
	elf_phdr(&e, 2, PT_NOTE, ELF_SIZE - 8, 0, notes_size, 0, 4);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "notes at 0x678 run past its end");
	/*
	 * An offset of 2^63: the file's address plus it wraps below 0 (as a pointer offset it is
	 * -2^63), so a pointer formed from it before the check is undefined behaviour, which UBSan's
	 * pointer-overflow check stops in the sanitizer build.
	 */
	elf_phdr(&e, 2, PT_NOTE, 1ull << 63, 0, notes_size, 0, 4);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "notes at 0x8000000000000000 run past its end");
	elf_phdr(&e, 2, PT_NOTE, ELF_NOTE_OFF, 0, notes_size, 0, 4);
	/* An entry above 4 GiB, or not in a loaded segment. */
	put_le(xen + 16, 8, GiB(4) + 0x10);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "not a 32-bit address");
	put_le(xen + 16, 8, MiB(1) + 0x1000);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "outside the loaded segments");
	put_le(xen + 16, 8, ELF_ENTRY);
	/* Another note type under the name "Xen", or the entry type under another name. */
	put_le(xen + 8, 4, 17);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "no XEN_ELFNOTE_PHYS32_ENTRY");
	put_le(xen + 8, 4, 18);
	memcpy(xen + 12, "Xem", 4);
	expect_elf_error(&e, ELF_SIZE, -ENOEXEC, "no XEN_ELFNOTE_PHYS32_ENTRY");
	free(e.data);
}

/* A segment with no bss that ends where RAM ends loads (the empty bss is not looked up past RAM). */
static void test_pvh_segment_ends_at_ram_end(void **state)
{
	(void)state;
	struct elf_file e = elf_make(true);
	struct vm vm;
	struct load l = load_input(e.data, ELF_SIZE);

	elf_phdr(&e, 1, PT_LOAD, ELF_DATA_OFF, MiB(16) - ELF_DATA_SIZE, ELF_DATA_SIZE, ELF_DATA_SIZE, 0x1000);
	vm_init(&vm, MiB(16));
	assert_int_equal(load_into(&vm, &l), 0);
	assert_memory_equal(vm_at(&vm, MiB(16) - ELF_DATA_SIZE, ELF_DATA_SIZE), e.data + ELF_DATA_OFF,
			    ELF_DATA_SIZE);
	free(e.data);
	vm_free(&vm);
}

static void test_pvh_truncated(void **state)
{
	(void)state;
	struct elf_file e = elf_make(true);
	struct vm vm;

	vm_init(&vm, MiB(16));
	for (size_t size = 1; size < ELF_SIZE; size++) {
		struct load l = load_input(e.data, size);

		assert_true(load_into(&vm, &l) < 0);
	}
	free(e.data);
	vm_free(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage_boot_params),
		cmocka_unit_test(test_bzimage_e820_512m),
		cmocka_unit_test(test_bzimage_ram_above_4g),
		cmocka_unit_test(test_e820_build),
		cmocka_unit_test(test_bzimage_initrd_below_addr_max),
		cmocka_unit_test(test_bzimage_initrd_too_big_for_ram),
		cmocka_unit_test(test_bzimage_cmdline_limits),
		cmocka_unit_test(test_bzimage_rejected),
		cmocka_unit_test(test_bzimage_setup_sects_zero_means_4),
		cmocka_unit_test(test_bzimage_truncated),
		cmocka_unit_test(test_not_a_kernel),
		cmocka_unit_test(test_too_little_ram),
		cmocka_unit_test(test_pvh_elf64),
		cmocka_unit_test(test_pvh_elf32_no_initrd),
		cmocka_unit_test(test_pvh_ram_above_4g),
		cmocka_unit_test(test_pvh_malformed_headers),
		cmocka_unit_test(test_pvh_malformed_segments),
		cmocka_unit_test(test_pvh_malformed_notes),
		cmocka_unit_test(test_pvh_segment_ends_at_ram_end),
		cmocka_unit_test(test_pvh_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
