/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux arm64 Image header (Documentation/arch/arm64/booting.rst) and the Image's place. */
#include "arch/arm64/image.h"

#include <errno.h>
#include <inttypes.h>

/* booting.rst, the 64-byte header: code0, code1, then these little-endian fields (since v3.17). */
#define IMAGE_TEXT_OFFSET 8
#define IMAGE_IMAGE_SIZE 16
#define IMAGE_FLAGS 24
#define IMAGE_MAGIC 56
#define IMAGE_MAGIC_VALUE 0x644d5241u /* "ARM\x64", little-endian */
#define IMAGE_FLAG_BE 1u              /* flags bit 0: the kernel is big-endian */

static uint64_t image_le(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int arm64_image_parse(const void *img, size_t len, struct arm64_image *out, char *why,
		      size_t why_len)
{
	const uint8_t *h = img;
	struct arm64_image im = { .file_size = len };

	if (img == NULL || out == NULL)
		return fail_einval(why, why_len, "no Image or no result");
	if (len < ARM64_IMAGE_HEADER_SIZE)
		return fail_with(why, why_len, -ENOEXEC, "%zu bytes: shorter than an arm64 Image "
				 "header (%u bytes)", len, ARM64_IMAGE_HEADER_SIZE);
	if (image_le(h + IMAGE_MAGIC, 4) != IMAGE_MAGIC_VALUE)
		return fail_with(why, why_len, -ENOEXEC, "not an arm64 Image: no \"ARM\\x64\" at "
				 "byte %u", IMAGE_MAGIC);
	if (image_le(h + IMAGE_FLAGS, 8) & IMAGE_FLAG_BE)
		return fail_with(why, why_len, -ENOEXEC, "a big-endian arm64 kernel (flags bit 0): "
				 "kiln runs little-endian guests");
	im.image_size = image_le(h + IMAGE_IMAGE_SIZE, 8);
	if (im.image_size == 0) {
		/* booting.rst: before v3.17 image_size is 0, text_offset's endianness is
		 * unspecified and is to be taken as 0x80000. */
		im.text_offset = ARM64_IMAGE_OLD_TEXT_OFFSET;
		im.image_size = len;
	} else {
		im.text_offset = image_le(h + IMAGE_TEXT_OFFSET, 8);
	}
	/* image_size covers the file and the kernel's BSS beyond it. */
	if (im.image_size < len)
		return fail_with(why, why_len, -ENOEXEC, "the Image's image_size %#" PRIx64 " is below "
				 "its file's %zu bytes", im.image_size, len);
	*out = im;
	return 0;
}

int arm64_image_place(const struct arm64_image *im, uint64_t ram_base, uint64_t ram_size,
		      uint64_t *load_addr, char *why, size_t why_len)
{
	const uint64_t align = ARM64_IMAGE_BASE_ALIGN;
	uint64_t pad;

	if (im == NULL || load_addr == NULL)
		return fail_einval(why, why_len, "no Image or no result");
	if (ram_size != 0 && ram_base + (ram_size - 1) < ram_base)
		return fail_einval(why, why_len, "RAM at %#" PRIx64 " + %#" PRIx64 " wraps past 2^64",
				   ram_base, ram_size);
	/* booting.rst: text_offset bytes above a 2 MiB aligned base in RAM, image_size bytes free
	 * from there. The base is RAM's first aligned address: kernels before v4.6 cannot use
	 * memory below it. Compared as room left in RAM, so that nothing wraps; the load address
	 * itself must be in RAM (not one past its end, 0 when RAM ends at 2^64). */
	pad = ram_base % align == 0 ? 0 : align - ram_base % align;
	if (pad >= ram_size || im->text_offset >= ram_size - pad ||
	    im->image_size > ram_size - pad - im->text_offset)
		return fail_with(why, why_len, -E2BIG, "the kernel (text_offset %#" PRIx64 ", "
				 "image_size %#" PRIx64 ") does not fit in RAM [%#" PRIx64 ", +%#"
				 PRIx64 ") above a 2 MiB aligned base", im->text_offset,
				 im->image_size, ram_base, ram_size);
	*load_addr = ram_base + pad + im->text_offset;
	return 0;
}
