/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The I/O thread: one epoll loop serving every backend (virtio queue kicks, console input, taps,
 * sockets). A handler is embedded in its owner and recovered with container_of. Beside it, the loop
 * owns worker threads, each serving one fd whose handler may block in host I/O (a disk's queue): a
 * slow file system must not stall the devices the I/O thread serves.
 */
#ifndef KILN_IO_LOOP_H
#define KILN_IO_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/seccomp.h"
#include "util.h"

struct ev_handler {
	void (*ready)(struct ev_handler *h, uint32_t events);
};

struct io_loop;

/*
 * A thread of its own for one fd (io_loop_add_worker): it waits for the fd to be readable and runs
 * its handler, under the seccomp class given. It lives as long as the I/O thread: io_loop_start
 * starts it, io_loop_stop ends it (between two handler runs), io_loop_destroy joins it, and
 * io_loop_hold holds it as it holds the I/O thread. Embedded in its owner; the loop's fields only.
 */
/*
 * What the I/O thread and each worker share: their start and drain handshakes with the thread that
 * starts and holds them (under the loop's lock), and the lock a hold takes between two rounds of
 * handlers.
 */
struct io_thread {
	pthread_t thread;
	bool running;         /* the thread was started */
	int start_result;     /* under loop->lock: 1 while starting, then 0 or -errno from its set-up */
	int quiesce_fd;       /* eventfd: io_loop_hold asks the thread to serve what is ready */
	bool drained;         /* under loop->lock: served what was ready when a hold asked */
	bool exited;          /* under loop->lock: the thread left its loop */
	pthread_mutex_t dispatch_lock; /* held while its handlers run */
};

struct io_worker {
	struct io_loop *loop;
	struct ev_handler *handler;
	int fd;
	enum seccomp_thread seccomp_class;
	struct io_thread th;
	struct io_worker *next;
};

struct io_loop {
	int epoll_fd;
	int wake_fd; /* eventfd: a write ends the loop (and every worker) */
	struct ev_handler quiesce; /* th.quiesce_fd's, on the epoll set */
	bool drain_asked;     /* the I/O thread's own: th.quiesce_fd was read */
	atomic_uint nfds;     /* fds watched, the loop's two own included */
	struct io_thread th;  /* the I/O thread; its dispatch_lock is held while a batch is served */
	bool sandbox;         /* install the I/O thread's seccomp filter before looping */
	pthread_mutex_t lock; /* the start and drain handshakes (its own and the workers') */
	pthread_cond_t started;      /* under lock: a start_result changed */
	pthread_cond_t drained_cond; /* under lock: a drained or exited changed */
	struct io_worker *workers; /* io_loop_add_worker's, newest first */
};

int io_loop_init(struct io_loop *l) MUST_CHECK;
/* Watches fd for events (EPOLLIN, ...); -EPERM for fds epoll cannot watch (regular files). */
int io_loop_add(struct io_loop *l, int fd, uint32_t events, struct ev_handler *h) MUST_CHECK;
int io_loop_remove(struct io_loop *l, int fd);
/*
 * Serves fd on a thread of its own, w (the caller's, kept until io_loop_destroy), instead of the
 * I/O thread: h runs there whenever fd is readable and must consume what made it so. Before
 * io_loop_start only. 0 or -errno.
 */
int io_loop_add_worker(struct io_loop *l, struct io_worker *w, int fd, struct ev_handler *h,
		       enum seccomp_thread seccomp_class) MUST_CHECK;
/*
 * For tests that start no threads: runs w's handler on the calling thread if its fd is readable
 * now; whether it ran.
 */
bool io_worker_serve_ready(struct io_worker *w);
/*
 * Starts the thread and the workers; returns once they run their loops (with their seccomp filters
 * if l->sandbox). On failure io_loop_destroy ends those that started.
 */
int io_loop_start(struct io_loop *l) MUST_CHECK;
/*
 * Blocks SIGPIPE on the calling thread: a console reader that went away must give EPIPE, not end
 * the process. kiln's own threads call it; the embedding process's signal handling stays its own.
 */
void block_sigpipe(void);

/*
 * Holds the I/O thread between two batches of events, and each worker between two handler runs,
 * so no handler runs (and no device lock is held by one) until io_loop_release: a snapshot reads
 * devices and guest RAM in one consistent state. Events that arrive meanwhile wait. A worker in a
 * slow host request is waited for. Not from the I/O thread or a worker.
 *
 * Before it holds, each thread serves every event ready at the call (a zero-timeout pass), so that
 * what is read includes their effects. With the vCPUs parked first, no guest queue notification
 * is then left pending: one that was would be served by this process after io_loop_release and
 * again by a restore of the snapshot (which kicks every queue), and a virtio-console line would
 * come out of both. Host input that arrives later (tap, sockets, console input) reaches whichever
 * process it is sent to, as it would anyway.
 */
void io_loop_hold(struct io_loop *l);
void io_loop_release(struct io_loop *l);

/* Asks the loop and its workers to end; async-signal-safe. */
void io_loop_stop(struct io_loop *l);
/* Stops the thread and the workers that run, joins them, closes the fds. */
void io_loop_destroy(struct io_loop *l);

#endif
