/* SPDX-License-Identifier: Apache-2.0 */
/* bus/bus.c: registration rules and dispatch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bus/bus.h"

struct recorder {
	uint64_t last_offset;
	unsigned int last_len;
	uint8_t last_written[8];
	int reads, writes;
};

static void rec_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct recorder *r = opaque;

	r->reads++;
	r->last_offset = offset;
	r->last_len = len;
	memset(data, 0xab, len);
}

static void rec_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct recorder *r = opaque;

	r->writes++;
	r->last_offset = offset;
	r->last_len = len;
	memcpy(r->last_written, data, len);
}

static const struct bus_ops rec_ops = { .read = rec_read, .write = rec_write };

static void test_dispatch_gives_offset(void **state)
{
	struct bus b;
	struct recorder r = { 0 };
	uint32_t value = 0x11223344;
	uint8_t out[4];

	(void)state;
	bus_init(&b, "pio", 0xff);
	assert_int_equal(bus_register(&b, 0x3f8, 8, &rec_ops, &r), 0);
	assert_true(bus_access(&b, 0x3fd, &value, 4, true) == false); /* straddles the end */
	assert_true(bus_access(&b, 0x3fc, &value, 4, true));
	assert_int_equal(r.writes, 1);
	assert_int_equal(r.last_offset, 4);
	assert_memory_equal(r.last_written, &value, 4);
	assert_true(bus_access(&b, 0x3f8, out, 1, false));
	assert_int_equal(r.reads, 1);
	assert_int_equal(out[0], 0xab);
	bus_free(&b);
}

static void test_unclaimed_reads_fill(void **state)
{
	struct bus pio, mmio;
	uint8_t out[8];

	(void)state;
	bus_init(&pio, "pio", 0xff);
	bus_init(&mmio, "mmio", 0x00);
	memset(out, 0x55, sizeof(out));
	assert_false(bus_access(&pio, 0x1234, out, 2, false));
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(out[2], 0x55); /* nothing past len is touched */
	assert_false(bus_access(&mmio, 0xe0000000, out, 8, false));
	for (int i = 0; i < 8; i++)
		assert_int_equal(out[i], 0);
	bus_free(&pio);
	bus_free(&mmio);
}

static void test_rejects_bad_ranges(void **state)
{
	struct bus b;
	struct recorder r = { 0 };

	(void)state;
	bus_init(&b, "mmio", 0);
	assert_int_equal(bus_register(&b, 0x1000, 0, &rec_ops, &r), -EINVAL);
	assert_int_equal(bus_register(&b, UINT64_MAX - 4, 16, &rec_ops, &r), -EINVAL);
	assert_int_equal(bus_register(&b, 0x1000, 0x100, &rec_ops, &r), 0);
	assert_int_equal(bus_register(&b, 0x10ff, 1, &rec_ops, &r), -EINVAL); /* overlaps the end */
	assert_int_equal(bus_register(&b, 0x0f00, 0x101, &rec_ops, &r), -EINVAL); /* overlaps the start */
	assert_int_equal(bus_register(&b, 0x0800, 0x1000, &rec_ops, &r), -EINVAL); /* covers it */
	assert_int_equal(bus_register(&b, 0x1100, 0x100, &rec_ops, &r), 0);	  /* adjacent is fine */
	assert_int_equal(bus_register(&b, 0x0f00, 0x100, &rec_ops, &r), 0);
	assert_int_equal(bus_register(&b, UINT64_MAX - 0xff, 0x100, &rec_ops, &r), 0); /* up to the top */
	assert_int_equal(b.nranges, 4);
	bus_free(&b);
}

static void test_many_ranges_sorted(void **state)
{
	struct bus b;
	struct recorder r[64];
	uint8_t byte = 1;

	(void)state;
	memset(r, 0, sizeof(r));
	bus_init(&b, "pio", 0xff);
	/* Register in a scrambled order; each access must reach its own device. */
	for (unsigned int i = 0; i < 64; i++) {
		unsigned int slot = (i * 37) % 64;
		assert_int_equal(bus_register(&b, 0x100 + slot * 0x10, 0x10, &rec_ops, &r[slot]), 0);
	}
	for (unsigned int slot = 0; slot < 64; slot++) {
		assert_true(bus_access(&b, 0x100 + slot * 0x10 + 3, &byte, 1, true));
		assert_int_equal(r[slot].writes, 1);
		assert_int_equal(r[slot].last_offset, 3);
	}
	assert_false(bus_access(&b, 0x100 + 64 * 0x10, &byte, 1, true));
	assert_false(bus_access(&b, 0xff, &byte, 1, true));
	bus_free(&b);
}

static void test_bad_access_sizes(void **state)
{
	struct bus b;
	struct recorder r = { 0 };
	uint8_t buf[16];

	(void)state;
	bus_init(&b, "pio", 0xff);
	assert_int_equal(bus_register(&b, 0, 0x100, &rec_ops, &r), 0);
	assert_false(bus_access(&b, 0x10, buf, 0, true));
	assert_false(bus_access(&b, 0x10, buf, 9, true));
	assert_int_equal(r.writes, 0);
	bus_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_gives_offset),
		cmocka_unit_test(test_unclaimed_reads_fill),
		cmocka_unit_test(test_rejects_bad_ranges),
		cmocka_unit_test(test_many_ranges_sorted),
		cmocka_unit_test(test_bad_access_sizes),
	};
	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
