/* SPDX-License-Identifier: Apache-2.0 */
#include "io/loop.h"

#include <errno.h>
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

void io_loop_hold(struct io_loop *l)
{
	uint64_t one = 1;

	if (l->running) {
		pthread_mutex_lock(&l->lock);
		l->drained = false;
		/* A failed write can only mean the counter is saturated: a drain is asked anyway. */
		if (write(l->quiesce_fd, &one, sizeof(one)) == sizeof(one) || errno == EAGAIN)
			while (!l->drained && !l->exited)
				pthread_cond_wait(&l->drained_cond, &l->lock);
		pthread_mutex_unlock(&l->lock);
	}
	pthread_mutex_lock(&l->dispatch_lock);
}

void io_loop_release(struct io_loop *l)
{
	pthread_mutex_unlock(&l->dispatch_lock);
}

int io_loop_start(struct io_loop *l)
{
	int rc;

	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->started, NULL);
	pthread_cond_init(&l->drained_cond, NULL);
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
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->quiesce_fd >= 0)
		close(l->quiesce_fd);
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	l->wake_fd = l->quiesce_fd = l->epoll_fd = -1;
}
