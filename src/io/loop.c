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

int io_loop_init(struct io_loop *l)
{
	*l = (struct io_loop){ .epoll_fd = -1, .wake_fd = -1 };
	pthread_mutex_init(&l->dispatch_lock, NULL);
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll_fd < 0)
		return -errno;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0) {
		int err = -errno;
		close(l->epoll_fd);
		return err;
	}
	/* The wake fd is the one source with no handler: data.ptr NULL means "stop". */
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0) {
		int err = -errno;
		io_loop_destroy(l);
		return err;
	}
	return 0;
}

int io_loop_add(struct io_loop *l, int fd, uint32_t events, struct ev_handler *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int io_loop_remove(struct io_loop *l, int fd)
{
	return epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
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

static void *io_loop_main(void *arg)
{
	struct io_loop *l = arg;
	struct epoll_event events[MAX_EVENTS];
	int rc;

	block_sigpipe();
	rc = l->sandbox ? seccomp_install(SECCOMP_THREAD_IO) : 0;

	report_start(l, rc);
	if (rc < 0)
		return NULL;
	if (l->sandbox)
		seccomp_test_violation(SECCOMP_THREAD_IO);

	for (;;) {
		int n = epoll_wait(l->epoll_fd, events, MAX_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("io", "epoll_wait: %s", strerror(errno));
			return NULL;
		}
		/* A batch runs whole under dispatch_lock: io_loop_hold waits for it (loop.h). */
		pthread_mutex_lock(&l->dispatch_lock);
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = events[i].data.ptr;

			if (h == NULL) {
				pthread_mutex_unlock(&l->dispatch_lock);
				return NULL;
			}
			h->ready(h, events[i].events);
		}
		pthread_mutex_unlock(&l->dispatch_lock);
	}
}

void io_loop_hold(struct io_loop *l)
{
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
	l->start_result = 1;
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
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	l->wake_fd = l->epoll_fd = -1;
}
