/* SPDX-License-Identifier: Apache-2.0 */
#include "fd_limit.h"

#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>

int64_t fd_limit_soft(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return -errno;
	return r.rlim_cur > INT64_MAX ? INT64_MAX : (int64_t)r.rlim_cur;
}

int64_t fd_limit_raise(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return -errno;
	/* soft <= hard always holds, so this never lowers it; RLIM_INFINITY compares highest. */
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r) < 0)
			return -errno;
	}
	return r.rlim_cur > INT64_MAX ? INT64_MAX : (int64_t)r.rlim_cur;
}

int64_t fd_limit_count_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	int64_t n = 0;

	if (d == NULL)
		return -errno;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

uint64_t fd_limit_spare(uint64_t soft, uint64_t open, uint64_t reserve)
{
	if (open >= soft || reserve >= soft - open)
		return 0;
	return soft - open - reserve;
}
