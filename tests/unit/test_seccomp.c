/* SPDX-License-Identifier: Apache-2.0 */
/* io/seccomp.c: every table compiles; a loaded filter allows its table and kills on anything else. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/seccomp.h"

static void test_tables_compile(void **state)
{
	(void)state;
	assert_int_equal(seccomp_check(SECCOMP_THREAD_VCPU), 0);
	assert_int_equal(seccomp_check(SECCOMP_THREAD_IO), 0);
	assert_int_equal(seccomp_check(SECCOMP_THREAD_API), 0);
	assert_int_equal(seccomp_check(SECCOMP_THREAD_MAIN), 0);
}

/* Runs fn in a child under the filter of class t; returns the child's wait status. */
static int run_filtered(enum seccomp_thread t, void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (seccomp_install(t) < 0)
			_exit(100);
		fn();
		syscall(SYS_exit_group, 0); /* fn ends the process itself; if it returns, this ends it (or SIGSYS) */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void allowed_then_exit(void)
{
	const char msg[] = "";

	if (write(STDERR_FILENO, msg, 0) != 0)
		syscall(SYS_exit, 1);
	syscall(SYS_exit, 42); /* exit (thread exit) is allowed; the only thread ends the process */
}

static void forbidden_ptrace(void)
{
	syscall(SYS_ptrace, 0, 0, 0, 0); /* no thread of kiln's may ever ptrace */
	syscall(SYS_exit, 0);
}

static void forbidden_ioctl(void)
{
	syscall(SYS_ioctl, 0, 0x5401 /* TCGETS */, 0);
	syscall(SYS_exit, 0);
}

/* PATCH /drives may open an existing image; nothing on the main thread may create a file. */
static void open_then_create(void)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		syscall(SYS_exit, 1);
	syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	syscall(SYS_exit, 2);
}

static void end_process(void)
{
	syscall(SYS_exit_group, 42);
	syscall(SYS_exit, 0);
}

static void test_allowed_syscalls_run(void **state)
{
	int status = run_filtered(SECCOMP_THREAD_IO, allowed_then_exit);

	(void)state;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
}

static void test_forbidden_syscall_kills(void **state)
{
	int status = run_filtered(SECCOMP_THREAD_IO, forbidden_ptrace);

	(void)state;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_vcpu_ioctls_are_pinned(void **state)
{
	int status = run_filtered(SECCOMP_THREAD_VCPU, forbidden_ioctl);

	(void)state;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_main_opens_but_never_creates(void **state)
{
	int status = run_filtered(SECCOMP_THREAD_MAIN, open_then_create);

	(void)state;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* Only the main thread may end the process; a vCPU or I/O thread that tries is killed. */
static void test_only_main_ends_the_process(void **state)
{
	int status = run_filtered(SECCOMP_THREAD_MAIN, end_process);

	(void)state;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	status = run_filtered(SECCOMP_THREAD_IO, end_process);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_compile),
		cmocka_unit_test(test_allowed_syscalls_run),
		cmocka_unit_test(test_forbidden_syscall_kills),
		cmocka_unit_test(test_vcpu_ioctls_are_pinned),
		cmocka_unit_test(test_main_opens_but_never_creates),
		cmocka_unit_test(test_only_main_ends_the_process),
	};
	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
