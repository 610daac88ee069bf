/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc_count.h — counts of this process's own resources in /proc/self, for the libkiln tests that
 * check a VM leaves none behind (test_threads, test_start_failure).
 */
#ifndef KILN_TESTS_PROC_COUNT_H
#define KILN_TESTS_PROC_COUNT_H

#include <dirent.h>
#include <errno.h>
#include <string.h>

/* The entries of a /proc/self directory ("fd": open fds, the one reading it included; "task": threads). */
static inline int proc_count(const char *name)
{
	char path[64] = "/proc/self/";
	DIR *d;
	int n = 0;

	strncat(path, name, sizeof(path) - sizeof("/proc/self/"));
	d = opendir(path);
	if (d == NULL)
		return -errno;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#endif
