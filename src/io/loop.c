/* SPDX-License-Identifier: Apache-2.0 */
#include "io/loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/seccomp.h"
#include "log.h"
#include "thread.h"

#define MAX_EVENTS 32

static void io_loop_quiesce_ready(struct ev_handler *h, uint32_t events)
{
	struct io_loop *l = container_of(h, struct io_loop, quiesce);
	uint64_t count;

	(void)events;
	if (read(l->th.quiesce_fd, &count, sizeof(count)) == sizeof(count))
		l->drain_asked = true;
}

static int io_loop_watch_own(struct io_loop *l, int *fd, struct ev_handler *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };

	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0)
		return -errno;
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, *fd, &ev) < 0)
		return -errno;
	atomic_fetch_add(&l->nfds, 1);
	return 0;
}

int io_loop_init(struct io_loop *l)
{
	int rc;

	*l = (struct io_loop){ .epoll_fd = -1, .wake_fd = -1, .th.quiesce_fd = -1,
			       .quiesce.ready = io_loop_quiesce_ready };
	pthread_mutex_init(&l->th.dispatch_lock, NULL);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->started, NULL);
	pthread_cond_init(&l->drained_cond, NULL);
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll_fd < 0)
		return -errno;
	/* The wake fd is the one source with no handler: data.ptr NULL means "stop". */
	rc = io_loop_watch_own(l, &l->wake_fd, NULL);
	if (rc == 0)
		rc = io_loop_watch_own(l, &l->th.quiesce_fd, &l->quiesce);
	if (rc < 0)
		io_loop_destroy(l);
	return rc;
}

int io_loop_add(struct io_loop *l, int fd, uint32_t events, struct ev_handler *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	atomic_fetch_add(&l->nfds, 1);
	return 0;
}

int io_loop_remove(struct io_loop *l, int fd)
{
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0)
		return -errno;
	atomic_fetch_sub(&l->nfds, 1);
	return 0;
}

int io_loop_add_worker(struct io_loop *l, struct io_worker *w, int fd, struct ev_handler *h,
		       enum seccomp_thread seccomp_class)
{
	*w = (struct io_worker){ .loop = l, .handler = h, .fd = fd, .seccomp_class = seccomp_class };
	w->th.quiesce_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->th.quiesce_fd < 0)
		return -errno;
	pthread_mutex_init(&w->th.dispatch_lock, NULL);
	w->next = l->workers;
	l->workers = w;
	return 0;
}

bool io_worker_serve_ready(struct io_worker *w)
{
	struct pollfd p = { .fd = w->fd, .events = POLLIN };

	if (poll(&p, 1, 0) != 1)
		return false;
	w->handler->ready(w->handler, EPOLLIN);
	return true;
}

void block_sigpipe(void)
{
	sigset_t pipe_set;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
}

/* On the thread t, once set up: its start_result for io_thread_start. */
static void io_thread_report_start(struct io_loop *l, struct io_thread *t, int result)
{
	pthread_mutex_lock(&l->lock);
	t->start_result = result;
	pthread_cond_broadcast(&l->started);
	pthread_mutex_unlock(&l->lock);
}

/* Starts thread t running fn(arg) and waits for its report: 0, or -errno. */
static int io_thread_start(struct io_loop *l, struct io_thread *t, void *(*fn)(void *), void *arg)
{
	int rc;

	t->start_result = 1;
	t->exited = false;
	rc = thread_start(&t->thread, fn, arg);
	if (rc < 0)
		return rc;
	t->running = true;
	pthread_mutex_lock(&l->lock);
	while (t->start_result == 1)
		pthread_cond_wait(&l->started, &l->lock);
	rc = t->start_result;
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* Serves one batch; false when the wake fd asked the loop to end. Under dispatch_lock. */
static bool io_loop_dispatch(const struct epoll_event *events, int n)
{
	for (int i = 0; i < n; i++) {
		struct ev_handler *h = events[i].data.ptr;

		if (h == NULL)
			return false;
		h->ready(h, events[i].events);
	}
	return true;
}

static void io_loop_tell(struct io_loop *l, bool *flag)
{
	pthread_mutex_lock(&l->lock);
	*flag = true;
	pthread_cond_broadcast(&l->drained_cond);
	pthread_mutex_unlock(&l->lock);
}

/*
 * io_loop_hold asked: serve every event ready now (loop.h), in zero-timeout passes until one finds
 * fewer than MAX_EVENTS. epoll hands out its ready list from where the last pass stopped (fds it
 * did not report go back to the list's head, fds it reported to the tail), so enough passes to
 * report every watched fd once reach all that were ready, even while host backends keep some busy.
 * Keeping devices quiet while paused instead (not serving ioeventfds until resume) would not do:
 * a backend's event (tap or console output writable) also pops the queue it pumps, notified or
 * not. False when the loop is to end. Under dispatch_lock.
 */
static bool io_loop_drain(struct io_loop *l)
{
	struct epoll_event events[MAX_EVENTS];
	unsigned int passes = atomic_load(&l->nfds) / MAX_EVENTS + 1;
	bool go_on = true;
	int n = MAX_EVENTS;

	l->drain_asked = false;
	for (unsigned int pass = 0; go_on && n == MAX_EVENTS && pass < passes;) {
		n = epoll_wait(l->epoll_fd, events, MAX_EVENTS, 0);
		if (n < 0 && errno == EINTR) {
			n = MAX_EVENTS;
			continue;
		}
		if (n < 0) {
			log_error("io", "epoll_wait: %s", strerror(errno));
			go_on = false;
			break;
		}
		go_on = io_loop_dispatch(events, n);
		pass++;
	}
	io_loop_tell(l, &l->th.drained);
	return go_on;
}

static void io_loop_run(struct io_loop *l)
{
	struct epoll_event events[MAX_EVENTS];

	for (;;) {
		int n = epoll_wait(l->epoll_fd, events, MAX_EVENTS, -1);
		bool go_on;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("io", "epoll_wait: %s", strerror(errno));
			return;
		}
		/* A batch runs whole under dispatch_lock: io_loop_hold waits for it (loop.h). */
		pthread_mutex_lock(&l->th.dispatch_lock);
		go_on = io_loop_dispatch(events, n);
		if (go_on && l->drain_asked)
			go_on = io_loop_drain(l);
		pthread_mutex_unlock(&l->th.dispatch_lock);
		if (!go_on)
			return;
	}
}

static void *io_loop_main(void *arg)
{
	struct io_loop *l = arg;
	int rc;

	block_sigpipe();
	rc = l->sandbox ? seccomp_install(SECCOMP_THREAD_IO) : 0;

	io_thread_report_start(l, &l->th, rc);
	if (rc == 0) {
		if (l->sandbox)
			seccomp_test_violation(SECCOMP_THREAD_IO);
		io_loop_run(l);
	}
	/* A hold waiting for a drain must not wait for a thread that is gone. */
	io_loop_tell(l, &l->th.exited);
	return NULL;
}

/*
 * A worker's loop: the loop's wake fd (readable for good once the loop is to end), its quiesce fd
 * and its own fd in one poll. One poll reports all three as they were at its return, so a hold's
 * quiesce request is answered only after the fd's readiness at that moment was served.
 */
static void io_worker_run(struct io_worker *w)
{
	struct pollfd fds[3] = {
		{ .fd = w->loop->wake_fd, .events = POLLIN },
		{ .fd = w->th.quiesce_fd, .events = POLLIN },
		{ .fd = w->fd, .events = POLLIN },
	};

	for (;;) {
		uint64_t count;

		if (poll(fds, ARRAY_SIZE(fds), -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("io", "worker poll: %s", strerror(errno));
			return;
		}
		if (fds[0].revents)
			return;
		if (fds[2].revents) {
			pthread_mutex_lock(&w->th.dispatch_lock);
			w->handler->ready(w->handler, EPOLLIN);
			pthread_mutex_unlock(&w->th.dispatch_lock);
		}
		if ((fds[1].revents & POLLIN) && read(w->th.quiesce_fd, &count, sizeof(count)) == sizeof(count))
			io_loop_tell(w->loop, &w->th.drained);
	}
}

static void *io_worker_main(void *arg)
{
	struct io_worker *w = arg;
	bool sandbox = w->loop->sandbox;
	int rc;

	block_sigpipe();
	rc = sandbox ? seccomp_install(w->seccomp_class) : 0;
	io_thread_report_start(w->loop, &w->th, rc);
	if (rc == 0) {
		if (sandbox)
			seccomp_test_violation(w->seccomp_class);
		io_worker_run(w);
	}
	io_loop_tell(w->loop, &w->th.exited);
	return NULL;
}

/* Under l->lock: asks t, if it runs, to serve what is ready (a write to its quiesce fd). */
static void io_thread_ask_drain(struct io_thread *t)
{
	uint64_t one = 1;

	if (!t->running)
		return;
	/* A failed write other than a saturated counter (a drain asked anyway): do not wait for it. */
	t->drained = write(t->quiesce_fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN;
}

/* Under l->lock: waits until t, if it runs, has drained or exited. */
static void io_thread_wait_drained(struct io_loop *l, const struct io_thread *t)
{
	while (t->running && !t->drained && !t->exited)
		pthread_cond_wait(&l->drained_cond, &l->lock);
}

void io_loop_hold(struct io_loop *l)
{
	/* Every thread is asked first, so that they drain side by side. */
	pthread_mutex_lock(&l->lock);
	io_thread_ask_drain(&l->th);
	for (struct io_worker *w = l->workers; w; w = w->next)
		io_thread_ask_drain(&w->th);
	io_thread_wait_drained(l, &l->th);
	for (struct io_worker *w = l->workers; w; w = w->next)
		io_thread_wait_drained(l, &w->th);
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_lock(&l->th.dispatch_lock);
	for (struct io_worker *w = l->workers; w; w = w->next)
		pthread_mutex_lock(&w->th.dispatch_lock);
}

void io_loop_release(struct io_loop *l)
{
	for (struct io_worker *w = l->workers; w; w = w->next)
		pthread_mutex_unlock(&w->th.dispatch_lock);
	pthread_mutex_unlock(&l->th.dispatch_lock);
}

int io_loop_start(struct io_loop *l)
{
	int rc = io_thread_start(l, &l->th, io_loop_main, l);

	for (struct io_worker *w = l->workers; rc == 0 && w; w = w->next)
		rc = io_thread_start(l, &w->th, io_worker_main, w);
	return rc;
}

void io_loop_stop(struct io_loop *l)
{
	uint64_t one = 1;

	/* A failed write can only mean the counter is saturated: a stop is pending anyway. */
	if (l->wake_fd >= 0 && write(l->wake_fd, &one, sizeof(one)) < 0)
		return;
}

/* Joins t if it was started (the loop's wake fd, written once, ends every thread). */
static void io_thread_join(struct io_loop *l, struct io_thread *t)
{
	if (!t->running)
		return;
	io_loop_stop(l);
	pthread_join(t->thread, NULL);
	t->running = false;
}

void io_loop_destroy(struct io_loop *l)
{
	io_thread_join(l, &l->th);
	for (struct io_worker *w = l->workers; w; w = w->next) {
		io_thread_join(l, &w->th); /* also one that started after a failed I/O thread start */
		close(w->th.quiesce_fd);
		pthread_mutex_destroy(&w->th.dispatch_lock);
	}
	l->workers = NULL;
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->th.quiesce_fd >= 0)
		close(l->th.quiesce_fd);
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	l->wake_fd = l->th.quiesce_fd = l->epoll_fd = -1;
}
