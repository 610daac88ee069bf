/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* mkostemp */
#include "snapshot/memfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Each run of non-zero pages in one pwrite; zero pages stay holes of the pre-sized file. */
static int write_pages(int fd, const uint8_t *ram, uint64_t bytes, struct memfile_stats *stats)
{
	uint64_t run_start = 0, run_len = 0;

	for (uint64_t off = 0; off < bytes; off += MEMFILE_PAGE) {
		if (!page_is_zero(ram + off)) {
			if (run_len == 0)
				run_start = off;
			run_len += MEMFILE_PAGE;
			stats->pages_written++;
			continue;
		}
		if (run_len > 0) {
			int rc = write_all(fd, ram + run_start, run_len, run_start);
			if (rc < 0)
				return rc;
			stats->bytes_written += run_len;
			run_len = 0;
		}
	}
	if (run_len > 0) {
		int rc = write_all(fd, ram + run_start, run_len, run_start);
		if (rc < 0)
			return rc;
		stats->bytes_written += run_len;
	}
	return 0;
}

int memfile_save(const void *ram, uint64_t bytes, const char *path, struct memfile_stats *stats)
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
		rc = write_pages(fd, ram, bytes, stats);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
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
