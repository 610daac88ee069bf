/* SPDX-License-Identifier: Apache-2.0 */
#include "support/resident.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#define RESIDENT_MAX_PAGES 1024

static bool allowed[RESIDENT_MAX_PAGES];

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

void *resident_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_true(len / page_size() < RESIDENT_MAX_PAGES);
	memset(allowed, 0, sizeof(allowed));
	return p;
}

void resident_unmap(void *base, size_t len)
{
	munmap(base, len);
}

void resident_allow(const void *base, size_t maplen, const void *p, size_t len)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)base;

	assert_true(off + len <= maplen);
	for (size_t pg = off / page_size(); len && pg <= (off + len - 1) / page_size(); pg++)
		allowed[pg] = true;
}

size_t resident_check(const void *base, size_t maplen)
{
	size_t pages = (maplen + page_size() - 1) / page_size(), n = 0;
	unsigned char vec[RESIDENT_MAX_PAGES];

	assert_int_equal(mincore((void *)base, maplen, vec), 0);
	for (size_t pg = 0; pg < pages; pg++) {
		if (!(vec[pg] & 1))
			continue;
		n++;
		if (!allowed[pg])
			fail_msg("page %zu (bytes %zu-%zu) was touched", pg, pg * page_size(),
				 (pg + 1) * page_size() - 1);
	}
	return n;
}
