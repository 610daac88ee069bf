/* SPDX-License-Identifier: Apache-2.0 */
/* mem/gmem.c: mapping guest RAM (aligned for huge pages) and the checked ways into it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem/gmem.h"

/* Maps bytes of guest RAM and checks what every caller relies on: aligned, zeroed, writable. */
static void check_ram_map(uint64_t bytes)
{
	void *host = NULL;

	assert_int_equal(gmem_ram_map(bytes, 0, &host), 0);
	assert_non_null(host);
	/* The low 21 bits of the host address match those of the 2 MiB-aligned guest ranges. */
	assert_int_equal((uintptr_t)host % GMEM_HUGE_PAGE_SIZE, 0);
	uint8_t *first = host;
	uint8_t *last = first + bytes - 1;
	assert_int_equal(*first, 0);
	assert_int_equal(*last, 0);
	*first = 0xa5;
	*last = 0x5a;
	assert_int_equal(*first, 0xa5);
	assert_int_equal(*last, 0x5a);
	gmem_ram_unmap(host, bytes);
}

static void test_ram_is_huge_page_aligned(void **state)
{
	(void)state;
	check_ram_map(MiB(128));
	check_ram_map(MiB(2));
	/* A size that is not a multiple of 2 MiB keeps its aligned start (only the tail is short). */
	check_ram_map(MiB(2) + KiB(4));
	check_ram_map(KiB(4));
}

static void test_ram_map_rejects_bad_sizes(void **state)
{
	void *host = NULL;

	(void)state;
	assert_int_equal(gmem_ram_map(0, 0, &host), -EINVAL);
	/* bytes plus the extra huge page would wrap around. */
	assert_int_equal(gmem_ram_map(UINT64_MAX - KiB(4) + 1, 0, &host), -EINVAL);
	/* The small-page head is whole huge pages. */
	assert_int_equal(gmem_ram_map(MiB(4), KiB(4), &host), -EINVAL);
	assert_null(host);
}

/* Guest RAM from gmem_ram_map behind two regions, like the x86 memory map's low and high RAM. */
static void test_regions_over_mapped_ram(void **state)
{
	struct gmem m = { 0 };
	void *host = NULL;
	uint8_t byte = 0x42;

	(void)state;
	assert_int_equal(gmem_ram_map(MiB(4), 0, &host), 0);
	assert_int_equal(gmem_add_region(&m, 0, host, MiB(2)), 0);
	assert_int_equal(gmem_add_region(&m, GiB(4), (uint8_t *)host + MiB(2), MiB(2)), 0);
	assert_int_equal(gmem_total(&m), MiB(4));
	assert_ptr_equal(gmem_ptr(&m, GiB(4), 1), (uint8_t *)host + MiB(2));
	assert_int_equal(gmem_write(&m, MiB(2) - 1, &byte, 1), 0);
	/* Between the regions, and straddling the end of one, there is no RAM. */
	assert_null(gmem_ptr(&m, MiB(2), 1));
	assert_null(gmem_ptr(&m, MiB(2) - 1, 2));
	assert_int_equal(gmem_read(&m, &byte, GiB(4) + MiB(2), 1), -EFAULT);
	assert_int_equal(((uint8_t *)host)[MiB(2) - 1], 0x42);
	gmem_ram_unmap(host, MiB(4));
}

/*
 * What /proc/self/smaps says of the mapping that holds addr: its VmFlags line has "hg" (asked for
 * huge pages, MADV_HUGEPAGE), and its Rss in KiB.
 */
static void smaps_of(const void *addr, bool *huge, long *rss_kb)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;

	assert_non_null(f);
	*huge = false;
	*rss_kb = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (in && strncmp(line, "Rss:", 4) == 0)
			*rss_kb = strtol(line + 4, NULL, 10);
		if (in && strncmp(line, "VmFlags:", 8) == 0)
			*huge = strstr(line, " hg") != NULL;
	}
	fclose(f);
	assert_true(*rss_kb >= 0);
}

/*
 * The first small_head bytes get small pages: touching a byte there costs one 4 KiB page, not a
 * 2 MiB one (a tiny guest and kiln's boot structures live there: layout.h). The rest asks for huge
 * pages, where the kernel has them.
 */
static void test_small_page_head(void **state)
{
	void *host = NULL;
	bool huge;
	long rss;

	(void)state;
	assert_int_equal(gmem_ram_map(MiB(8), MiB(2), &host), 0);
	((volatile uint8_t *)host)[KiB(4) * 3] = 1;
	smaps_of(host, &huge, &rss);
	assert_false(huge);
	assert_int_equal(rss, 4);
	smaps_of((uint8_t *)host + MiB(2), &huge, &rss);
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0)
		assert_true(huge);
	gmem_ram_unmap(host, MiB(8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_is_huge_page_aligned),
		cmocka_unit_test(test_ram_map_rejects_bad_sizes),
		cmocka_unit_test(test_regions_over_mapped_ram),
		cmocka_unit_test(test_small_page_head),
	};
	return cmocka_run_group_tests_name("gmem", tests, NULL, NULL);
}
