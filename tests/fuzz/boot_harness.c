/* SPDX-License-Identifier: Apache-2.0 */
#include "boot_harness.h"

#include <errno.h>
#include <sanitizer/asan_interface.h>
#include <string.h>

#include "arch/x86/layout.h"

#define BOOT_RAM_MAX (MiB(1) + 256 * KiB(4))
#define BOOT_RAM_FILL 0xaa /* what RAM holds before the load, so that every write shows */
#define BOOT_INITRD_UNIT 64
#define BOOT_BLOCK_SIZE KiB(4)

static uint8_t boot_ram[BOOT_RAM_MAX] __attribute__((aligned(4096)));
static char boot_cmdline[X86_CMDLINE_MAX + 1];
static uint8_t boot_fill_page[4096];

/* A byte of the initrd: not a constant, so that a misplaced copy shows. */
static uint8_t boot_initrd_byte(size_t i)
{
	return (uint8_t)(i * 13 + 1);
}

static void boot_harness_once(void)
{
	static bool done;

	if (done)
		return;
	for (size_t i = 0; i < X86_CMDLINE_MAX; i++)
		boot_cmdline[i] = (char)('a' + i % 26);
	memset(boot_fill_page, BOOT_RAM_FILL, sizeof(boot_fill_page));
	done = true;
}

static uint8_t *boot_make_initrd(size_t size)
{
	uint8_t *p = malloc(size > 0 ? size : 1);

	boot_check(p != NULL);
	for (size_t i = 0; i < size; i++)
		p[i] = boot_initrd_byte(i);
	return p;
}

static uint8_t *boot_make_kernel(const uint8_t *data, size_t len, const uint8_t *prefix,
				 size_t prefix_len, size_t *size)
{
	uint8_t *k;

	*size = prefix_len + len;
	k = malloc(*size);
	boot_check(k != NULL);
	memcpy(k, prefix, prefix_len);
	memcpy(k + prefix_len, data, len);
	return k;
}

bool boot_harness_load(struct boot_run *r, const uint8_t *data, size_t len, const uint8_t *prefix,
		       size_t prefix_len, size_t force_at, const void *force, size_t force_len)
{
	if (len < BOOT_HARNESS_HEADER)
		return false;
	boot_harness_once();
	memset(r, 0, sizeof(*r));
	r->ram = boot_ram;
	r->ram_bytes = MiB(1) + ((uint64_t)data[0] + 1) * KiB(4);
	r->cmdline_len = (size_t)data[2] | (size_t)data[3] << 8;
	r->kernel = boot_make_kernel(data + BOOT_HARNESS_HEADER, len - BOOT_HARNESS_HEADER, prefix,
				     prefix_len, &r->kernel_size);
	if (force_len > 0 && r->kernel_size >= force_at && r->kernel_size - force_at >= force_len)
		memcpy(r->kernel + force_at, force, force_len);

	ASAN_UNPOISON_MEMORY_REGION(boot_ram, sizeof(boot_ram));
	memset(boot_ram, BOOT_RAM_FILL, r->ram_bytes);
	/* Past the guest's RAM: any host write there is a loader bug that ASan reports. */
	ASAN_POISON_MEMORY_REGION(boot_ram + r->ram_bytes, sizeof(boot_ram) - r->ram_bytes);
	boot_check(gmem_add_region(&r->m, 0, boot_ram, r->ram_bytes) == 0);

	boot_cmdline[r->cmdline_len] = '\0';
	r->in = (struct x86_boot_input){
		.kernel = r->kernel,
		.kernel_size = r->kernel_size,
		.initrd_size = (size_t)data[1] * BOOT_INITRD_UNIT,
		.cmdline = boot_cmdline,
		.ram_bytes = r->ram_bytes,
		.rsdp_gpa = X86_ACPI_ADDR,
	};
	r->in.initrd = r->in.initrd_size > 0 ? boot_make_initrd(r->in.initrd_size) : NULL;
	r->ret = x86_boot_load(&r->m, &r->in, &r->entry, r->err, sizeof(r->err));
	return true;
}

void boot_harness_free(struct boot_run *r)
{
	boot_cmdline[r->cmdline_len] = (char)('a' + r->cmdline_len % 26);
	free((void *)r->in.initrd);
	free(r->kernel);
}

/* True when RAM [from, to) still holds the fill. */
static bool boot_ram_untouched(uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t n = to - from < sizeof(boot_fill_page) ? to - from : sizeof(boot_fill_page);

		if (memcmp(boot_ram + from, boot_fill_page, n) != 0)
			return false;
		from += n;
	}
	return true;
}

void boot_harness_check_common(const struct boot_run *r, gpa_t boot_block)
{
	const uint64_t cmdline_end = X86_CMDLINE_ADDR + r->cmdline_len + 1;

	if (r->ret < 0) {
		/* -EFAULT would mean a check passed that guest RAM then refused: all of RAM is backed. */
		boot_check(r->ret == -ENOEXEC || r->ret == -E2BIG || r->ret == -ENOSPC);
		boot_check(r->err[0] != '\0' && strchr(r->err, '\n') == NULL);
	}
	/* Below 1 MiB only the boot block and the command line; the rest is firmware's or ACPI's. */
	boot_check(boot_block < X86_CMDLINE_ADDR && cmdline_end <= X86_HIGH_MEM_START);
	boot_check(boot_ram_untouched(0, boot_block));
	boot_check(boot_ram_untouched(boot_block + BOOT_BLOCK_SIZE, X86_CMDLINE_ADDR));
	boot_check(boot_ram_untouched(cmdline_end, X86_HIGH_MEM_START));
}

static int boot_range_cmp(const void *a, const void *b)
{
	const struct boot_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void boot_harness_check_high(const struct boot_run *r, struct boot_range *ranges, unsigned int n)
{
	uint64_t at = X86_HIGH_MEM_START;

	qsort(ranges, n, sizeof(ranges[0]), boot_range_cmp);
	for (unsigned int i = 0; i < n; i++) {
		if (ranges[i].size == 0)
			continue;
		boot_check(ranges[i].start >= X86_HIGH_MEM_START && ranges[i].start <= r->ram_bytes &&
			   ranges[i].size <= r->ram_bytes - ranges[i].start);
		if (ranges[i].start > at)
			boot_check(boot_ram_untouched(at, ranges[i].start));
		if (ranges[i].start + ranges[i].size > at)
			at = ranges[i].start + ranges[i].size;
	}
	boot_check(boot_ram_untouched(at, r->ram_bytes));
}

void boot_harness_check_cmdline(const struct boot_run *r)
{
	boot_check(memcmp(boot_ram + X86_CMDLINE_ADDR, boot_cmdline, r->cmdline_len + 1) == 0);
}

void boot_harness_check_initrd(const struct boot_run *r, gpa_t gpa, uint64_t size, gpa_t lowest)
{
	boot_check(size == r->in.initrd_size);
	if (size == 0) {
		boot_check(gpa == 0);
		return;
	}
	boot_check(gpa % 4096 == 0 && gpa >= lowest && gpa >= X86_HIGH_MEM_START);
	boot_check(gpa < r->ram_bytes && size <= r->ram_bytes - gpa);
	for (uint64_t i = 0; i < size; i++)
		boot_check(boot_ram[gpa + i] == boot_initrd_byte(i));
}

void boot_harness_check_e820(const struct boot_run *r, gpa_t table, uint64_t count, unsigned int entry_size)
{
	const struct x86_e820_entry want[] = {
		{ 0, X86_EBDA_START, X86_E820_RAM },
		{ X86_EBDA_START, X86_HIGH_MEM_START - X86_EBDA_START, X86_E820_RESERVED },
		{ X86_HIGH_MEM_START, r->ram_bytes - X86_HIGH_MEM_START, X86_E820_RAM },
	};

	boot_check(count == ARRAY_SIZE(want));
	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++) {
		gpa_t e = table + i * entry_size;

		boot_check(boot_ram_get(r, e, 8) == want[i].addr);
		boot_check(boot_ram_get(r, e + 8, 8) == want[i].size);
		boot_check(boot_ram_get(r, e + 16, 4) == want[i].type);
	}
}

static uint64_t boot_le(const uint8_t *p, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint64_t boot_ram_get(const struct boot_run *r, gpa_t gpa, unsigned int len)
{
	boot_check(gpa < r->ram_bytes && len <= r->ram_bytes - gpa);
	return boot_le(boot_ram + gpa, len);
}

bool boot_file_has(const struct boot_run *r, uint64_t off, uint64_t len)
{
	return off <= r->kernel_size && len <= r->kernel_size - off;
}

uint64_t boot_file_get(const struct boot_run *r, uint64_t off, unsigned int len)
{
	return boot_file_has(r, off, len) ? boot_le(r->kernel + off, len) : 0;
}
