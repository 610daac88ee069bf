/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_start_failure COUNTER_GUEST [ROUNDS]: kiln_vm_start fails part-way, and kiln_vm_destroy then
 * cleans up. Linked with -Wl,--wrap=pthread_create: the wrapper below refuses the thread of the
 * last vCPU (EAGAIN, as at a thread limit), after the I/O thread and the first vCPU's are running.
 * kiln_vm_start must return that error naming the vCPU, and kiln_vm_destroy must stop and join the
 * threads already started before it frees the VM: freed under their feet, the ASan build reports a
 * use after free (and the release build may crash). Each round also checks the process is left with
 * its fds and a single thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "integration/proc_count.h"

#define VCPUS 3

int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

/* Which pthread_create call of this round fails (1-based; 0: none). */
static atomic_uint fail_call, calls;

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (atomic_fetch_add(&calls, 1) + 1 == atomic_load(&fail_call))
		return EAGAIN;
	return __real_pthread_create(thread, attr, fn, arg);
}

static int fail(unsigned int round, const char *what)
{
	printf("not ok - round %u: %s\n", round, what);
	return 1;
}

/* One VM whose start fails at its last vCPU's thread; 0 when all went as it should. */
static int run_round(const char *kernel, unsigned int round, unsigned int threads_before_vcpus)
{
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	struct kiln_vm *vm;
	char expected[64];
	int rc;

	kiln_config_init(&cfg);
	cfg.kernel_path = kernel;
	cfg.vcpus = VCPUS;
	cfg.mem_bytes = 16 << 20;
	cfg.console_in_fd = cfg.console_out_fd = -1;
	if (kiln_vm_create(&cfg, &vm, &err) < 0)
		return fail(round, err.msg);
	atomic_store(&calls, 0);
	atomic_store(&fail_call, threads_before_vcpus + VCPUS);
	rc = kiln_vm_start(vm, &err);
	atomic_store(&fail_call, 0);
	snprintf(expected, sizeof(expected), "starting vCPU %u: ", VCPUS - 1);
	if (rc != -EAGAIN || strncmp(err.msg, expected, strlen(expected)) != 0) {
		char got[400];

		snprintf(got, sizeof(got), "kiln_vm_start returned %d (\"%s\"), expected -EAGAIN naming vCPU %u", rc,
			 err.msg, VCPUS - 1);
		kiln_vm_destroy(vm);
		return fail(round, got);
	}
	kiln_vm_destroy(vm);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 50;
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	struct kiln_exit e;
	struct kiln_vm *vm;
	unsigned int threads_before_vcpus;
	int fds, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: test_start_failure COUNTER_GUEST [ROUNDS]\n");
		return 2;
	}
	/* How many threads a start makes before the vCPUs' (the I/O thread, device workers): one clean run. */
	kiln_config_init(&cfg);
	cfg.kernel_path = argv[1];
	cfg.vcpus = VCPUS;
	cfg.mem_bytes = 16 << 20;
	cfg.console_in_fd = cfg.console_out_fd = -1;
	if (kiln_vm_create(&cfg, &vm, &err) < 0 || (atomic_store(&calls, 0), kiln_vm_start(vm, &err)) < 0) {
		printf("not ok - a clean start: %s\n", err.msg);
		return 1;
	}
	threads_before_vcpus = atomic_load(&calls) - VCPUS;
	kiln_vm_stop(vm);
	kiln_vm_wait(vm, &e);
	kiln_vm_destroy(vm);

	fds = proc_count("fd");
	for (unsigned int round = 0; round < rounds && !failed; round++)
		failed = run_round(argv[1], round, threads_before_vcpus);
	if (!failed && proc_count("fd") != fds)
		failed = fail(rounds, "the fds of the failed starts were not all closed");
	if (!failed && proc_count("task") != 1)
		failed = fail(rounds, "threads of the failed starts are still running");
	if (!failed)
		printf("ok - %u starts failing at vCPU %u's thread: -EAGAIN named, destroyed with every thread joined\n",
		       rounds, VCPUS - 1);
	return failed;
}
