/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vm_release.c: the last reference to the VM's fd goes to a child, which holds nothing else and does
 * the final close; the caller does not wait for that close. A TCP socket with SO_LINGER plays the
 * VM's fd: its final close blocks, like KVM's teardown, here until the test drains its peer.
 */
#define _GNU_SOURCE /* accept4 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm_release.h"

struct lingering {
	int listener, client, peer;
};

/*
 * A connected pair on the loopback whose client end's final close blocks: the peer reads nothing,
 * so the client's queued data and its FIN stay unacknowledged, and SO_LINGER makes close wait for
 * them (up to 10 s, never reached: the test drains the peer).
 */
static int lingering_open(struct lingering *l)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	struct linger lg = { .l_onoff = 1, .l_linger = 10 };
	int small = 4096;
	char buf[4096] = { 0 };

	l->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->listener < 0)
		return -1;
	setsockopt(l->listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (bind(l->listener, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l->listener, 1) < 0 ||
	    getsockname(l->listener, (struct sockaddr *)&a, &len) < 0)
		return -1;
	l->client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->client < 0 || connect(l->client, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	l->peer = accept4(l->listener, NULL, NULL, SOCK_CLOEXEC);
	if (l->peer < 0)
		return -1;
	fcntl(l->client, F_SETFL, O_NONBLOCK);
	while (write(l->client, buf, sizeof(buf)) > 0)
		; /* until the peer's window and the client's send buffer are full */
	return setsockopt(l->client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void lingering_drain(const struct lingering *l)
{
	char buf[65536];

	while (read(l->peer, buf, sizeof(buf)) > 0)
		; /* to the client's FIN */
}

/*
 * The syscall the child is blocked in, once it is: the number /proc/PID/syscall starts with ("running"
 * while it runs). -1 when that file cannot be read (no such /proc here).
 */
static long blocked_in(pid_t pid)
{
	char path[64], line[256];
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (;;) {
		FILE *f = fopen(path, "r");

		if (f == NULL)
			return -1;
		if (fgets(line, sizeof(line), f) == NULL || sscanf(line, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
		if (nr >= 0)
			return nr;
		usleep(1000);
	}
}

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

static void the_child_does_the_last_close(void **state)
{
	struct lingering l;
	int other[2], status;

	(void)state;
	if (lingering_open(&l) < 0)
		skip(); /* no loopback network here */
	assert_int_equal(pipe(other), 0); /* stands for a disk or a tap: not the child's to keep */

	int pid = vm_release_detached(l.client);

	/* Returned while the last close still blocks: the child holds it, and this process has no copy. */
	assert_true(pid > 0);
	assert_int_equal(fcntl(l.client, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	/*
	 * The child's read of the pipe cannot block (both write ends are closed): it ends blocked in
	 * the last close, where its only fd is that pipe's read end. Every other one it closed.
	 */
	long nr = blocked_in(pid);

	while (nr >= 0 && nr != SYS_close && nr != SYS_read)
		nr = blocked_in(pid); /* a moment's wait elsewhere, e.g. a lock in close_range */
	if (nr >= 0) {
		assert_int_equal(nr, SYS_close);
		assert_int_equal(count_fds(pid), 1);
	}

	lingering_drain(&l);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(other[0]);
	close(other[1]);
	close(l.peer);
	close(l.listener);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_child_does_the_last_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
