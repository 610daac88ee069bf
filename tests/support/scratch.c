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
