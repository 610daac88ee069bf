/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux arm64 Image header and where the Image goes in RAM (Documentation/arch/arm64/
 * booting.rst, "Call the kernel image"). Pure C, built and tested on any host.
 */
#ifndef KILN_ARCH_ARM64_IMAGE_H
#define KILN_ARCH_ARM64_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h" /* MUST_CHECK, MiB */

/* booting.rst: the header is the Image's first 64 bytes. */
#define ARM64_IMAGE_HEADER_SIZE 64
/* The Image goes text_offset bytes above a base aligned to this. */
#define ARM64_IMAGE_BASE_ALIGN MiB(2)
/* text_offset of a kernel before v3.17, whose header has image_size 0. */
#define ARM64_IMAGE_OLD_TEXT_OFFSET 0x80000u

struct arm64_image { uint64_t text_offset, image_size; size_t file_size; };
/* Parses the 64-byte header of an Image of len bytes: magic "ARM\x64" at 56, little-endian fields,
 * image_size 0 => old kernel: text_offset 0x80000 and image_size = file size (booting.rst);
 * flags bit 0 (big-endian kernel) refused; image_size < file size refused; -ENOEXEC + why. */
int arm64_image_parse(const void *img, size_t len, struct arm64_image *out, char *why,
		      size_t why_len) MUST_CHECK;
/* Where the kernel goes: a 2 MiB aligned base at or above ram_base, + text_offset; the end
 * (base + text_offset + image_size) must fit in RAM: -E2BIG + why otherwise. */
int arm64_image_place(const struct arm64_image *im, uint64_t ram_base, uint64_t ram_size,
		      uint64_t *load_addr, char *why, size_t why_len) MUST_CHECK;

#endif
