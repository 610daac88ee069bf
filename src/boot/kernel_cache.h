/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernels kiln decompressed, kept on disk by the SHA-256 of the file they came from, so that the
 * next boot of the same file skips the decompression: $KILN_CACHE/vmlinux/, else
 * $XDG_CACHE_HOME/kiln/vmlinux/, else $HOME/.cache/kiln/vmlinux/ (made 0700). An entry is a small
 * header (magic, the source's digest, the data's size) and the data. A cache file is input from a
 * stranger too: it is used only when it is a regular file of this user's, writable by no one
 * else, whose header names the same digest and size; its contents are checked by the loader as any
 * kernel's. Entries are written to a temporary file and renamed, so none is ever seen half-written.
 */
#ifndef KILN_BOOT_KERNEL_CACHE_H
#define KILN_BOOT_KERNEL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/sha256.h"
#include "util.h"

/* An entry mapped read-only: data[0, size) inside the mapping [map, map + map_len). */
struct kernel_cache_entry {
	const uint8_t *data;
	size_t size;
	void *map;
	size_t map_len;
};

/* The entry's path for a digest: 0, or -ENOENT when no cache directory is known, -ENAMETOOLONG. */
int kernel_cache_path(const uint8_t digest[SHA256_DIGEST_SIZE], char *out, size_t outlen) MUST_CHECK;

/* Maps the entry for digest: 0, -ENOENT when there is none, -EINVAL when it fails a check. */
int kernel_cache_open(const uint8_t digest[SHA256_DIGEST_SIZE], struct kernel_cache_entry *e) MUST_CHECK;
void kernel_cache_close(struct kernel_cache_entry *e);

/* Writes data as the entry for digest (making the directory when missing): 0 or -errno. */
int kernel_cache_store(const uint8_t digest[SHA256_DIGEST_SIZE], const uint8_t *data, size_t size) MUST_CHECK;

#endif
