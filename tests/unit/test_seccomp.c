/* SPDX-License-Identifier: Apache-2.0 */
/*
 * io/seccomp.c and io/seccomp_install.c: the programs kiln loads are what every table compiles to; a
 * loaded filter allows its table and kills on anything else.
 */
#define _GNU_SOURCE /* mkostemp */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/seccomp.h"
#include "support/seccomp_check.h"

static void test_programs_match_tables(void **state)
{
	(void)state;
	assert_int_equal(seccomp_check(SECCOMP_THREAD_VCPU), 0);
	assert_int_equal(seccomp_check(SECCOMP_THREAD_IO), 0);
	assert_int_equal(seccomp_check(SECCOMP_THREAD_BLK), 0);
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

static char snapshot_dir[64];

/*
 * What kiln_vm_snapshot does on the main thread: a new temporary by mkostemp, sized, written,
 * synced, renamed into place with its directory synced; a failed one unlinked.
 */
static void write_like_a_snapshot(void)
{
	char tmp[128], final[128];
	int fd, dir;

	snprintf(tmp, sizeof(tmp), "%s/mem.XXXXXX", snapshot_dir);
	snprintf(final, sizeof(final), "%s/mem", snapshot_dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0 || pwrite(fd, "x", 1, 4096) != 1 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, final) < 0)
		syscall(SYS_exit, 1);
	dir = open(snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || fsync(dir) < 0 || close(dir) < 0)
		syscall(SYS_exit, 2);
	snprintf(tmp, sizeof(tmp), "%s/state.XXXXXX", snapshot_dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || close(fd) < 0 || unlink(tmp) < 0)
		syscall(SYS_exit, 3);
	syscall(SYS_exit, 42);
}

/* A snapshot never truncates an existing file: its files are new temporaries (O_EXCL). */
static void truncate_existing(void)
{
	char final[128];

	snprintf(final, sizeof(final), "%s/mem", snapshot_dir);
	syscall(SYS_openat, AT_FDCWD, final, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	syscall(SYS_exit, 0);
}

static void test_main_writes_snapshot_files_only_new(void **state)
{
	char path[128];

	(void)state;
	snprintf(snapshot_dir, sizeof(snapshot_dir), "/tmp/kiln-test-seccomp.XXXXXX");
	assert_non_null(mkdtemp(snapshot_dir));
	int status = run_filtered(SECCOMP_THREAD_MAIN, write_like_a_snapshot);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	status = run_filtered(SECCOMP_THREAD_MAIN, truncate_existing);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	snprintf(path, sizeof(path), "%s/mem", snapshot_dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(snapshot_dir), 0);
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

#define TRIM_BLOCKS 16
#define TRIM_BLOCK_SIZE (64 * 1024) /* below malloc's mmap threshold: from the thread's arena */

/*
 * A filtered thread fills, then frees, 1 MiB of its malloc arena, so glibc trims the heap; the first
 * trim in a process opens /proc/sys/vm/overcommit_memory. Returns NULL once done.
 */
static void *trim_heap(void *arg)
{
	enum seccomp_thread t = *(enum seccomp_thread *)arg;
	unsigned char *blocks[TRIM_BLOCKS];
	volatile unsigned int sum = 0;

	if (seccomp_install(t) < 0)
		return arg;
	for (int i = 0; i < TRIM_BLOCKS; i++) {
		blocks[i] = malloc(TRIM_BLOCK_SIZE);
		if (blocks[i] == NULL)
			return arg;
		memset(blocks[i], i, TRIM_BLOCK_SIZE);
	}
	for (int i = TRIM_BLOCKS - 1; i >= 0; i--) {
		sum += blocks[i][TRIM_BLOCK_SIZE - 1];
		free(blocks[i]);
	}
	return sum == TRIM_BLOCKS * (TRIM_BLOCKS - 1) / 2 ? NULL : arg;
}

/* In a child (the glibc check runs once per process): a thread of class t trims its heap. */
static int trim_in_child(enum seccomp_thread t)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;
		void *ret = &th;

		if (pthread_create(&th, NULL, trim_heap, &t) != 0 || pthread_join(th, &ret) != 0)
			_exit(100);
		_exit(ret == NULL ? 42 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_malloc_trim_survives(void **state)
{
	static const enum seccomp_thread classes[] = { SECCOMP_THREAD_VCPU, SECCOMP_THREAD_IO,
						       SECCOMP_THREAD_API, SECCOMP_THREAD_MAIN };

	(void)state;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		int status = trim_in_child(classes[i]);

		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 42);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_programs_match_tables),
		cmocka_unit_test(test_allowed_syscalls_run),
		cmocka_unit_test(test_forbidden_syscall_kills),
		cmocka_unit_test(test_vcpu_ioctls_are_pinned),
		cmocka_unit_test(test_main_opens_but_never_creates),
		cmocka_unit_test(test_main_writes_snapshot_files_only_new),
		cmocka_unit_test(test_only_main_ends_the_process),
		cmocka_unit_test(test_malloc_trim_survives),
	};
	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
