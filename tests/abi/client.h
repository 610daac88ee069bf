/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What tests/abi's two programs share: TAP-style checks, and structs placed against an
 * inaccessible page. Each program is built against one kiln.h (the 0.1 copy, or a later one that
 * tests/abi/next.awk makes) and run against a libkiln.so.0 built from another; this file uses no
 * kiln.h, so it means the same in both.
 */
#ifndef KILN_TESTS_ABI_CLIENT_H
#define KILN_TESTS_ABI_CLIENT_H

#include <stddef.h>

void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The number of failed checks, for main's exit status. */
int checks_failed(void);

/*
 * size bytes filled with fill, ending where an inaccessible page begins: a library that reads or
 * writes one byte past the size the program gave it faults. Never freed (a test's few pages).
 */
void *guard_alloc(size_t size, unsigned char fill);

/* Whether msg is one line: not empty, no newline. */
int one_line(const char *msg);

#endif
