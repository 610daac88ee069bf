/* SPDX-License-Identifier: Apache-2.0 */
#include "support/seccomp_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#define SANITIZER_BUILD true
#else
#define SANITIZER_BUILD false
#endif

int seccomp_check(enum seccomp_thread t)
{
	const struct seccomp_program *p = seccomp_program(t);
	size_t bytes = (size_t)p->len * sizeof(p->insns[0]);
	FILE *f = tmpfile();
	int rc = f ? seccomp_export(t, SANITIZER_BUILD, fileno(f)) : -errno;
	off_t len = rc == 0 ? lseek(fileno(f), 0, SEEK_END) : 0;
	void *built = len > 0 ? malloc((size_t)len) : NULL;

	if (rc == 0 && (built == NULL || pread(fileno(f), built, (size_t)len, 0) != len))
		rc = -EIO;
	if (rc == 0 && ((size_t)len != bytes || memcmp(built, p->insns, bytes) != 0 ||
			strcmp(p->name, seccomp_thread_name(t)) != 0))
		rc = -ESTALE;
	free(built);
	if (f)
		fclose(f);
	return rc;
}
