/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot memory file: guest RAM as one sparse file, byte for byte the host mapping of guest
 * RAM (its regions at their offsets in that mapping). Zero pages are holes, so a guest that touched
 * little makes a small file; a restore maps the file MAP_PRIVATE, so pages load on first touch and
 * clones of one snapshot share what they only read.
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
 * complete and fsync'd, so a VM still mapping an older file at path keeps its pages. 0 or -errno.
 */
int memfile_save(const void *ram, uint64_t bytes, const char *path, struct memfile_stats *stats) MUST_CHECK;

/*
 * Opens path for memfile_map, once for any number of VMs: it must be a regular file of exactly
 * bytes. The fd (close-on-exec), or -errno with a one-line reason in why.
 */
int memfile_open(const char *path, uint64_t bytes, char *why, size_t whylen) MUST_CHECK;

/*
 * Maps the file memfile_open gave, copy-on-write over ram (replacing that mapping at the same
 * address): nothing is copied, pages load on first touch. 0, or -errno with a one-line reason in why.
 */
int memfile_map(void *ram, uint64_t bytes, int fd, char *why, size_t whylen) MUST_CHECK;

#endif
