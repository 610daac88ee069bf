// SPDX-License-Identifier: Apache-2.0
/*
 * The arm64 Image header and placement (arch/arm64/image.c), against headers laid out here from
 * Documentation/arch/arm64/booting.rst: a current kernel, one from before v3.17 (image_size 0),
 * bad magic, a big-endian kernel, short files, image_size below the file; placement at RAM's base,
 * above an unaligned base, exactly filling RAM and one byte too big, at the top of the address
 * space.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "arch/arm64/image.h"

#define FILE_LEN 4096

/* booting.rst: code0, code1, text_offset, image_size, flags, res2-4, magic, res5; LE fields. */
static void put_le(uint8_t *p, unsigned int bytes, uint64_t v)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void header(uint8_t *img, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	memset(img, 0x5a, FILE_LEN); /* code and payload: anything */
	put_le(img + 8, 8, text_offset);
	put_le(img + 16, 8, image_size);
	put_le(img + 24, 8, flags);
	memset(img + 32, 0, 24);     /* res2-res4 */
	memcpy(img + 56, "ARM\x64", 4);
}

static void parse_ok(const uint8_t *img, size_t len, struct arm64_image *im)
{
	char why[160] = "";

	if (arm64_image_parse(img, len, im, why, sizeof(why)) != 0)
		fail_msg("arm64_image_parse: %s", why);
}

/* Refused with -ENOEXEC and a one-line why containing want; *out is left alone. */
static void parse_refused(const uint8_t *img, size_t len, const char *want)
{
	struct arm64_image im = { 1, 2, 3 };
	char why[160] = "";

	assert_int_equal(arm64_image_parse(img, len, &im, why, sizeof(why)), -ENOEXEC);
	if (strstr(why, want) == NULL)
		fail_msg("why \"%s\", want \"%s\"", why, want);
	assert_null(strchr(why, '\n'));
	assert_int_equal(im.text_offset, 1);
	assert_int_equal(im.image_size, 2);
	assert_int_equal(im.file_size, 3);
}

static void test_current_kernel(void **state)
{
	static uint8_t img[FILE_LEN];
	struct arm64_image im;

	(void)state;
	/* flags 0xa: 4 KiB pages (bits 1-2 = 1), placed anywhere (bit 3): both fine */
	header(img, 0, 0x2000000, 0xa);
	parse_ok(img, sizeof(img), &im);
	assert_int_equal(im.text_offset, 0);
	assert_int_equal(im.image_size, 0x2000000);
	assert_int_equal(im.file_size, FILE_LEN);

	/* every byte of both fields read, little-endian */
	header(img, 0x0807060504030201ull, 0x1122334455667788ull, 0);
	parse_ok(img, sizeof(img), &im);
	assert_int_equal(im.text_offset, 0x0807060504030201ull);
	assert_int_equal(im.image_size, 0x1122334455667788ull);

	/* image_size equal to the file: no BSS beyond it, still fine */
	header(img, 0x80000, FILE_LEN, 0);
	parse_ok(img, sizeof(img), &im);
	assert_int_equal(im.image_size, FILE_LEN);
	assert_int_equal(im.text_offset, 0x80000);
}

/* Before v3.17: image_size 0, text_offset of unknown endianness, taken as 0x80000. */
static void test_old_kernel(void **state)
{
	static uint8_t img[FILE_LEN];
	struct arm64_image im;

	(void)state;
	header(img, 0x0000080000000000ull, 0, 0); /* 0x80000 big-endian, as such a kernel may say */
	parse_ok(img, 3000, &im);
	assert_int_equal(im.text_offset, ARM64_IMAGE_OLD_TEXT_OFFSET);
	assert_int_equal(im.image_size, 3000);
	assert_int_equal(im.file_size, 3000);
}

static void test_bad_magic(void **state)
{
	static uint8_t img[FILE_LEN];

	(void)state;
	header(img, 0, 0x2000000, 0);
	img[59] = 0x65;
	parse_refused(img, sizeof(img), "not an arm64 Image");
	header(img, 0, 0x2000000, 0);
	memset(img + 56, 0, 4);
	memcpy(img + 52, "ARM\x64", 4); /* in the wrong place */
	parse_refused(img, sizeof(img), "not an arm64 Image");
	memset(img, 0, sizeof(img));
	parse_refused(img, sizeof(img), "no \"ARM\\x64\" at byte 56");
}

static void test_big_endian_kernel(void **state)
{
	static uint8_t img[FILE_LEN];

	(void)state;
	header(img, 0, 0x2000000, 1);
	parse_refused(img, sizeof(img), "big-endian");
	header(img, 0, 0x2000000, 0xf);
	parse_refused(img, sizeof(img), "big-endian");
}

static void test_truncated(void **state)
{
	static uint8_t img[FILE_LEN];

	(void)state;
	header(img, 0, 0x2000000, 0);
	parse_refused(img, ARM64_IMAGE_HEADER_SIZE - 1, "63 bytes: shorter than an arm64 Image header");
	parse_refused(img, 0, "0 bytes");
}

static void test_image_size_below_file(void **state)
{
	static uint8_t img[FILE_LEN];

	(void)state;
	header(img, 0, FILE_LEN - 1, 0);
	parse_refused(img, sizeof(img), "image_size 0xfff is below its file's 4096 bytes");
	header(img, 0, 1, 0);
	parse_refused(img, sizeof(img), "image_size 0x1 is below");
}

static void test_parse_null(void **state)
{
	static uint8_t img[FILE_LEN];
	struct arm64_image im;
	char why[64];

	(void)state;
	header(img, 0, 0x2000000, 0);
	assert_int_equal(arm64_image_parse(NULL, sizeof(img), &im, why, sizeof(why)), -EINVAL);
	assert_int_equal(arm64_image_parse(img, sizeof(img), NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(arm64_image_parse(img, 10, &im, NULL, 0), -ENOEXEC); /* why is optional */
}

/* --- placement -------------------------------------------------------------------------------- */

static uint64_t place_ok(uint64_t text_offset, uint64_t image_size, uint64_t ram_base,
			 uint64_t ram_size)
{
	const struct arm64_image im = { text_offset, image_size, 0 };
	uint64_t load = 0;
	char why[200] = "";

	if (arm64_image_place(&im, ram_base, ram_size, &load, why, sizeof(why)) != 0)
		fail_msg("arm64_image_place: %s", why);
	return load;
}

static void place_too_big(uint64_t text_offset, uint64_t image_size, uint64_t ram_base,
			  uint64_t ram_size)
{
	const struct arm64_image im = { text_offset, image_size, 0 };
	uint64_t load = 7;
	char why[200] = "";

	assert_int_equal(arm64_image_place(&im, ram_base, ram_size, &load, why, sizeof(why)), -E2BIG);
	assert_non_null(strstr(why, "does not fit in RAM"));
	assert_null(strchr(why, '\n'));
	assert_int_equal(load, 7);
}

static void test_place_at_ram_base(void **state)
{
	(void)state;
	assert_int_equal(place_ok(0, 0x2000000, 0x40000000, 0x10000000), 0x40000000);
	assert_int_equal(place_ok(0x80000, 0x2000000, 0x40000000, 0x10000000), 0x40080000);
	assert_int_equal(place_ok(0, 0x2000000, 0, 0x10000000), 0);
}

/* The base rounds up to 2 MiB; the room lost to it counts against RAM. */
static void test_place_unaligned_ram(void **state)
{
	(void)state;
	assert_int_equal(place_ok(0, 0x1000, 0x40000001, 0x10000000), 0x40200000);
	assert_int_equal(place_ok(0x80000, 0x1000, 0x40100000, 0x10000000), 0x40280000);
	/* 1 MiB of RAM below the first aligned address: nothing fits */
	place_too_big(0, 1, 0x40100000, 0x100000);
	/* exactly to RAM's end from the aligned base, then a byte more */
	assert_int_equal(place_ok(0x80000, 0x1000000 - 0x80000, 0x40100000, 0x1100000), 0x40280000);
	place_too_big(0x80000, 0x1000000 - 0x80000 + 1, 0x40100000, 0x1100000);
}

static void test_place_too_big(void **state)
{
	(void)state;
	assert_int_equal(place_ok(0, 0x10000000, 0x40000000, 0x10000000), 0x40000000);
	place_too_big(0, 0x10000001, 0x40000000, 0x10000000);
	place_too_big(0x80000, 0x10000000 - 0x80000 + 1, 0x40000000, 0x10000000);
	/* an empty kernel still needs its load address in RAM (the fuzz target found this) */
	place_too_big(0x10000000, 0, 0x40000000, 0x10000000);
	/* fields no sum may overflow */
	place_too_big(UINT64_MAX, 1, 0x40000000, 0x10000000);
	place_too_big(0, UINT64_MAX, 0x40000000, 0x10000000);
	place_too_big(0x80000, UINT64_MAX - 0x7ffff, 0x40000000, 0x10000000);
	place_too_big(0, 1, 0x40000000, 0);
}

/* RAM ending at 2^64: rounding its base up must not wrap to 0. */
static void test_place_top_of_address_space(void **state)
{
	const struct arm64_image im = { 0, 1, 0 };
	uint64_t load;
	char why[200] = "";

	(void)state;
	assert_int_equal(place_ok(0, 0x200000, 0xffffffffffe00000ull, 0x200000), 0xffffffffffe00000ull);
	place_too_big(0, 1, 0xfffffffffff00000ull, 0x100000);
	/* one past RAM's end is 2^64 there: it must not come back as address 0 */
	place_too_big(0x200000, 0, 0xffffffffffe00000ull, 0x200000);
	/* RAM that wraps past 2^64 is the caller's error */
	assert_int_equal(arm64_image_place(&im, 0xffffffffffe00000ull, 0x400000, &load, why,
					   sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "wraps past 2^64"));
	assert_int_equal(arm64_image_place(NULL, 0, 0x1000000, &load, why, sizeof(why)), -EINVAL);
	assert_int_equal(arm64_image_place(&im, 0, 0x1000000, NULL, why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_kernel),
		cmocka_unit_test(test_old_kernel),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_big_endian_kernel),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_image_size_below_file),
		cmocka_unit_test(test_parse_null),
		cmocka_unit_test(test_place_at_ram_base),
		cmocka_unit_test(test_place_unaligned_ram),
		cmocka_unit_test(test_place_too_big),
		cmocka_unit_test(test_place_top_of_address_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
