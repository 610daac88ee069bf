/* SPDX-License-Identifier: Apache-2.0 */
/* fd_limit.c: raising the soft fd limit, counting open fds, and what a limit leaves. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "fd_limit.h"

static void spare_is_what_the_limit_leaves(void **state)
{
	(void)state;
	assert_int_equal(fd_limit_spare(1024, 40, 128), 856);
	assert_int_equal(fd_limit_spare(1024, 896, 128), 0);  /* exactly used up */
	assert_int_equal(fd_limit_spare(1024, 1000, 128), 0); /* the reserve is not all there */
	assert_int_equal(fd_limit_spare(1024, 2000, 0), 0);   /* more open than the limit (lowered since) */
	assert_int_equal(fd_limit_spare(UINT64_MAX, 3, 128), UINT64_MAX - 131);
}

static void raise_takes_soft_to_hard(void **state)
{
	struct rlimit before, after;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &before), 0);
	if (before.rlim_max <= 64)
		skip(); /* no room to lower the soft limit under the hard one */
	struct rlimit low = { .rlim_cur = 64, .rlim_max = before.rlim_max };

	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(fd_limit_soft(), 64);
	int64_t soft = fd_limit_raise();

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &after), 0);
	assert_true(after.rlim_cur == before.rlim_max);
	assert_true(after.rlim_max == before.rlim_max);
	assert_true((uint64_t)soft == after.rlim_cur);
	/* At the hard limit already: nothing changes. */
	assert_int_equal(fd_limit_raise(), soft);
	assert_int_equal(fd_limit_soft(), soft);
}

static void count_sees_new_fds(void **state)
{
	int fds[2];

	(void)state;
	int64_t before = fd_limit_count_open();

	if (before == -ENOENT)
		skip(); /* no /proc here */
	assert_true(before >= 0);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fd_limit_count_open(), before + 2);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(fd_limit_count_open(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spare_is_what_the_limit_leaves),
		cmocka_unit_test(raise_takes_soft_to_hard),
		cmocka_unit_test(count_sees_new_fds),
	};
	return cmocka_run_group_tests_name("fd_limit", tests, NULL, NULL);
}
