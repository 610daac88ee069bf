/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_threads STATUS_GUEST COUNTER_GUEST [ROUNDS]: two threads of one process each create, start,
 * wait for and destroy a VM, ROUNDS times (default 200), both at once: a barrier lines the threads
 * up before every round, so that the two VMs of a round are built, run and torn down side by side.
 * STATUS_GUEST is tests/tiny/cmdline_status.S, which reports the first byte of its command line as
 * its exit status: each VM gets its own byte (by thread and round), and each thread checks that its
 * VM ended with that status, so a VM that saw the other's configuration, or whose end was reported
 * to the other, fails. Then each round has each thread start COUNTER_GUEST (tests/tiny/counter.S,
 * which never ends) and wait for it while the other thread stops it with kiln_vm_stop. kiln.h's
 * header comment says what may be called from which thread; these are the cases it promises for
 * two VMs. Afterwards the process holds exactly the fds it had before.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "integration/proc_count.h"

#define NTHREADS 2

struct worker {
	unsigned int index;
	const char *kernel;
	const char *counter;
	unsigned int rounds;
	pthread_barrier_t *barrier;
	struct kiln_vm *running; /* the counter VM this thread waits for, which the other one stops */
	struct worker *other;
	unsigned int failed;
	char first_failure[512];
};

/* The byte VM `round` of thread `index` reports: printable, different for the two threads. */
static char round_status(unsigned int index, unsigned int round)
{
	return (char)((index == 0 ? 'A' : 'a') + round % 26);
}

static void worker_fail(struct worker *w, unsigned int round, const char *what, const char *detail)
{
	if (w->failed++ == 0)
		snprintf(w->first_failure, sizeof(w->first_failure), "thread %u, round %u: %s%s%s", w->index,
			 round, what, detail[0] ? ": " : "", detail);
}

static void run_round(struct worker *w, unsigned int round)
{
	char cmdline[2] = { round_status(w->index, round), '\0' };
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	struct kiln_exit e;
	struct kiln_vm *vm;

	kiln_config_init(&cfg);
	cfg.kernel_path = w->kernel;
	cfg.cmdline = cmdline;
	cfg.mem_bytes = 16 << 20;
	cfg.console_in_fd = cfg.console_out_fd = -1;
	if (kiln_vm_create(&cfg, &vm, &err) < 0) {
		worker_fail(w, round, "kiln_vm_create", err.msg);
		return;
	}
	if (kiln_vm_start(vm, &err) < 0)
		worker_fail(w, round, "kiln_vm_start", err.msg);
	else if (kiln_vm_wait(vm, &e) < 0)
		worker_fail(w, round, "kiln_vm_wait", "");
	else if (e.reason != KILN_EXIT_STATUS || !e.status_reported || e.guest_status != cmdline[0]) {
		char got[400];

		snprintf(got, sizeof(got), "reason %d, status %d (reported: %d), expected status %d; %s",
			 (int)e.reason, e.guest_status, (int)e.status_reported, cmdline[0], e.detail);
		worker_fail(w, round, "the VM's end", got);
	}
	kiln_vm_destroy(vm);
}

/*
 * Starts the counter guest, lets the other thread stop it while this one waits for it. Both threads
 * pass the barrier whether or not their VM started, and the other thread's VM is stopped only
 * between the two barriers, before its owner can destroy it.
 */
static void stop_round(struct worker *w, unsigned int round)
{
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	struct kiln_exit e = { 0 };

	kiln_config_init(&cfg);
	cfg.kernel_path = w->counter;
	cfg.mem_bytes = 16 << 20;
	cfg.console_in_fd = cfg.console_out_fd = -1;
	w->running = NULL;
	if (kiln_vm_create(&cfg, &w->running, &err) < 0)
		worker_fail(w, round, "kiln_vm_create (counter)", err.msg);
	else if (kiln_vm_start(w->running, &err) < 0) {
		worker_fail(w, round, "kiln_vm_start (counter)", err.msg);
		kiln_vm_destroy(w->running);
		w->running = NULL;
	}
	pthread_barrier_wait(w->barrier);
	if (w->other->running)
		kiln_vm_stop(w->other->running);
	if (w->running) {
		if (kiln_vm_wait(w->running, &e) < 0 || e.reason != KILN_EXIT_STOPPED)
			worker_fail(w, round, "the counter VM did not end by the other thread's kiln_vm_stop", e.detail);
	}
	pthread_barrier_wait(w->barrier);
	kiln_vm_destroy(w->running);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (unsigned int round = 0; round < w->rounds; round++) {
		pthread_barrier_wait(w->barrier);
		run_round(w, round);
		stop_round(w, round);
	}
	return NULL;
}

/* The fds this process holds (those of /proc/self/fd, less the one reading it). */
static int count_fds(void)
{
	return proc_count("fd") - 1;
}

int main(int argc, char **argv)
{
	struct worker workers[NTHREADS];
	pthread_t threads[NTHREADS];
	pthread_barrier_t barrier;
	unsigned int rounds = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 10) : 200;
	int fds_before, failed = 0;

	if (argc < 3 || rounds == 0) {
		fprintf(stderr, "usage: %s CMDLINE_STATUS_ELF COUNTER_ELF [ROUNDS]\n", argv[0]);
		return 2;
	}
	fds_before = count_fds();
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (unsigned int i = 0; i < NTHREADS; i++) {
		workers[i] = (struct worker){ .index = i, .kernel = argv[1], .counter = argv[2], .rounds = rounds,
					      .barrier = &barrier, .other = &workers[1 - i] };
		if (pthread_create(&threads[i], NULL, worker_main, &workers[i]) != 0) {
			fprintf(stderr, "test_threads: cannot create a thread\n");
			return 1;
		}
	}
	for (unsigned int i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&barrier);
	for (unsigned int i = 0; i < NTHREADS; i++) {
		printf("%s - thread %u: %u rounds: a VM ended with its own status, a VM stopped by the other "
		       "thread%s%s\n",
		       workers[i].failed ? "not ok" : "ok", i, rounds, workers[i].failed ? "; first failure: " : "",
		       workers[i].first_failure);
		failed += workers[i].failed != 0;
	}
	int fds_after = count_fds();
	printf("%s - the process holds as many fds after %u VMs as before (%d, %d)\n",
	       fds_after == fds_before ? "ok" : "not ok", 2 * NTHREADS * rounds, fds_before, fds_after);
	failed += fds_after != fds_before;
	return failed ? 1 : 0;
}
