/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln.h's extensible structs (its header comment: how the ABI grows): a struct from a program
 * built against an older or newer kiln.h copied into the library's own, and the library's copied
 * out to the program's, the first field of each its size.
 */
#ifndef KILN_ABI_H
#define KILN_ABI_H

#include <stddef.h>
#include <stdint.h>

#include <kiln/kiln.h>

#include "util.h"

/* Above this a size was not set by an _init macro (Linux's copy_struct_from_user bounds it too). */
#define ABI_SIZE_MAX 4096

/*
 * The sizes of kiln 0.1's structs (LP64: x86-64 and arm64), the smallest a program may pass. They
 * never change; the structs grow past them. tests/abi/sizes_0_1.c checks them against the 0.1 header.
 */
#define ABI_CONFIG_SIZE_0_1 392
#define ABI_RESTORE_SIZE_0_1 256
#define ABI_EXIT_SIZE_0_1 312

/*
 * The program's struct of size bytes from the library's defaults (lib_size bytes): what both hold,
 * zero beyond the library's; its size field set to size. Writes no more than size bytes.
 */
void abi_init(void *dst, size_t size, const void *defaults, size_t lib_size);

/*
 * The program's struct src into the library's dst (lib_size bytes, holding the defaults): the
 * bytes both know; dst's size becomes lib_size. -EINVAL for a size below min_size or above
 * ABI_SIZE_MAX, -E2BIG when src sets a byte past lib_size; name (e.g. "kiln_config") in err.
 */
int abi_copy_in(void *dst, size_t lib_size, const void *src, size_t min_size, const char *name,
		struct kiln_error *err) MUST_CHECK;

/* -E2BIG when a reserved byte is set (a field of a later release), 0 if all are zero. */
int abi_check_reserved(const uint8_t *reserved, size_t n, const char *name, struct kiln_error *err) MUST_CHECK;

/* The library's src (lib_size bytes) into the program's dst of size bytes, at most; dst's size set. */
void abi_copy_out(void *dst, size_t size, const void *src, size_t lib_size);

#endif
