/* SPDX-License-Identifier: Apache-2.0 */
#include "client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failed;

void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed += !ok;
}

int checks_failed(void)
{
	return failed;
}

void *guard_alloc(size_t size, unsigned char fill)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (size + page - 1) / page * page;
	char *p = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + span, page, PROT_NONE) < 0) {
		perror("tests/abi: guard_alloc");
		exit(2);
	}
	memset(p + span - size, fill, size);
	return p + span - size;
}

int one_line(const char *msg)
{
	return msg[0] != '\0' && strchr(msg, '\n') == NULL;
}
