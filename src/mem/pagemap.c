/* SPDX-License-Identifier: Apache-2.0 */
#include "mem/pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)
#define PAGEMAP_BATCH 8192u /* entries read at once: 64 KiB, 32 MiB of memory */

int pagemap_populated(const void *addr, uint64_t bytes, uint64_t *populated)
{
	uint64_t entries[PAGEMAP_BATCH];
	uint64_t first = (uintptr_t)addr / PAGEMAP_PAGE, pages = bytes / PAGEMAP_PAGE;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	memset(populated, 0, (pages + 63) / 64 * sizeof(*populated));
	for (uint64_t done = 0; done < pages;) {
		uint64_t want = pages - done < PAGEMAP_BATCH ? pages - done : PAGEMAP_BATCH;
		ssize_t n = pread(fd, entries, want * sizeof(entries[0]), (off_t)((first + done) * sizeof(entries[0])));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || n % (ssize_t)sizeof(entries[0])) {
			int rc = n < 0 ? -errno : -EIO;
			close(fd);
			return rc;
		}
		for (uint64_t i = 0; i < (uint64_t)n / sizeof(entries[0]); i++, done++)
			if (entries[i] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED))
				populated[done / 64] |= 1ull << (done % 64);
	}
	close(fd);
	return 0;
}
