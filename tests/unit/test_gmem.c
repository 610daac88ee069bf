/* SPDX-License-Identifier: Apache-2.0 */
/* mem/gmem.c: mapping guest RAM (aligned for huge pages) and the checked ways into it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mem/gmem.h"

/* Maps bytes of guest RAM and checks what every caller relies on: aligned, zeroed, writable. */
static void check_ram_map(uint64_t bytes)
{
	void *host = NULL;

	assert_int_equal(gmem_ram_map(bytes, &host), 0);
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
	assert_int_equal(gmem_ram_map(0, &host), -EINVAL);
	/* bytes plus the extra huge page would wrap around. */
	assert_int_equal(gmem_ram_map(UINT64_MAX - KiB(4) + 1, &host), -EINVAL);
	assert_null(host);
}

/* Guest RAM from gmem_ram_map behind two regions, like the x86 memory map's low and high RAM. */
static void test_regions_over_mapped_ram(void **state)
{
	struct gmem m = { 0 };
	void *host = NULL;
	uint8_t byte = 0x42;

	(void)state;
	assert_int_equal(gmem_ram_map(MiB(4), &host), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_is_huge_page_aligned),
		cmocka_unit_test(test_ram_map_rejects_bad_sizes),
		cmocka_unit_test(test_regions_over_mapped_ram),
	};
	return cmocka_run_group_tests_name("gmem", tests, NULL, NULL);
}
