/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot memory file: guest RAM as one sparse file, byte for byte the host mapping of guest
 * RAM (its regions at their offsets in that mapping). Zero pages are holes, so a guest that touched
 * little makes a small file; a restore maps the file MAP_PRIVATE, so pages load on first touch and
 * clones of one snapshot share what they only read. A Diff snapshot's memory file is a layer over
 * the one before it: its data are the pages written since, its holes mean "as before".
 */
#ifndef KILN_SNAPSHOT_MEMFILE_H
#define KILN_SNAPSHOT_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct memfile_stats {
	uint64_t pages_written; /* pages with data; the rest are holes */
	uint64_t bytes_written;
};

/*
 * Writes bytes of ram to path: a temporary file in path's directory, renamed over path once
 * complete and fsync'd, so a VM still mapping an older file at path keeps its pages. populated
 * (optional: NULL reads every page) is a bit per page, 64-bit words: a page whose bit is clear is
 * known to be zero and is not read (mem/pagemap.h). 0 or -errno.
 */
int memfile_save(const void *ram, uint64_t bytes, const uint64_t *populated, const char *path,
		 struct memfile_stats *stats) MUST_CHECK;

/*
 * A Diff's memory file: of bytes too, holding as data exactly the pages set in dirty (a bit per
 * page, 64-bit words, as gmem_dirty_take gives them), zero pages included, every other page a
 * hole. Refused with -EOPNOTSUPP where the file system does not keep that layout (blocks larger
 * than a page, no SEEK_DATA, zero blocks made holes), since a merge would then go wrong.
 */
int memfile_save_diff(const void *ram, uint64_t bytes, const uint64_t *dirty, const char *path,
		      struct memfile_stats *stats) MUST_CHECK;

/*
 * Merges a Diff's memory file onto its base in place: each data extent of diff (SEEK_DATA,
 * SEEK_HOLE), whole pages, copied over base at its offset; then base is fsync'd. The files must
 * be of one size, and base not mapped by a VM (-EBUSY: see memfile_open). stats counts what was
 * copied. 0, or -errno with a one-line reason in why.
 */
int memfile_merge(const char *base, const char *diff, struct memfile_stats *stats, char *why,
		  size_t whylen) MUST_CHECK;

/*
 * Opens path for memfile_map, once for any number of VMs: it must be a regular file of exactly
 * bytes. The open file holds a shared flock until the fd and every mapping of it (and, after a
 * fork, every process's) are gone: pages a VM has not copied yet are the file's, so memfile_merge
 * refuses to write into it meanwhile (and a file being merged into is not opened). The fd
 * (close-on-exec), or -errno with a one-line reason in why.
 */
int memfile_open(const char *path, uint64_t bytes, char *why, size_t whylen) MUST_CHECK;

/*
 * Maps the file memfile_open gave, copy-on-write over ram (replacing that mapping at the same
 * address): nothing is copied, pages load on first touch. 0, or -errno with a one-line reason in why.
 */
int memfile_map(void *ram, uint64_t bytes, int fd, char *why, size_t whylen) MUST_CHECK;

#endif
