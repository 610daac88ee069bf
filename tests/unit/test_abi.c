/* SPDX-License-Identifier: Apache-2.0 */
/*
 * abi.c: kiln.h's structs that grow, copied between a program's size and the library's by
 * Linux's rules for extensible structs (tests/abi runs whole programs built against other headers;
 * this covers each edge of the rules on a small struct of its own).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "abi.h"

/* A library's struct of 32 bytes; a program's may be smaller (older) or larger (newer). */
struct lib_struct {
	size_t size;
	uint64_t a, b, c;
};

#define LIB_SIZE sizeof(struct lib_struct)
#define MIN_SIZE 16 /* an older release's: size and a */

static const struct lib_struct defaults = { .size = LIB_SIZE, .a = 1, .b = 2, .c = 3 };

/* A program's struct of up to 64 bytes, each byte 0xee until written. */
struct program_struct {
	union {
		size_t size;
		unsigned char bytes[64];
	};
};

static struct program_struct program(size_t size)
{
	struct program_struct p;

	memset(&p, 0xee, sizeof(p));
	memset(p.bytes, 0, size);
	memcpy(p.bytes, &size, sizeof(size));
	return p;
}

static struct kiln_error err;

static int copy_in(const struct program_struct *p, struct lib_struct *dst)
{
	*dst = defaults;
	memset(&err, 0, sizeof(err));
	return abi_copy_in(dst, LIB_SIZE, p, MIN_SIZE, "kiln_test", &err);
}

static void test_smaller_gets_defaults(void **state)
{
	struct program_struct p = program(MIN_SIZE);
	struct lib_struct got;

	(void)state;
	memcpy(p.bytes + 8, &(uint64_t){ 7 }, 8);
	assert_int_equal(copy_in(&p, &got), 0);
	assert_int_equal(got.size, LIB_SIZE);
	assert_int_equal(got.a, 7); /* the program's */
	assert_int_equal(got.b, 2); /* the library's defaults for what it lacks */
	assert_int_equal(got.c, 3);
}

static void test_larger_zero_tail_accepted(void **state)
{
	struct program_struct p = program(48);
	struct lib_struct got;

	(void)state;
	memcpy(p.bytes + 24, &(uint64_t){ 9 }, 8);
	assert_int_equal(copy_in(&p, &got), 0);
	assert_int_equal(got.size, LIB_SIZE);
	assert_int_equal(got.c, 9);
}

static void test_larger_set_tail_refused(void **state)
{
	struct program_struct p = program(48);
	struct lib_struct got;

	(void)state;
	p.bytes[45] = 1;
	assert_int_equal(copy_in(&p, &got), -E2BIG);
	assert_non_null(strstr(err.msg, "kiln_test: byte 45 of 48 is set, past the 32 bytes"));
	assert_null(strchr(err.msg, '\n'));
	/* The byte right past the library's is checked too. */
	p.bytes[45] = 0;
	p.bytes[LIB_SIZE] = 0x80;
	assert_int_equal(copy_in(&p, &got), -E2BIG);
}

static void test_sizes_out_of_range(void **state)
{
	struct program_struct p = program(MIN_SIZE - 8);
	struct lib_struct got;

	(void)state;
	assert_int_equal(copy_in(&p, &got), -EINVAL);
	assert_non_null(strstr(err.msg, "kiln_test.size 8: not a size of this struct (16 to 4096 bytes)"));
	assert_non_null(strstr(err.msg, "kiln_test_init"));
	/* A size no struct has (garbage: the program never called _init) is refused before reading. */
	size_t huge = ABI_SIZE_MAX + 1;
	memcpy(p.bytes, &huge, sizeof(huge));
	assert_int_equal(copy_in(&p, &got), -EINVAL);
}

static void test_init_writes_only_size(void **state)
{
	struct program_struct p;
	struct lib_struct got;

	(void)state;
	memset(&p, 0xee, sizeof(p));
	abi_init(&p, MIN_SIZE, &defaults, LIB_SIZE);
	assert_int_equal(p.size, MIN_SIZE);
	assert_int_equal(p.bytes[8], 1); /* defaults.a */
	for (size_t i = MIN_SIZE; i < sizeof(p.bytes); i++)
		assert_int_equal(p.bytes[i], 0xee);
	/* Larger: the library's defaults, then zero up to the program's size. */
	memset(&p, 0xee, sizeof(p));
	abi_init(&p, 48, &defaults, LIB_SIZE);
	assert_int_equal(p.size, 48);
	for (size_t i = LIB_SIZE; i < 48; i++)
		assert_int_equal(p.bytes[i], 0);
	assert_int_equal(p.bytes[48], 0xee);
	assert_int_equal(copy_in(&p, &got), 0);
	assert_int_equal(got.c, 3);
}

static void test_copy_out_at_most_size(void **state)
{
	struct program_struct p;
	struct lib_struct full = defaults;

	(void)state;
	memset(&p, 0xee, sizeof(p));
	abi_copy_out(&p, MIN_SIZE, &full, LIB_SIZE);
	assert_int_equal(p.size, MIN_SIZE);
	assert_int_equal(p.bytes[MIN_SIZE], 0xee);
	memset(&p, 0xee, sizeof(p));
	abi_copy_out(&p, 48, &full, LIB_SIZE);
	assert_int_equal(p.size, LIB_SIZE); /* what was written: the newer fields are not */
	assert_int_equal(p.bytes[LIB_SIZE], 0xee);
}

static void test_reserved(void **state)
{
	uint8_t reserved[5] = { 0 };

	(void)state;
	assert_int_equal(abi_check_reserved(reserved, sizeof(reserved), "kiln_test", &err), 0);
	reserved[3] = 0x40;
	assert_int_equal(abi_check_reserved(reserved, sizeof(reserved), "kiln_test", &err), -E2BIG);
	assert_non_null(strstr(err.msg, "kiln_test.reserved[3] is 0x40"));
}

/* Through the public functions: a kiln_config of 0.1's size is served, a smaller one refused. */
static void test_config_sizes(void **state)
{
	struct kiln_config cfg;

	(void)state;
	kiln_config_init_sized(&cfg, ABI_CONFIG_SIZE_0_1);
	cfg.kernel_path = "vmlinuz";
	cfg.mem_bytes = 64 << 20;
	assert_int_equal(kiln_config_validate(&cfg, &err), 0);
	cfg.size = ABI_CONFIG_SIZE_0_1 - 8;
	assert_int_equal(kiln_config_validate(&cfg, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smaller_gets_defaults),
		cmocka_unit_test(test_larger_zero_tail_accepted),
		cmocka_unit_test(test_larger_set_tail_refused),
		cmocka_unit_test(test_sizes_out_of_range),
		cmocka_unit_test(test_init_writes_only_size),
		cmocka_unit_test(test_copy_out_at_most_size),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_config_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
