/* SPDX-License-Identifier: Apache-2.0 */
/* A unit test's scratch directory under /tmp and the files it makes or reads there. */
#ifndef KILN_TESTS_SUPPORT_SCRATCH_H
#define KILN_TESTS_SUPPORT_SCRATCH_H

#include <stddef.h>

extern char scratch_dir[64];

/* Makes /tmp/kiln-test-NAME.XXXXXX into scratch_dir. 0, or -1 (errno set). */
int scratch_make_dir(const char *name);
/* scratch_dir/name, in one of 16 buffers used in turn. */
const char *scratch_path(const char *name);
/* scratch_dir/name, created or truncated to size bytes (a cmocka assertion fails otherwise). */
void scratch_make_file(const char *name, size_t size);
/* The whole file at path as a NUL-terminated string, malloc'd (a cmocka assertion fails if unreadable). */
char *scratch_read_text(const char *path);

#endif
