/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Console output through a bounded ring (console_out.h).
 *
 * Non-blocking without changing the caller's fd. O_NONBLOCK belongs to the open file description,
 * which kiln's stdout shares with the user's shell (a terminal) or a supervisor: set there, it
 * would leak into them, and outlive a kiln that dies before putting it back. So kiln writes
 * through a description of its own where it can:
 *  - a pipe, FIFO, terminal or other character device: reopened through /proc/self/fd/N, with
 *    O_NONBLOCK on the new description only;
 *  - a socket (which cannot be reopened): every send says MSG_DONTWAIT. Only the I/O thread sends
 *    (sendmsg is on its allowlist, not on the vCPUs'), so bytes for a socket always wait for it;
 *  - a regular file or a block device: written as it is, it never waits for a reader;
 *  - a description that is non-blocking already: the caller's choice, used as it is.
 * Where the reopen fails (no /proc), the shared description gets O_NONBLOCK, with a warning, and
 * console_out_destroy() restores its flags: every way kiln ends short of a crash goes through it.
 *
 * Who writes: a writer queues its bytes, then, unless fd is known to be full, writes out what is
 * queued on its own thread (the UART's byte costs the vCPU one write(), as before). When fd is
 * full (EAGAIN), it joins the I/O loop for EPOLLOUT and only the I/O thread drains it until the
 * ring is empty again. Bytes leave in the order they were queued: the ring is one, under o->lock.
 */
#include "io/console_out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct console_out {
	pthread_mutex_t lock; /* everything below */
	struct io_loop *loop;
	atomic_ullong *dropped;
	int fd;
	bool owns_fd;      /* fd is kiln's own reopened description: closed at destroy */
	int restore_flags; /* the caller's file status flags, put back at destroy; -1: untouched */
	bool is_socket;    /* sent with MSG_DONTWAIT, by the I/O thread only */
	int wake_fd;       /* sockets: an eventfd telling the I/O thread bytes are queued; else -1 */
	bool wake_watched; /* wake_fd is in the loop (from the first bytes for a socket on) */
	bool wake_pending; /* wake_fd was written and the I/O thread has not drained since */
	bool watching;     /* fd is in the loop for EPOLLOUT: only the I/O thread writes */
	bool warned;       /* the first drop was logged */
	struct ev_handler writable, woken;
	size_t head, len; /* the queued bytes: ring[head, head + len), wrapping */
	uint8_t ring[CONSOLE_OUT_CAPACITY];
};

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Picks how to write fd without blocking (see the top of this file). 0 or -errno. */
static int console_out_open(struct console_out *o, int fd)
{
	struct stat st;
	char path[32];
	int flags;

	o->fd = fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return 0;
	if (S_ISSOCK(st.st_mode)) {
		o->is_socket = true;
		return 0;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	if (flags & O_NONBLOCK)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int own = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (own >= 0) {
		o->fd = own;
		o->owns_fd = true;
		return 0;
	}
	log_warn("console", "output: cannot reopen %s (%s): making the caller's fd %d non-blocking "
			    "until kiln exits", path, strerror(errno), fd);
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	o->restore_flags = flags;
	return 0;
}

/* Copies as much of buf[0..len) as fits behind the queued bytes; returns how much. */
static size_t console_out_queue(struct console_out *o, const uint8_t *buf, size_t len)
{
	size_t n = min_size(len, CONSOLE_OUT_CAPACITY - o->len), done = 0;

	while (done < n) {
		size_t tail = (o->head + o->len) % CONSOLE_OUT_CAPACITY;
		size_t chunk = min_size(n - done, CONSOLE_OUT_CAPACITY - tail);

		memcpy(o->ring + tail, buf + done, chunk);
		o->len += chunk;
		done += chunk;
	}
	return n;
}

/* One write of the queued bytes up to the ring's end: the bytes fd took, or -errno. */
static ssize_t console_out_put(struct console_out *o)
{
	struct iovec part = { o->ring + o->head, min_size(o->len, CONSOLE_OUT_CAPACITY - o->head) };
	struct msghdr msg = { .msg_iov = &part, .msg_iovlen = 1 };
	ssize_t r;

	do {
		if (o->is_socket)
			r = sendmsg(o->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			r = write(o->fd, part.iov_base, part.iov_len);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return -EIO; /* took nothing of a non-empty write: treat as broken, not as "try again" */
	return r < 0 ? -errno : r;
}

/* Writes the queue out: 0 once it is empty, -EAGAIN when fd takes no more now, or -errno. */
static int console_out_drain(struct console_out *o)
{
	while (o->len > 0) {
		ssize_t r = console_out_put(o);

		if (r < 0)
			return (int)r;
		o->head = (o->head + (size_t)r) % CONSOLE_OUT_CAPACITY;
		o->len -= (size_t)r;
	}
	o->head = 0; /* empty: the next bytes go out in one piece */
	return 0;
}

/* fd is in the I/O loop (EPOLLOUT) exactly while it is full. */
static void console_out_watch(struct console_out *o, bool want)
{
	int rc;

	if (want == o->watching)
		return;
	rc = want ? io_loop_add(o->loop, o->fd, EPOLLOUT, &o->writable) : io_loop_remove(o->loop, o->fd);
	if (rc == 0)
		o->watching = want;
	else /* the bytes stay queued: the next write tries again */
		log_guest(LOG_ERROR, "console", "output: %s the I/O loop: %s", want ? "joining" : "leaving",
			  strerror(-rc));
}

/*
 * Writes what fd takes now, and watches it while it is full. A write error (EPIPE: the reader went
 * away; EIO: the terminal hung up) drops what is queued: returns how much, the error in *err.
 */
static size_t console_out_flush(struct console_out *o, int *err)
{
	int rc = console_out_drain(o);
	size_t lost = 0;

	if (rc < 0 && rc != -EAGAIN) {
		lost = o->len;
		o->len = o->head = 0;
		*err = rc;
	}
	console_out_watch(o, rc == -EAGAIN);
	return lost;
}

/* Queues buf[0..len), writing out whenever the ring fills and this thread may; returns the bytes dropped. */
static size_t console_out_take(struct console_out *o, const uint8_t *buf, size_t len, int *err)
{
	size_t lost = 0;

	for (;;) {
		size_t n = console_out_queue(o, buf, len);

		buf += n;
		len -= n;
		if (!o->is_socket && !o->watching)
			lost += console_out_flush(o, err);
		if (len == 0 || o->len == CONSOLE_OUT_CAPACITY)
			return lost + len;
	}
}

/* Whether a drop of n bytes is the first, to be logged (o->lock held). */
static bool console_out_first_drop(struct console_out *o, size_t n)
{
	bool first = n > 0 && !o->warned;

	o->warned |= first;
	return first;
}

/* Counts n dropped bytes; logs the first drop, after o->lock is released (stderr may be slow). */
static void console_out_count(struct console_out *o, size_t n, int err, bool first)
{
	if (n == 0)
		return;
	atomic_fetch_add_explicit(o->dropped, n, memory_order_relaxed);
	if (!first)
		return;
	if (err)
		log_warn("console", "output: %s: dropping console output (counted in the metrics as "
				    "bytes_dropped; logged once)", strerror(-err));
	else
		log_warn("console", "output: its reader is not keeping up: dropping what does not fit in "
				    "%u KiB (counted in the metrics as bytes_dropped; logged once)",
			 CONSOLE_OUT_CAPACITY / 1024);
}

/*
 * Sockets: wake_fd joins the loop when the first bytes come (the loop need not exist before), on
 * the writer's thread (epoll_ctl is on every allowlist). False if it could not: the bytes wait for
 * the next write.
 */
static bool console_out_watch_wake(struct console_out *o)
{
	int rc;

	if (o->wake_watched)
		return true;
	rc = io_loop_add(o->loop, o->wake_fd, EPOLLIN, &o->woken);
	if (rc < 0)
		log_guest(LOG_ERROR, "console", "output: joining the I/O loop: %s", strerror(-rc));
	o->wake_watched = rc == 0;
	return o->wake_watched;
}

void console_out_writev(struct console_out *o, const struct iovec *iov, unsigned int n)
{
	size_t lost = 0;
	bool wake = false, first;
	int err = 0;

	pthread_mutex_lock(&o->lock);
	for (unsigned int i = 0; i < n; i++)
		lost += console_out_take(o, iov[i].iov_base, iov[i].iov_len, &err);
	if (o->is_socket && o->len > 0 && !o->watching && !o->wake_pending)
		wake = o->wake_pending = console_out_watch_wake(o);
	first = console_out_first_drop(o, lost);
	pthread_mutex_unlock(&o->lock);
	console_out_count(o, lost, err, first);
	if (wake && eventfd_write(o->wake_fd, 1) < 0)
		log_guest(LOG_ERROR, "console", "output: waking the I/O thread: %s", strerror(errno));
}

void console_out_write(struct console_out *o, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	console_out_writev(o, &iov, 1);
}

/* I/O thread: fd has room again, or (woken) a writer queued bytes for a socket. */
static void console_out_serve(struct console_out *o, bool woken)
{
	size_t lost;
	bool first;
	int err = 0;

	pthread_mutex_lock(&o->lock);
	if (woken)
		o->wake_pending = false; /* before draining: bytes queued from now on wake again */
	lost = console_out_flush(o, &err);
	first = console_out_first_drop(o, lost);
	pthread_mutex_unlock(&o->lock);
	console_out_count(o, lost, err, first);
}

static void console_out_writable(struct ev_handler *h, uint32_t events)
{
	(void)events; /* EPOLLERR or EPOLLHUP show up as the write's error */
	console_out_serve(container_of(h, struct console_out, writable), false);
}

static void console_out_woken(struct ev_handler *h, uint32_t events)
{
	struct console_out *o = container_of(h, struct console_out, woken);
	eventfd_t count;

	(void)events;
	if (eventfd_read(o->wake_fd, &count) < 0 && errno != EAGAIN)
		log_error("console", "output: %s", strerror(errno));
	console_out_serve(o, true);
}

int console_out_create(int fd, struct io_loop *loop, atomic_ullong *dropped, struct console_out **out)
{
	struct console_out *o = calloc(1, sizeof(*o));
	int rc;

	if (o == NULL)
		return -ENOMEM;
	o->loop = loop;
	o->dropped = dropped;
	o->restore_flags = o->wake_fd = -1;
	o->writable.ready = console_out_writable;
	o->woken.ready = console_out_woken;
	rc = console_out_open(o, fd);
	/* Only a socket needs the eventfd, and a socket was neither reopened nor changed. */
	if (rc == 0 && o->is_socket && (o->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		rc = -errno;
	if (rc < 0) {
		free(o);
		return rc;
	}
	pthread_mutex_init(&o->lock, NULL);
	*out = o;
	return 0;
}

void console_out_set_loop(struct console_out *o, struct io_loop *loop)
{
	pthread_mutex_lock(&o->lock);
	o->loop = loop;
	pthread_mutex_unlock(&o->lock);
}

/* Milliseconds from now to deadline (CLOCK_MONOTONIC ns), rounded up; 0 once it passed. */
static int ms_until(uint64_t deadline)
{
	uint64_t now = now_ns();

	return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

/* Writes what is queued, waiting for fd to take it until deadline: 0 once all went out, -EAGAIN, or -errno. */
static int console_out_drain_until(struct console_out *o, uint64_t deadline)
{
	struct pollfd p = { .fd = o->fd, .events = POLLOUT };
	int rc, ms;

	while ((rc = console_out_drain(o)) == -EAGAIN && (ms = ms_until(deadline)) > 0)
		if (poll(&p, 1, ms) < 0 && errno != EINTR)
			break;
	return rc;
}

/*
 * Writes what is queued on the caller's thread, waiting for the reader until deadline. The thread
 * may not block SIGPIPE (an embedder's main thread), so it is blocked meanwhile, for a reader that
 * went away to give EPIPE and not end the process; the SIGPIPE that write then raised is taken off
 * this thread before the mask comes back. A write error drops what is queued (counted); what the
 * reader has not taken by the deadline is dropped too when drop_late, else it stays queued, for
 * the I/O thread to write once fd has room. Returns the bytes still queued.
 */
static size_t console_out_sync_until(struct console_out *o, uint64_t deadline, bool drop_late)
{
	const struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old;
	size_t lost = 0, left;
	bool first;
	int rc, err = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	pthread_mutex_lock(&o->lock);
	rc = console_out_drain_until(o, deadline);
	if (rc < 0 && (rc != -EAGAIN || drop_late)) {
		lost = o->len;
		o->len = o->head = 0;
		err = rc == -EAGAIN ? 0 : rc;
	} else if (rc == -EAGAIN && o->loop != NULL) {
		console_out_watch(o, true);
	}
	left = o->len;
	first = console_out_first_drop(o, lost);
	pthread_mutex_unlock(&o->lock);
	if (err == -EPIPE && !sigismember(&old, SIGPIPE))
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	console_out_count(o, lost, err, first);
	return left;
}

size_t console_out_sync(struct console_out *o, unsigned int ms)
{
	return console_out_sync_until(o, now_ns() + (uint64_t)ms * 1000000, false);
}

void console_out_destroy(struct console_out *o)
{
	if (o == NULL)
		return;
	/* The last bytes, on the thread that destroys the VM; what the reader leaves is dropped. */
	(void)console_out_sync_until(o, now_ns() + (uint64_t)CONSOLE_OUT_EXIT_WAIT_MS * 1000000, true);
	/* Removals from a loop already destroyed fail harmlessly (EBADF). */
	if (o->watching)
		io_loop_remove(o->loop, o->fd);
	if (o->wake_watched)
		io_loop_remove(o->loop, o->wake_fd);
	if (o->wake_fd >= 0)
		close(o->wake_fd);
	if (o->owns_fd)
		close(o->fd);
	if (o->restore_flags >= 0 && fcntl(o->fd, F_SETFL, o->restore_flags) < 0)
		log_warn("console", "output: restoring the flags of fd %d: %s", o->fd, strerror(errno));
	pthread_mutex_destroy(&o->lock);
	free(o);
}
