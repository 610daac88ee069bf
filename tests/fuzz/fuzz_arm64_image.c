/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the arm64 Image header parser and the kernel's placement in RAM
 * (arch/arm64/image.c) on any bytes.
 *
 * Input: ram_base and ram_size (8 bytes each, little-endian), then the Image file. An input shorter
 * than 16 bytes is an Image alone, placed in the fixed RAM layouts below.
 *
 * Checks: the parser's answer is the one this file reaches reading the header on its own
 * (Documentation/arch/arm64/booting.rst): success exactly for a file of at least 64 bytes with the
 * magic "ARM\x64" at 56, flags bit 0 clear and image_size 0 or at least the file's size; then the
 * struct holds the header's little-endian text_offset and image_size (0x80000 and the file's size
 * when image_size is 0) and the file's size; a refusal is -ENOEXEC with a one-line why and the
 * struct untouched. Placement, of what the parser returned and of the header's raw fields (parsed
 * or not), in the input's RAM and in the fixed layouts: -EINVAL exactly when RAM wraps past 2^64,
 * else success exactly when base + text_offset (base: ram_base rounded up to 2 MiB) lies in RAM
 * and base + text_offset + image_size reaches no further than RAM's end (all in 128-bit
 * arithmetic); the load address is then that base + text_offset, and the kernel's end neither
 * passes RAM's end nor 2^64.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/image.h"

#define image_check(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

typedef unsigned __int128 u128;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A why: NUL-terminated inside its buffer, one line, not empty. */
static void check_why(const char *why, size_t size)
{
	size_t n = strnlen(why, size);

	image_check(n > 0 && n < size);
	image_check(memchr(why, '\n', n) == NULL);
}

static void check_place(const struct arm64_image *im, uint64_t ram_base, uint64_t ram_size)
{
	const u128 align = ARM64_IMAGE_BASE_ALIGN;
	const u128 ram_end = (u128)ram_base + ram_size;
	const u128 base = ((u128)ram_base + align - 1) / align * align;
	const u128 kernel_end = base + im->text_offset + im->image_size;
	uint64_t load = 0x1234;
	char why[256];
	int rc;

	memset(why, 0, sizeof(why));
	rc = arm64_image_place(im, ram_base, ram_size, &load, why, sizeof(why));
	if (ram_size != 0 && ram_end - 1 > UINT64_MAX) {
		image_check(rc == -EINVAL && load == 0x1234);
		check_why(why, sizeof(why));
		return;
	}
	if (base + im->text_offset >= ram_end || kernel_end > ram_end) {
		image_check(rc == -E2BIG && load == 0x1234);
		check_why(why, sizeof(why));
		return;
	}
	image_check(rc == 0);
	image_check(load == base + im->text_offset);
	image_check((load - im->text_offset) % ARM64_IMAGE_BASE_ALIGN == 0);
	image_check(load - im->text_offset >= ram_base);
	image_check((u128)load + im->image_size <= ram_end && ram_end <= (u128)UINT64_MAX + 1);
}

/* The input's RAM and kiln-like layouts: RAM at 1 GiB, at 0 (tiny), unaligned, at the top. */
static void check_places(const struct arm64_image *im, uint64_t ram_base, uint64_t ram_size)
{
	static const uint64_t fixed[][2] = {
		{ 0x40000000, 0x10000000 },
		{ 0, 0x100000 },
		{ 0x40100000, 0x1100000 },
		{ 0xffffffffffe00000ull, 0x200000 },
	};

	check_place(im, ram_base, ram_size);
	for (unsigned int i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_place(im, fixed[i][0], fixed[i][1]);
}

static void check_parse(const uint8_t *img, size_t len, uint64_t ram_base, uint64_t ram_size)
{
	const struct arm64_image untouched = { 0x11, 0x22, 0x33 };
	struct arm64_image im = untouched;
	bool ok = len >= 64 && memcmp(img + 56, "ARM\x64", 4) == 0 && (img[24] & 1) == 0 &&
		  (le64(img + 16) == 0 || le64(img + 16) >= len);
	char why[256];
	int rc;

	memset(why, 0, sizeof(why));
	rc = arm64_image_parse(img, len, &im, why, sizeof(why));
	if (!ok) {
		image_check(rc == -ENOEXEC);
		image_check(memcmp(&im, &untouched, sizeof(im)) == 0);
		check_why(why, sizeof(why));
		return;
	}
	image_check(rc == 0);
	image_check(im.file_size == len);
	if (le64(img + 16) == 0) {
		image_check(im.text_offset == 0x80000 && im.image_size == len);
	} else {
		image_check(im.text_offset == le64(img + 8));
		image_check(im.image_size == le64(img + 16));
	}
	check_places(&im, ram_base, ram_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint64_t ram_base = 0x40000000, ram_size = 0x10000000;
	const uint8_t *img = data;
	size_t img_len = len;

	if (len >= 16) {
		ram_base = le64(data);
		ram_size = le64(data + 8);
		img += 16;
		img_len -= 16;
	}
	check_parse(img, img_len, ram_base, ram_size);
	/* placement of any fields, not only of headers the parser accepts */
	if (img_len >= 24) {
		const struct arm64_image raw = { le64(img + 8), le64(img + 16), img_len };

		check_places(&raw, ram_base, ram_size);
	}
	return 0;
}
