/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which pages of a fresh anonymous mapping code has touched (mincore(2): a page never written or
 * read is not resident), for tests that a structure's unused buffers cost a process no memory.
 */
#ifndef KILN_TESTS_SUPPORT_RESIDENT_H
#define KILN_TESTS_SUPPORT_RESIDENT_H

#include <stddef.h>

/* A fresh zero mapping of len bytes, page-aligned (a cmocka assertion fails if there is none). */
void *resident_map(size_t len);
void resident_unmap(void *base, size_t len);

/* Allows the pages that [p, p + len) spans. */
void resident_allow(const void *base, size_t maplen, const void *p, size_t len);

/*
 * Fails the test (naming the page) if a page of the mapping is resident that no resident_allow
 * since resident_map allowed; returns how many pages are resident.
 */
size_t resident_check(const void *base, size_t maplen);

#endif
