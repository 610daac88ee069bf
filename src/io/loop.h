/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The I/O thread: one epoll loop serving every backend (console input now; virtio queues and their
 * backends later). A handler is embedded in its owner and recovered with container_of.
 */
#ifndef KILN_IO_LOOP_H
#define KILN_IO_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct ev_handler {
	void (*ready)(struct ev_handler *h, uint32_t events);
};

struct io_loop {
	int epoll_fd;
	int wake_fd; /* eventfd: a write ends the loop */
	int quiesce_fd; /* eventfd: a write asks the thread to serve what is ready (io_loop_hold) */
	struct ev_handler quiesce;
	bool drain_asked;     /* the I/O thread's own: quiesce_fd was read */
	atomic_uint nfds;     /* fds watched, the loop's two own included */
	pthread_t thread;
	bool running;
	bool sandbox;         /* install the I/O thread's seccomp filter before looping */
	pthread_mutex_t lock; /* start_result handshake */
	pthread_cond_t started;
	int start_result;     /* 1 while starting, then 0 or -errno from the thread's set-up */
	pthread_cond_t drained_cond; /* under lock: drained or exited changed */
	bool drained;         /* the events ready when io_loop_hold asked are served */
	bool exited;          /* the thread left its loop */
	pthread_mutex_t dispatch_lock; /* held while a batch of events is served */
};

int io_loop_init(struct io_loop *l) MUST_CHECK;
/* Watches fd for events (EPOLLIN, ...); -EPERM for fds epoll cannot watch (regular files). */
int io_loop_add(struct io_loop *l, int fd, uint32_t events, struct ev_handler *h) MUST_CHECK;
int io_loop_remove(struct io_loop *l, int fd);
/* Starts the thread; returns once it runs its loop (with its seccomp filter if l->sandbox). */
int io_loop_start(struct io_loop *l) MUST_CHECK;
/*
 * Blocks SIGPIPE on the calling thread: a console reader that went away must give EPIPE, not end
 * the process. kiln's own threads call it; the embedding process's signal handling stays its own.
 */
void block_sigpipe(void);

/*
 * Holds the I/O thread between two batches of events, so no handler runs (and no device lock is
 * held by it) until io_loop_release: a snapshot reads devices and guest RAM in one consistent
 * state. Events that arrive meanwhile wait in epoll. Not from the I/O thread itself.
 *
 * Before it holds, the thread serves every event ready at the call (a zero-timeout pass), so that
 * what is read includes their effects. With the vCPUs parked first, no guest queue notification
 * is then left pending: one that was would be served by this process after io_loop_release and
 * again by a restore of the snapshot (which kicks every queue), and a virtio-console line would
 * come out of both. Host input that arrives later (tap, sockets, console input) reaches whichever
 * process it is sent to, as it would anyway.
 */
void io_loop_hold(struct io_loop *l);
void io_loop_release(struct io_loop *l);

/* Asks the loop to end; async-signal-safe. */
void io_loop_stop(struct io_loop *l);
/* Stops the thread if it runs, joins it, closes the fds. */
void io_loop_destroy(struct io_loop *l);

#endif
