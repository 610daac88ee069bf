/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The x86 kernel loader's front: picks the format, and holds what both formats share (the e820
 * map, the command line, the initrd's placement). bzimage.c and pvh.c do the rest.
 */
#include "arch/x86/boot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/boot_internal.h"
#include "arch/x86/layout.h"

#define DIV_ROUND_UP(x, d) (((x) + (d) - 1) / (d))

int x86_boot_err(const struct x86_boot_ctx *ctx, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (ctx->err != NULL && ctx->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(ctx->err, ctx->errlen, fmt, ap);
		va_end(ap);
	}
	return errnum;
}

bool x86_boot_file_has(size_t file_size, uint64_t offset, uint64_t len)
{
	return offset <= file_size && len <= file_size - offset;
}

int x86_e820_build(uint64_t ram_bytes, struct x86_e820_entry out[X86_E820_MAX_ENTRIES])
{
	struct x86_ram_range ram[2];
	unsigned int nranges = x86_ram_ranges(ram_bytes, ram);
	int n = 0;

	if (ram[0].start != 0 || ram[0].size <= X86_HIGH_MEM_START)
		return -EINVAL;
	out[n++] = (struct x86_e820_entry){ 0, X86_EBDA_START, X86_E820_RAM };
	out[n++] = (struct x86_e820_entry){ X86_EBDA_START, X86_HIGH_MEM_START - X86_EBDA_START,
					    X86_E820_RESERVED };
	out[n++] = (struct x86_e820_entry){ X86_HIGH_MEM_START, ram[0].size - X86_HIGH_MEM_START,
					    X86_E820_RAM };
	if (nranges == 2)
		out[n++] = (struct x86_e820_entry){ ram[1].start, ram[1].size, X86_E820_RAM };
	return n;
}

int x86_boot_load_cmdline(const struct x86_boot_ctx *ctx, uint64_t max_len)
{
	const char *cmdline = ctx->in->cmdline != NULL ? ctx->in->cmdline : "";
	size_t len = strlen(cmdline);

	if (max_len > X86_CMDLINE_MAX - 1)
		max_len = X86_CMDLINE_MAX - 1;
	if (len > max_len)
		return x86_boot_err(ctx, -E2BIG,
				    "command line of %zu bytes is longer than the kernel's limit of %" PRIu64
				    " bytes",
				    len, max_len);
	if (gmem_write(ctx->m, X86_CMDLINE_ADDR, cmdline, len + 1) < 0)
		return x86_boot_err(ctx, -EFAULT, "guest RAM does not hold the command line at 0x%llx",
				    X86_CMDLINE_ADDR);
	return 0;
}

int x86_boot_load_initrd(const struct x86_boot_ctx *ctx, gpa_t lowest, uint64_t limit, gpa_t *gpa)
{
	uint64_t size = ctx->in->initrd_size;
	gpa_t addr;

	*gpa = 0;
	if (size == 0)
		return 0;
	if (limit > ctx->low_ram_end)
		limit = ctx->low_ram_end;
	if (size > limit || ALIGN_DOWN(limit - size, X86_BOOT_PAGE_SIZE) < lowest)
		return x86_boot_err(ctx, -ENOSPC,
				    "initrd of %" PRIu64 " MiB does not fit below 0x%" PRIx64
				    " above the kernel's end at 0x%" PRIx64 "; give the VM more memory",
				    DIV_ROUND_UP(size, MiB(1)), limit, lowest);
	addr = ALIGN_DOWN(limit - size, X86_BOOT_PAGE_SIZE);
	if (gmem_write(ctx->m, addr, ctx->in->initrd, size) < 0)
		return x86_boot_err(ctx, -EFAULT, "guest RAM does not hold the initrd at 0x%" PRIx64,
				    addr);
	*gpa = addr;
	return 0;
}

static int x86_boot_check_input(struct x86_boot_ctx *ctx)
{
	const struct x86_boot_input *in = ctx->in;
	int n;

	if (in->kernel == NULL || in->kernel_size == 0)
		return x86_boot_err(ctx, -EINVAL, "the kernel file is empty");
	if (in->initrd == NULL && in->initrd_size != 0)
		return x86_boot_err(ctx, -EINVAL, "initrd size given without its contents");
	n = x86_e820_build(in->ram_bytes, ctx->e820);
	if (n < 0)
		return x86_boot_err(ctx, -ENOSPC,
				    "%" PRIu64 " KiB of RAM is too little: the kernel is loaded at 1 MiB",
				    in->ram_bytes >> 10);
	ctx->e820_count = (unsigned int)n;
	return 0;
}

int x86_boot_load(const struct gmem *m, const struct x86_boot_input *in, struct x86_entry *entry,
		  char *err, size_t errlen)
{
	struct x86_ram_range ram[2];
	struct x86_boot_ctx ctx = { .m = m, .in = in, .err = err, .errlen = errlen };
	int ret;

	x86_ram_ranges(in->ram_bytes, ram);
	ctx.low_ram_end = ram[0].start + ram[0].size;
	ret = x86_boot_check_input(&ctx);
	if (ret < 0)
		return ret;
	/* The ELF magic at offset 0 is the stronger signature: test it first. */
	if (pvh_detect(in->kernel, in->kernel_size))
		return pvh_load(&ctx, entry);
	if (bzimage_detect(in->kernel, in->kernel_size))
		return bzimage_load(&ctx, entry);
	return x86_boot_err(&ctx, -ENOEXEC, "not a Linux bzImage or an ELF with a PVH entry note");
}
