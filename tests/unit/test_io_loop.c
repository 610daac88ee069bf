/* SPDX-License-Identifier: Apache-2.0 */
/*
 * io/loop.c, the real I/O thread: io_loop_hold serves every event ready when it is called before it
 * holds, so a snapshot saves their effects and the snapshotted process does not serve them alone
 * after io_loop_release (a restore kicks every queue: such a notification was served twice).
 * "Queues" are eventfds whose handler counts what it read, as a device's next_avail counts the
 * chains it took. A gate handler keeps the thread busy while the test signals them, so they are
 * ready and not yet served when the hold is asked. A hold after the thread ended returns.
 * A worker (io_loop_add_worker) stuck in its handler, as a disk's in a slow request, stalls none of
 * the loop's fds, and a hold waits for it and has it serve its pending kick first.
 * alarm() only ends a test that would hang.
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/loop.h"

#define NQUEUES 70 /* more than one epoll batch (MAX_EVENTS) holds */
/*
 * Before the fix the hold and the thread raced for the loop once the gate opened, and the hold won
 * (read the queues unserved) in a few rounds of a hundred here: 1000 rounds failed 10 runs of 10.
 * With the fix every round passes, whoever wins: the outcome is not left to the race.
 */
#define ROUNDS 1000
#define WORKER_ROUNDS 200

struct queue {
	struct ev_handler h;
	int fd;
	atomic_uint served; /* notifications read: a device's next_avail */
};

struct fx {
	struct io_loop loop;
	struct ev_handler gate_h;
	int gate_fd;
	sem_t entered; /* the thread runs the gate handler */
	sem_t open;    /* the gate handler may return */
	struct queue q[NQUEUES];
	struct io_worker worker;
	struct ev_handler worker_h;
	int worker_fd;
	atomic_uint worker_served; /* notifications the worker's handler read */
	atomic_bool worker_blocks; /* its next run waits at the gate (entered, open), once */
};

static void queue_ready(struct ev_handler *h, uint32_t events)
{
	struct queue *q = container_of(h, struct queue, h);
	uint64_t count;

	(void)events;
	if (read(q->fd, &count, sizeof(count)) == sizeof(count))
		atomic_fetch_add(&q->served, (unsigned int)count);
}

static void gate_ready(struct ev_handler *h, uint32_t events)
{
	struct fx *f = container_of(h, struct fx, gate_h);
	uint64_t count;

	(void)events;
	if (read(f->gate_fd, &count, sizeof(count)) != sizeof(count))
		return;
	sem_post(&f->entered);
	sem_wait(&f->open);
}

/* The worker's handler: a disk's queue, whose next request may be slow (worker_blocks). */
static void worker_ready(struct ev_handler *h, uint32_t events)
{
	struct fx *f = container_of(h, struct fx, worker_h);
	uint64_t count;

	(void)events;
	if (read(f->worker_fd, &count, sizeof(count)) != sizeof(count))
		return;
	atomic_fetch_add(&f->worker_served, (unsigned int)count);
	if (atomic_exchange(&f->worker_blocks, false)) {
		sem_post(&f->entered);
		sem_wait(&f->open);
	}
}

static int watch(struct io_loop *l, int *fd, struct ev_handler *h)
{
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return *fd < 0 ? -1 : io_loop_add(l, *fd, EPOLLIN, h);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || io_loop_init(&f->loop) < 0)
		return -1;
	sem_init(&f->entered, 0, 0);
	sem_init(&f->open, 0, 0);
	f->gate_h.ready = gate_ready;
	if (watch(&f->loop, &f->gate_fd, &f->gate_h) < 0)
		return -1;
	for (int i = 0; i < NQUEUES; i++) {
		f->q[i].h.ready = queue_ready;
		if (watch(&f->loop, &f->q[i].fd, &f->q[i].h) < 0)
			return -1;
	}
	f->worker_h.ready = worker_ready;
	f->worker_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->worker_fd < 0 ||
	    io_loop_add_worker(&f->loop, &f->worker, f->worker_fd, &f->worker_h, SECCOMP_THREAD_BLK) < 0)
		return -1;
	*state = f;
	return io_loop_start(&f->loop) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	io_loop_destroy(&f->loop);
	close(f->gate_fd);
	close(f->worker_fd);
	for (int i = 0; i < NQUEUES; i++)
		close(f->q[i].fd);
	free(f);
	return 0;
}

static void signal_fd(int fd)
{
	assert_int_equal(eventfd_write(fd, 1), 0);
}

struct holder {
	struct fx *f;
	unsigned int served_at_hold[NQUEUES];
};

/* The snapshot's side: hold, read the "device state", release. */
static void *hold_and_read(void *arg)
{
	struct holder *hd = arg;

	io_loop_hold(&hd->f->loop);
	for (int i = 0; i < NQUEUES; i++)
		hd->served_at_hold[i] = atomic_load(&hd->f->q[i].served);
	io_loop_release(&hd->f->loop);
	return NULL;
}

static void pending_notifications_are_served_before_the_hold(void **state)
{
	struct fx *f = *state;
	struct holder hd = { .f = f };
	pthread_t t;

	alarm(60);
	for (unsigned int round = 1; round <= ROUNDS; round++) {
		signal_fd(f->gate_fd);
		sem_wait(&f->entered);
		/* The thread is busy: these wait in epoll, as a notification the guest made just
		 * before it was paused does. */
		for (int i = 0; i < NQUEUES; i++)
			signal_fd(f->q[i].fd);
		assert_int_equal(pthread_create(&t, NULL, hold_and_read, &hd), 0);
		sem_post(&f->open);
		pthread_join(t, NULL);
		for (int i = 0; i < NQUEUES; i++)
			assert_int_equal(hd.served_at_hold[i], round);
	}
	/* After the release nothing is left to serve again: a last hold drains and finds none. */
	io_loop_hold(&f->loop);
	io_loop_release(&f->loop);
	for (int i = 0; i < NQUEUES; i++)
		assert_int_equal(atomic_load(&f->q[i].served), ROUNDS);
	alarm(0);
}

static void hold_after_the_thread_ended(void **state)
{
	struct fx *f = *state;

	alarm(20);
	io_loop_stop(&f->loop);
	io_loop_hold(&f->loop);
	io_loop_release(&f->loop);
	alarm(0);
}

struct worker_holder {
	struct fx *f;
	sem_t holding; /* the holder is about to hold */
	unsigned int served_at_hold;
};

static void *hold_and_read_worker(void *arg)
{
	struct worker_holder *hd = arg;

	sem_post(&hd->holding);
	io_loop_hold(&hd->f->loop);
	hd->served_at_hold = atomic_load(&hd->f->worker_served);
	io_loop_release(&hd->f->loop);
	return NULL;
}

/*
 * Each round: the worker enters a slow request; the I/O thread serves a queue meanwhile; a kick
 * waits for the worker; a hold is asked, and only then does the request end. A hold that did not
 * wait for the worker read 2 * round - 1 in most rounds.
 */
static void a_busy_worker_stalls_nothing_and_a_hold_waits_for_it(void **state)
{
	struct fx *f = *state;
	struct worker_holder hd = { .f = f };
	pthread_t t;

	alarm(60);
	sem_init(&hd.holding, 0, 0);
	for (unsigned int round = 1; round <= WORKER_ROUNDS; round++) {
		atomic_store(&f->worker_blocks, true);
		signal_fd(f->worker_fd);
		sem_wait(&f->entered);
		signal_fd(f->q[0].fd);
		while (atomic_load(&f->q[0].served) != round)
			sched_yield();
		signal_fd(f->worker_fd);
		assert_int_equal(pthread_create(&t, NULL, hold_and_read_worker, &hd), 0);
		sem_wait(&hd.holding);
		sem_post(&f->open);
		pthread_join(t, NULL);
		assert_int_equal(hd.served_at_hold, 2 * round);
	}
	alarm(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pending_notifications_are_served_before_the_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(hold_after_the_thread_ended, setup, teardown),
		cmocka_unit_test_setup_teardown(a_busy_worker_stalls_nothing_and_a_hold_waits_for_it, setup, teardown),
	};

	return cmocka_run_group_tests_name("io_loop", tests, NULL, NULL);
}
