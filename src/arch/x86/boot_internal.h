/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the parts of the x86 kernel loader (boot.c, bzimage.c, pvh.c); not for other modules. */
#ifndef KILN_ARCH_X86_BOOT_INTERNAL_H
#define KILN_ARCH_X86_BOOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/boot.h"
#include "mem/gmem.h"
#include "util.h"

#define X86_BOOT_PAGE_SIZE 4096ull

/* One load in progress. */
struct x86_boot_ctx {
	const struct gmem *m;
	const struct x86_boot_input *in;
	uint64_t low_ram_end; /* end of the RAM below the MMIO hole (it starts at 0) */
	struct x86_e820_entry e820[X86_E820_MAX_ENTRIES];
	unsigned int e820_count;
	char *err;
	size_t errlen;
};

/* Writes one line into ctx->err and returns errnum (a negative errno), for `return x86_boot_err(...)`. */
int x86_boot_err(const struct x86_boot_ctx *ctx, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when [offset, offset + len) lies inside a file of file_size bytes. */
bool x86_boot_file_has(size_t file_size, uint64_t offset, uint64_t len);

/* Copies the command line (at most max_len bytes before its NUL) to X86_CMDLINE_ADDR. */
int x86_boot_load_cmdline(const struct x86_boot_ctx *ctx, uint64_t max_len) MUST_CHECK;

/*
 * Copies the initrd, if any, to the highest page-aligned address where it lies inside
 * [lowest, limit) and below the end of low RAM. *gpa is its address, or 0 without an initrd.
 */
int x86_boot_load_initrd(const struct x86_boot_ctx *ctx, gpa_t lowest, uint64_t limit, gpa_t *gpa)
	MUST_CHECK;

/* A Linux bzImage: the "HdrS" signature of the setup header at 0x202. */
bool bzimage_detect(const uint8_t *file, size_t size);
int bzimage_load(const struct x86_boot_ctx *ctx, struct x86_entry *entry) MUST_CHECK;

/* An ELF file (any class; pvh_load says what it does not accept). */
bool pvh_detect(const uint8_t *file, size_t size);
int pvh_load(const struct x86_boot_ctx *ctx, struct x86_entry *entry) MUST_CHECK;

#endif
