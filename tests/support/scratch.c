/* SPDX-License-Identifier: Apache-2.0 */
#include "support/scratch.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

char scratch_dir[64];

int scratch_make_dir(const char *name)
{
	snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/kiln-test-%s.XXXXXX", name);
	return mkdtemp(scratch_dir) ? 0 : -1;
}

const char *scratch_path(const char *name)
{
	static char paths[16][128];
	static unsigned int next;
	char *p = paths[next++ % 16];

	snprintf(p, sizeof(paths[0]), "%s/%s", scratch_dir, name);
	return p;
}

void scratch_make_file(const char *name, size_t size)
{
	int fd = open(scratch_path(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

char *scratch_read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}
