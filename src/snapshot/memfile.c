/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* mkostemp */
#include "snapshot/memfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEMFILE_PAGE 4096u

static bool page_is_zero(const uint8_t *page)
{
	const uint64_t *w = (const uint64_t *)page;

	for (size_t i = 0; i < MEMFILE_PAGE / sizeof(*w); i++)
		if (w[i] != 0)
			return false;
	return true;
}

static int write_all(int fd, const uint8_t *data, uint64_t len, uint64_t offset)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, data, len > (1u << 30) ? (1u << 30) : len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		data += n;
		offset += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static bool bit_set(const uint64_t *map, uint64_t n)
{
	return (map[n / 64] >> (n % 64)) & 1;
}

/*
 * Whether the memory file holds page n as data: a Diff's dirty pages; a Full's non-zero pages,
 * where a page outside populated (when given) is zero without being read.
 */
static bool page_wanted(const uint8_t *ram, const uint64_t *dirty, const uint64_t *populated, uint64_t n)
{
	if (dirty)
		return bit_set(dirty, n);
	if (populated && !bit_set(populated, n))
		return false;
	return !page_is_zero(ram + n * MEMFILE_PAGE);
}

/* Each run of wanted pages in one pwrite; the others stay holes of the pre-sized file. */
static int write_pages(int fd, const uint8_t *ram, uint64_t bytes, const uint64_t *dirty,
		       const uint64_t *populated, struct memfile_stats *stats)
{
	const uint64_t *map = dirty ? dirty : populated;
	uint64_t pages = bytes / MEMFILE_PAGE, n = 0;

	while (n < pages) {
		if (map && n % 64 == 0 && map[n / 64] == 0) {
			n += 64; /* 64 clean or never populated pages at a time */
			continue;
		}
		if (!page_wanted(ram, dirty, populated, n)) {
			n++;
			continue;
		}
		uint64_t run = n;
		while (n < pages && page_wanted(ram, dirty, populated, n))
			n++;
		int rc = write_all(fd, ram + run * MEMFILE_PAGE, (n - run) * MEMFILE_PAGE, run * MEMFILE_PAGE);
		if (rc < 0)
			return rc;
		stats->pages_written += n - run;
		stats->bytes_written += (n - run) * MEMFILE_PAGE;
	}
	return 0;
}

/* [start, end) holds only dirty pages and is page-aligned; counts them into *pages. */
static bool extent_is_dirty(const uint64_t *dirty, uint64_t start, uint64_t end, uint64_t *pages)
{
	if (start % MEMFILE_PAGE || end % MEMFILE_PAGE)
		return false;
	for (uint64_t n = start / MEMFILE_PAGE; n < end / MEMFILE_PAGE; n++)
		if (!((dirty[n / 64] >> (n % 64)) & 1))
			return false;
	*pages += (end - start) / MEMFILE_PAGE;
	return true;
}

/*
 * A Diff is only as good as its holes: merging copies its data extents, so the file system must
 * keep exactly the pages written as data (zero pages included) and every other page a hole. One
 * with blocks larger than a page, no SEEK_DATA, or that turns zero blocks into holes (compression)
 * would make a merge copy stale bytes or miss pages: such a Diff is refused, not written wrong.
 */
static int check_diff_layout(int fd, uint64_t bytes, const uint64_t *dirty, uint64_t dirty_pages)
{
	uint64_t pages = 0;
	off_t pos = 0;

	while ((uint64_t)pos < bytes) {
		off_t start = lseek(fd, pos, SEEK_DATA);
		if (start < 0 && errno == ENXIO)
			break;
		off_t end = start < 0 ? -1 : lseek(fd, start, SEEK_HOLE);
		if (end < 0)
			return -errno;
		if (!extent_is_dirty(dirty, (uint64_t)start, (uint64_t)end, &pages))
			return -EOPNOTSUPP;
		pos = end;
	}
	return pages == dirty_pages ? 0 : -EOPNOTSUPP;
}

static int save(const void *ram, uint64_t bytes, const uint64_t *dirty, const uint64_t *populated,
		const char *path, struct memfile_stats *stats)
{
	char tmp[4096];
	int fd, rc;

	*stats = (struct memfile_stats){ 0 };
	if (bytes % MEMFILE_PAGE)
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = ftruncate(fd, (off_t)bytes) < 0 ? -errno : 0;
	if (rc == 0)
		rc = write_pages(fd, ram, bytes, dirty, populated, stats);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0 && dirty)
		rc = check_diff_layout(fd, bytes, dirty, stats->pages_written);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int memfile_save(const void *ram, uint64_t bytes, const uint64_t *populated, const char *path,
		 struct memfile_stats *stats)
{
	return save(ram, bytes, NULL, populated, path, stats);
}

int memfile_save_diff(const void *ram, uint64_t bytes, const uint64_t *dirty, const char *path,
		      struct memfile_stats *stats)
{
	return save(ram, bytes, dirty, NULL, path, stats);
}

int memfile_open(const char *path, uint64_t bytes, char *why, size_t whylen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail_with(why, whylen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != bytes) {
		int rc = fail_with(why, whylen, -EINVAL, "%s: not a regular file of %llu bytes (the "
				   "snapshot's guest RAM)", path, (unsigned long long)bytes);
		close(fd);
		return rc;
	}
	/*
	 * A flock belongs to the open file description (flock(2)) and goes with its last reference:
	 * this fd, its copies in forked clones, and each mapping memfile_map makes of it.
	 */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		int err = errno;
		int rc = fail_with(why, whylen, -err, "%s: %s", path,
				   err == EWOULDBLOCK ? "a Diff is being merged into it" : strerror(err));
		close(fd);
		return rc;
	}
	return fd;
}

int memfile_map(void *ram, uint64_t bytes, int fd, char *why, size_t whylen)
{
	/* PROT_WRITE on a read-only fd is fine for a private mapping: writes go to private copies. */
	void *p = mmap(ram, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0);

	if (p == MAP_FAILED)
		return fail_with(why, whylen, -errno, "mmap: %s", strerror(errno));
	return 0;
}

/* Opens path as a regular file whose size is whole pages; its stat into st. The fd, or -errno. */
static int open_memfile(const char *path, int flags, struct stat *st, char *why, size_t whylen)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return fail_with(why, whylen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size % MEMFILE_PAGE) {
		close(fd);
		return fail_with(why, whylen, -EINVAL, "%s: not a memory file (a regular file of whole 4 KiB "
				 "pages)", path);
	}
	return fd;
}

#define MERGE_CHUNK (1u << 20)

/* Copies [start, end) of diff to base, at the same offsets. */
static int copy_range(int base, int diff, uint64_t start, uint64_t end, uint8_t *buf)
{
	while (start < end) {
		size_t want = end - start < MERGE_CHUNK ? (size_t)(end - start) : MERGE_CHUNK;
		ssize_t n = pread(diff, buf, want, (off_t)start);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO; /* the file shrank under us */
		int rc = write_all(base, buf, (uint64_t)n, start);
		if (rc < 0)
			return rc;
		start += (uint64_t)n;
	}
	return 0;
}

/* Every data extent of diff over base; a Diff's extents are whole pages (check_diff_layout). */
static int copy_extents(int base, int diff, const char *diff_path, uint64_t size, struct memfile_stats *stats,
			char *why, size_t whylen)
{
	uint8_t *buf = malloc(MERGE_CHUNK);
	off_t pos = 0;
	int rc = buf ? 0 : fail_with(why, whylen, -ENOMEM, "out of memory");

	while (rc == 0 && (uint64_t)pos < size) {
		off_t start = lseek(diff, pos, SEEK_DATA);
		if (start < 0 && errno == ENXIO)
			break; /* only holes from pos on */
		off_t end = start < 0 ? -1 : lseek(diff, start, SEEK_HOLE);
		if (end < 0) {
			rc = fail_with(why, whylen, -errno, "%s: SEEK_DATA/SEEK_HOLE: %s", diff_path, strerror(errno));
			break;
		}
		if (start % MEMFILE_PAGE || end % MEMFILE_PAGE) {
			rc = fail_with(why, whylen, -EINVAL, "%s: data at bytes %lld to %lld, not whole 4 KiB pages: "
				       "not a Diff snapshot's memory file", diff_path, (long long)start, (long long)end);
			break;
		}
		rc = copy_range(base, diff, (uint64_t)start, (uint64_t)end, buf);
		if (rc < 0) {
			fail_with(why, whylen, rc, "%s: copying bytes %lld to %lld: %s", diff_path, (long long)start,
				  (long long)end, strerror(-rc));
			break;
		}
		stats->pages_written += (uint64_t)(end - start) / MEMFILE_PAGE;
		stats->bytes_written += (uint64_t)(end - start);
		pos = end;
	}
	free(buf);
	return rc;
}

/*
 * Pages a VM has not copied yet are read from its memory file (memfile_map), so writing into one
 * that a VM maps would change its guest's memory under it: the shared flock of every mapping
 * makes this exclusive one fail. It is dropped when base is closed.
 */
static int lock_base(int base, const char *base_path, char *why, size_t whylen)
{
	if (flock(base, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return fail_with(why, whylen, -EBUSY, "%s: a running VM maps it (it was restored from it): "
				 "merge into a copy", base_path);
	return fail_with(why, whylen, -errno, "%s: flock: %s", base_path, strerror(errno));
}

int memfile_merge(const char *base_path, const char *diff_path, struct memfile_stats *stats, char *why,
		  size_t whylen)
{
	struct stat bst, dst;
	int diff = open_memfile(diff_path, O_RDONLY, &dst, why, whylen);
	int base = diff < 0 ? -1 : open_memfile(base_path, O_RDWR, &bst, why, whylen);
	int rc = base < 0 ? (diff < 0 ? diff : base) : 0;

	*stats = (struct memfile_stats){ 0 };
	if (rc == 0 && bst.st_dev == dst.st_dev && bst.st_ino == dst.st_ino)
		rc = fail_with(why, whylen, -EINVAL, "%s and %s are the same file", base_path, diff_path);
	if (rc == 0 && bst.st_size != dst.st_size)
		rc = fail_with(why, whylen, -EINVAL, "%s has %lld bytes and %s %lld: not the same guest RAM",
			       base_path, (long long)bst.st_size, diff_path, (long long)dst.st_size);
	if (rc == 0)
		rc = lock_base(base, base_path, why, whylen);
	if (rc == 0)
		rc = copy_extents(base, diff, diff_path, (uint64_t)dst.st_size, stats, why, whylen);
	if (rc == 0 && fsync(base) < 0)
		rc = fail_with(why, whylen, -errno, "%s: fsync: %s", base_path, strerror(errno));
	if (base >= 0 && close(base) < 0 && rc == 0)
		rc = fail_with(why, whylen, -errno, "%s: %s", base_path, strerror(errno));
	if (diff >= 0)
		close(diff);
	return rc;
}
