/* SPDX-License-Identifier: Apache-2.0 */
/*
 * io/console_out.c: console output that never blocks a kiln thread. The host's reader is a pipe
 * (shrunk to one page, so that it fills fast), a socket or a terminal; the test drives the I/O
 * loop by hand. What it checks: the caller's fd keeps its flags; a reader that stops costs bytes
 * (counted), never a blocked write; the bytes that do arrive are the first ones, in order; the last
 * flush waits for a reader that reads, gives up on one that does not, and survives one that left,
 * also under the seccomp filter of kiln's main thread, which runs it; a snapshot's flush
 * (console_out_sync) the same, but what a stalled reader leaves stays queued, not dropped. alarm()
 * only ends a test that would hang.
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ, pipe2, posix_openpt */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/console_out.h"
#include "io/seccomp.h"

#define TOTAL (CONSOLE_OUT_CAPACITY + 5 * 4096) /* more than the pipe and the buffer hold */

struct fx {
	struct io_loop loop;
	int r, w; /* the host reads r; kiln's output goes to w */
	atomic_ullong dropped;
	struct console_out *o;
};

static char pattern[TOTAL];
static char got[TOTAL];

static int setup_loop(void **state, int r, int w)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || io_loop_init(&f->loop) < 0)
		return -1;
	f->r = r;
	f->w = w;
	*state = f;
	return console_out_create(w, &f->loop, &f->dropped, &f->o) < 0 ? -1 : 0;
}

/* A blocking pipe of one page. */
static int setup_pipe(void **state)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0 || fcntl(p[0], F_SETPIPE_SZ, 4096) < 0)
		return -1;
	return setup_loop(state, p[0], p[1]);
}

/* A blocking stream socket pair, with small buffers. */
static int setup_socket(void **state)
{
	int s[2], small = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0 ||
	    setsockopt(s[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) < 0 ||
	    setsockopt(s[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) < 0)
		return -1;
	return setup_loop(state, s[0], s[1]);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->r >= 0)
		close(f->r); /* the last flush gives up at once */
	console_out_destroy(f->o);
	io_loop_destroy(&f->loop);
	if (f->w >= 0)
		close(f->w);
	free(f);
	return 0;
}

/* Dispatches what the loop has ready until nothing is; returns how many handlers ran. */
static int run_loop(struct io_loop *l)
{
	struct epoll_event ev[8];
	int n, total = 0;

	while ((n = epoll_wait(l->epoll_fd, ev, 8, 0)) > 0) {
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = ev[i].data.ptr;

			h->ready(h, ev[i].events);
		}
		total += n;
	}
	assert_int_equal(n, 0);
	return total;
}

/* The guest writes the whole pattern, in pieces of `piece` bytes; none may block. */
static void write_pattern(struct fx *f, size_t piece)
{
	alarm(20);
	for (size_t off = 0; off < TOTAL; off += piece)
		console_out_write(f->o, pattern + off, piece < TOTAL - off ? piece : TOTAL - off);
	alarm(0);
}

/* The reader reads again: takes what comes while the loop drains the buffer; returns the bytes. */
static size_t read_all(struct fx *f)
{
	size_t len = 0;
	ssize_t n;

	assert_int_equal(fcntl(f->r, F_SETFL, O_NONBLOCK), 0);
	do {
		while ((n = read(f->r, got + len, sizeof(got) - len)) > 0)
			len += (size_t)n;
	} while (run_loop(&f->loop) > 0);
	return len;
}

/* What arrived is the start of what was written, and the rest was counted as dropped. */
static void assert_prefix_and_count(struct fx *f, size_t len)
{
	assert_memory_equal(got, pattern, len);
	assert_int_equal(len + atomic_load(&f->dropped), TOTAL);
}

/* The same, once the buffer went out too, not only what the reader's pipe or socket held. */
static void assert_buffer_went_out(struct fx *f, size_t len)
{
	assert_true(len > CONSOLE_OUT_CAPACITY / 2);
	assert_prefix_and_count(f, len);
}

static void caller_fd_keeps_its_flags(void **state)
{
	struct fx *f = *state;
	char buf[8] = { 0 };

	assert_false(fcntl(f->w, F_GETFL) & O_NONBLOCK);
	console_out_write(f->o, "hello", 5);
	assert_int_equal(read(f->r, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(run_loop(&f->loop), 0); /* written at once: nothing left for the loop */
	assert_int_equal(atomic_load(&f->dropped), 0);
}

static void stalled_pipe_drops_what_does_not_fit(void **state)
{
	struct fx *f = *state;

	write_pattern(f, 1000);
	assert_true(atomic_load(&f->dropped) > 0);
	assert_buffer_went_out(f, read_all(f));
}

/* One write larger than the buffer: what fits is kept, the rest is dropped, nothing blocks. */
static void one_write_larger_than_the_buffer(void **state)
{
	struct fx *f = *state;

	write_pattern(f, TOTAL);
	assert_buffer_went_out(f, read_all(f));
}

/* A socket: sent by the I/O thread only (MSG_DONTWAIT), the caller's fd untouched. */
static void socket_output_goes_through_the_loop(void **state)
{
	struct fx *f = *state;
	char buf[8] = { 0 };

	assert_false(fcntl(f->w, F_GETFL) & O_NONBLOCK);
	console_out_write(f->o, "sock", 4);
	assert_int_equal(recv(f->r, buf, sizeof(buf), MSG_DONTWAIT), -1); /* not on this thread */
	assert_int_equal(run_loop(&f->loop), 1);
	assert_int_equal(recv(f->r, buf, sizeof(buf), MSG_DONTWAIT), 4);
	assert_string_equal(buf, "sock");

	write_pattern(f, 1000);
	run_loop(&f->loop); /* fills the socket, then waits for EPOLLOUT */
	assert_true(atomic_load(&f->dropped) > 0);
	assert_buffer_went_out(f, read_all(f));
}

/* A terminal: kiln writes a non-blocking reopening of it; the caller's fd stays blocking. */
static void terminal_keeps_its_flags(void **state)
{
	struct fx *f;
	char buf[8] = { 0 };
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	(void)state;
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		if (master >= 0)
			close(master);
		skip(); /* no pseudo-terminals here */
	}
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(slave >= 0);
	assert_int_equal(setup_loop((void **)&f, master, slave), 0);
	assert_false(fcntl(slave, F_GETFL) & O_NONBLOCK);
	console_out_write(f->o, "tty", 3);
	assert_int_equal(read(master, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "tty");
	teardown((void **)&f);
}

struct reader {
	int fd;
	size_t len;
};

static void *read_to_eof(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	while ((n = read(r->fd, got + r->len, sizeof(got) - r->len)) > 0)
		r->len += (size_t)n;
	return NULL;
}

/* At exit, a reader that reads again gets what was queued. */
static void last_flush_waits_for_a_reader(void **state)
{
	struct fx *f = *state;
	struct reader r = { .fd = f->r };
	pthread_t t;

	write_pattern(f, 1000);
	unsigned long long dropped = atomic_load(&f->dropped);
	assert_int_equal(pthread_create(&t, NULL, read_to_eof, &r), 0);
	console_out_destroy(f->o);
	f->o = NULL;
	close(f->w); /* the last writer: the reader sees EOF */
	f->w = -1;
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&f->dropped), dropped); /* nothing more was lost */
	assert_buffer_went_out(f, r.len);
}

/* At exit, a reader that never reads again: destroy returns, and what was queued is counted dropped. */
static void last_flush_gives_up(void **state)
{
	struct fx *f = *state;

	write_pattern(f, 1000);
	console_out_destroy(f->o);
	f->o = NULL;
	assert_prefix_and_count(f, read_all(f));
}

/* A snapshot's flush: a reader that reads again gets all that was queued before it returns. */
static void sync_waits_for_a_reader(void **state)
{
	struct fx *f = *state;
	struct reader r = { .fd = f->r };
	pthread_t t;

	write_pattern(f, 1000);
	unsigned long long dropped = atomic_load(&f->dropped);
	assert_int_equal(pthread_create(&t, NULL, read_to_eof, &r), 0);
	alarm(20);
	assert_int_equal(console_out_sync(f->o, 60000), 0);
	alarm(0);
	console_out_destroy(f->o); /* nothing left for it */
	f->o = NULL;
	close(f->w);
	f->w = -1;
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&f->dropped), dropped);
	assert_buffer_went_out(f, r.len);
}

/* A snapshot's flush and a reader that does not read: what is queued stays, for the loop to write later. */
static void sync_keeps_what_a_stalled_reader_left(void **state)
{
	struct fx *f = *state;

	write_pattern(f, 1000);
	unsigned long long dropped = atomic_load(&f->dropped);
	assert_true(console_out_sync(f->o, 0) > 0);
	assert_int_equal(atomic_load(&f->dropped), dropped);
	assert_buffer_went_out(f, read_all(f));
}

/*
 * The reader went away, with bytes queued, on a thread that does not block SIGPIPE (an embedder's
 * main thread): EPIPE, the bytes counted dropped, and the process lives on.
 */
static void reader_gone_at_exit(void **state)
{
	struct fx *f = *state;
	sigset_t pipe_set;
	size_t held = 0;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	write_pattern(f, 1000); /* SIGPIPE blocked, as on kiln's threads */
	assert_int_equal(fcntl(f->r, F_SETFL, O_NONBLOCK), 0);
	while ((n = read(f->r, got + held, sizeof(got) - held)) > 0) /* what the pipe held; no loop runs */
		held += (size_t)n;
	close(f->r);
	f->r = -1;
	assert_int_equal(pthread_sigmask(SIG_UNBLOCK, &pipe_set, NULL), 0);
	console_out_destroy(f->o);
	f->o = NULL;
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &pipe_set, NULL), 0);
	assert_prefix_and_count(f, held);
}

/*
 * A FIFO whose reader is gone cannot be reopened for writing without blocking (ENXIO): the
 * caller's own description is made non-blocking, and its flags come back at destroy.
 */
static void unreopenable_fd_gets_its_flags_back(void **state)
{
	char dir[] = "/tmp/kiln-console-out-XXXXXX", path[64];
	struct fx *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	int r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int w = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(r >= 0 && w >= 0);
	close(r);
	unlink(path);
	rmdir(dir);
	assert_int_equal(setup_loop((void **)&f, -1, w), 0);
	assert_true(fcntl(w, F_GETFL) & O_NONBLOCK);
	console_out_write(f->o, "lost", 4); /* EPIPE */
	assert_int_equal(atomic_load(&f->dropped), 4);
	console_out_destroy(f->o);
	f->o = NULL;
	assert_false(fcntl(w, F_GETFL) & O_NONBLOCK);
	teardown((void **)&f);
}

/*
 * console_out_destroy() in a child, as on kiln's main thread at the end (after a snapshot's
 * console_out_sync when sync): under that thread's seccomp filter (the CLI installs it once the VM
 * runs), SIGPIPE not blocked. It must exit, 0.
 */
static void assert_flush_under_the_main_filter(struct fx *f, bool sync)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		sigset_t pipe_set;

		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		pthread_sigmask(SIG_UNBLOCK, &pipe_set, NULL);
		if (seccomp_install(SECCOMP_THREAD_MAIN) < 0)
			_exit(77);
		if (sync)
			(void)console_out_sync(f->o, 100);
		console_out_destroy(f->o);
		syscall(SYS_exit, 0); /* exit_group would do too; exit is on every list */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		skip(); /* no seccomp here */
	if (WIFSIGNALED(status))
		fail_msg("the last flush on the main thread died of signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Bytes queued for a pipe whose reader went away: EPIPE, and its SIGPIPE taken off the thread. */
static void main_filter_reader_gone(void **state)
{
	struct fx *f = *state;

	write_pattern(f, 1000);
	close(f->r);
	f->r = -1;
	assert_flush_under_the_main_filter(f, false);
}

/* A snapshot's flush to a pipe whose reader went away, then the last one. */
static void main_filter_sync_reader_gone(void **state)
{
	struct fx *f = *state;

	write_pattern(f, 1000);
	close(f->r);
	f->r = -1;
	assert_flush_under_the_main_filter(f, true);
}

/* A snapshot's flush to a socket whose reader stalls, then the last one. */
static void main_filter_sync_socket(void **state)
{
	write_pattern(*state, 1000);
	assert_flush_under_the_main_filter(*state, true);
}

/* Bytes queued for a socket whose reader stalls: sendmsg, then poll until the flush gives up. */
static void main_filter_socket(void **state)
{
	struct fx *f = *state;

	write_pattern(f, 1000);
	assert_flush_under_the_main_filter(f, false);
}

/* The fallback's description gets its flags back (fcntl F_SETFL). */
static void main_filter_flags_back(void **state)
{
	char dir[] = "/tmp/kiln-console-out-XXXXXX", path[64];
	struct fx *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	int r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int w = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(r >= 0 && w >= 0);
	close(r);
	unlink(path);
	rmdir(dir);
	assert_int_equal(setup_loop((void **)&f, -1, w), 0);
	assert_flush_under_the_main_filter(f, false);
	teardown((void **)&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(caller_fd_keeps_its_flags, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(stalled_pipe_drops_what_does_not_fit, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(one_write_larger_than_the_buffer, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(socket_output_goes_through_the_loop, setup_socket, teardown),
		cmocka_unit_test(terminal_keeps_its_flags),
		cmocka_unit_test_setup_teardown(last_flush_waits_for_a_reader, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(last_flush_gives_up, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(reader_gone_at_exit, setup_pipe, teardown),
		cmocka_unit_test(unreopenable_fd_gets_its_flags_back),
		cmocka_unit_test_setup_teardown(main_filter_reader_gone, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(main_filter_socket, setup_socket, teardown),
		cmocka_unit_test_setup_teardown(sync_waits_for_a_reader, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(sync_keeps_what_a_stalled_reader_left, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(main_filter_sync_reader_gone, setup_pipe, teardown),
		cmocka_unit_test_setup_teardown(main_filter_sync_socket, setup_socket, teardown),
		cmocka_unit_test(main_filter_flags_back),
	};
	sigset_t pipe_set;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	/* As kiln's own threads do (block_sigpipe): a reader that went away gives EPIPE. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	return cmocka_run_group_tests_name("console_out", tests, NULL, NULL);
}
