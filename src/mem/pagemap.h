/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which pages of this process's anonymous memory were ever populated, from /proc/self/pagemap
 * (Documentation/admin-guide/mm/pagemap.rst: bit 63 "page present", bit 62 "page swapped"). A
 * page of a private anonymous mapping that is neither was never written and reads as zeros, so a
 * Full snapshot skips it without touching it: reading it would fault in the zero page, which for
 * gigabytes of untouched guest RAM costs more than the whole rest of the snapshot.
 */
#ifndef KILN_MEM_PAGEMAP_H
#define KILN_MEM_PAGEMAP_H

#include <stdint.h>

#include "util.h"

#define PAGEMAP_PAGE 4096u

/*
 * Sets bit i of populated (64-bit words, a bit per PAGEMAP_PAGE page of [addr, addr + bytes)) for
 * each page that is present or swapped, and clears the others. addr and bytes are page-aligned.
 * 0, or -errno (no /proc, a sandbox that refuses the open): the caller must then read every page.
 */
int pagemap_populated(const void *addr, uint64_t bytes, uint64_t *populated) MUST_CHECK;

#endif
