/* SPDX-License-Identifier: Apache-2.0 */
/* io/seccomp.c, the API thread's class: its program is its table's, it serves sockets, it opens no file. */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/seccomp.h"
#include "support/seccomp_check.h"

/* Runs fn in a child under the API thread's filter; returns the child's wait status. */
static int run_filtered(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (seccomp_install(SECCOMP_THREAD_API) < 0)
			_exit(100);
		fn();
		syscall(SYS_exit, 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* A connected pair made before the filter, as the API socket is (socketpair is not on the list). */
static int pair[2];

/* What the API thread does (api/server.c): poll, receive, send, close. */
static void serve(void)
{
	char byte = 'x';
	struct pollfd p = { .fd = pair[1], .events = POLLIN };

	if (send(pair[0], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1 || poll(&p, 1, 0) != 1 ||
	    recv(pair[1], &byte, 1, MSG_DONTWAIT) != 1 || close(pair[0]) < 0 || close(pair[1]) < 0)
		syscall(SYS_exit, 1);
	syscall(SYS_exit, 42);
}

static void open_a_file(void)
{
	syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
	syscall(SYS_exit, 0);
}

static void test_program_matches_table(void **state)
{
	(void)state;
	assert_int_equal(seccomp_check(SECCOMP_THREAD_API), 0);
}

static void test_serving_is_allowed(void **state)
{
	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	int status = run_filtered(serve);
	close(pair[0]);
	close(pair[1]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
}

static void test_opening_a_file_kills(void **state)
{
	int status = run_filtered(open_a_file);

	(void)state;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_program_matches_table),
		cmocka_unit_test(test_serving_is_allowed),
		cmocka_unit_test(test_opening_a_file_kills),
	};

	return cmocka_run_group_tests_name("api seccomp", tests, NULL, NULL);
}
