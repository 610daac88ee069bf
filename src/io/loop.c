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

#define MAX_EVENTS 32

static void io_loop_quiesce_ready(struct ev_handler *h, uint32_t events)
{
	struct io_loop *l = container_of(h, struct io_loop, quiesce);
	uint64_t count;

	(void)events;
	if (read(l->quiesce_fd, &count, sizeof(count)) == sizeof(count))
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

	*l = (struct io_loop){ .epoll_fd = -1, .wake_fd = -1, .quiesce_fd = -1,
			       .quiesce.ready = io_loop_quiesce_ready };
	pthread_mutex_init(&l->dispatch_lock, NULL);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->started, NULL);
	pthread_cond_init(&l->drained_cond, NULL);
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll_fd < 0)
		return -errno;
	/* The wake fd is the one source with no handler: data.ptr NULL means "stop". */
	rc = io_loop_watch_own(l, &l->wake_fd, NULL);
	if (rc == 0)
		rc = io_loop_watch_own(l, &l->quiesce_fd, &l->quiesce);
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
	w->quiesce_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->quiesce_fd < 0)
		return -errno;
	pthread_mutex_init(&w->dispatch_lock, NULL);
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

static void report_start(struct io_loop *l, int result)
{
	pthread_mutex_lock(&l->lock);
	l->start_result = result;
	pthread_cond_signal(&l->started);
	pthread_mutex_unlock(&l->lock);
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
	io_loop_tell(l, &l->drained);
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
		pthread_mutex_lock(&l->dispatch_lock);
		go_on = io_loop_dispatch(events, n);
		if (go_on && l->drain_asked)
			go_on = io_loop_drain(l);
		pthread_mutex_unlock(&l->dispatch_lock);
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

	report_start(l, rc);
	if (rc == 0) {
		if (l->sandbox)
			seccomp_test_violation(SECCOMP_THREAD_IO);
		io_loop_run(l);
	}
	/* A hold waiting for a drain must not wait for a thread that is gone. */
	io_loop_tell(l, &l->exited);
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
		{ .fd = w->quiesce_fd, .events = POLLIN },
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
			pthread_mutex_lock(&w->dispatch_lock);
			w->handler->ready(w->handler, EPOLLIN);
			pthread_mutex_unlock(&w->dispatch_lock);
		}
		if ((fds[1].revents & POLLIN) && read(w->quiesce_fd, &count, sizeof(count)) == sizeof(count))
			io_loop_tell(w->loop, &w->drained);
	}
}

static void io_worker_report(struct io_worker *w, int result)
{
	pthread_mutex_lock(&w->loop->lock);
	w->start_result = result;
	pthread_cond_broadcast(&w->loop->started);
	pthread_mutex_unlock(&w->loop->lock);
}

static void *io_worker_main(void *arg)
{
	struct io_worker *w = arg;
	bool sandbox = w->loop->sandbox;
	int rc;

	block_sigpipe();
	rc = sandbox ? seccomp_install(w->seccomp_class) : 0;
	io_worker_report(w, rc);
	if (rc == 0) {
		if (sandbox)
			seccomp_test_violation(w->seccomp_class);
		io_worker_run(w);
	}
	io_loop_tell(w->loop, &w->exited);
	return NULL;
}

static int io_worker_start(struct io_worker *w)
{
	struct io_loop *l = w->loop;
	int rc;

	w->start_result = 1;
	w->exited = false;
	rc = pthread_create(&w->thread, NULL, io_worker_main, w);
	if (rc != 0)
		return -rc;
	w->running = true;
	pthread_mutex_lock(&l->lock);
	while (w->start_result == 1)
		pthread_cond_wait(&l->started, &l->lock);
	rc = w->start_result;
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* Asks a running thread to serve what is ready (a write to its quiesce fd); false if it could not. */
static bool io_loop_ask_drain(int quiesce_fd, bool *drained)
{
	uint64_t one = 1;

	*drained = false;
	/* A failed write can only mean the counter is saturated: a drain is asked anyway. */
	return write(quiesce_fd, &one, sizeof(one)) == sizeof(one) || errno == EAGAIN;
}

/* Under l->lock: waits until *drained or *exited. */
static void io_loop_wait_drained(struct io_loop *l, const bool *drained, const bool *exited)
{
	while (!*drained && !*exited)
		pthread_cond_wait(&l->drained_cond, &l->lock);
}

void io_loop_hold(struct io_loop *l)
{
	bool asked = false;

	/* Every thread is asked first, so that they drain side by side. */
	pthread_mutex_lock(&l->lock);
	if (l->running)
		asked = io_loop_ask_drain(l->quiesce_fd, &l->drained);
	for (struct io_worker *w = l->workers; w; w = w->next)
		if (w->running && !io_loop_ask_drain(w->quiesce_fd, &w->drained))
			w->drained = true;
	if (asked)
		io_loop_wait_drained(l, &l->drained, &l->exited);
	for (struct io_worker *w = l->workers; w; w = w->next)
		if (w->running)
			io_loop_wait_drained(l, &w->drained, &w->exited);
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_lock(&l->dispatch_lock);
	for (struct io_worker *w = l->workers; w; w = w->next)
		pthread_mutex_lock(&w->dispatch_lock);
}

void io_loop_release(struct io_loop *l)
{
	for (struct io_worker *w = l->workers; w; w = w->next)
		pthread_mutex_unlock(&w->dispatch_lock);
	pthread_mutex_unlock(&l->dispatch_lock);
}

int io_loop_start(struct io_loop *l)
{
	int rc;

	l->start_result = 1;
	l->exited = false;
	rc = pthread_create(&l->thread, NULL, io_loop_main, l);
	if (rc != 0)
		return -rc;
	l->running = true;
	pthread_mutex_lock(&l->lock);
	while (l->start_result == 1)
		pthread_cond_wait(&l->started, &l->lock);
	rc = l->start_result;
	pthread_mutex_unlock(&l->lock);
	for (struct io_worker *w = l->workers; rc == 0 && w; w = w->next)
		rc = io_worker_start(w);
	return rc;
}

void io_loop_stop(struct io_loop *l)
{
	uint64_t one = 1;

	/* A failed write can only mean the counter is saturated: a stop is pending anyway. */
	if (l->wake_fd >= 0 && write(l->wake_fd, &one, sizeof(one)) < 0)
		return;
}

void io_loop_destroy(struct io_loop *l)
{
	if (l->running) {
		io_loop_stop(l);
		pthread_join(l->thread, NULL);
		l->running = false;
	}
	for (struct io_worker *w = l->workers; w; w = w->next) {
		if (w->running) {
			io_loop_stop(l); /* a worker that started after a failed I/O thread start */
			pthread_join(w->thread, NULL);
			w->running = false;
		}
		close(w->quiesce_fd);
		pthread_mutex_destroy(&w->dispatch_lock);
	}
	l->workers = NULL;
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->quiesce_fd >= 0)
		close(l->quiesce_fd);
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	l->wake_fd = l->quiesce_fd = l->epoll_fd = -1;
}
