/* SPDX-License-Identifier: Apache-2.0 */
#include "vcpu/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "io/loop.h"
#include "io/seccomp.h"
#include "kvm/kvm.h"
#include "log.h"
#include "thread.h"
#include "vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned int id, size_t run_size)
{
	*v = (struct vcpu){ .vm = vm, .id = id, .fd = -1, .run_size = run_size };
	v->fd = kvm_create_vcpu(vm->vm_fd, id);
	if (v->fd < 0)
		return v->fd;
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int err = -errno;
		v->run = NULL;
		close(v->fd);
		v->fd = -1;
		return err;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void kick_handler(int sig)
{
	(void)sig; /* its only job is to interrupt KVM_RUN with EINTR */
}

int vcpu_install_kick_signal(void)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART: KVM_RUN must return */

	sigemptyset(&sa.sa_mask);
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void note_first_run(struct vm *vm)
{
	unsigned long long none = 0;

	if (atomic_compare_exchange_strong(&vm->first_run_ns, &none, now_ns()))
		atomic_store(&vm->setup_cpu_ns, process_cpu_ns());
}

/*
 * kvm_run.immediate_exit is written by this vCPU's thread and by any thread that kicks it, so the
 * stores are atomic; relaxed, because what a kick means is in exit_reason and pause_requested, which
 * the vCPU thread reads after clearing the flag.
 */
static void set_immediate_exit(struct vcpu *v, uint8_t value)
{
	__atomic_store_n(&v->run->immediate_exit, value, __ATOMIC_RELAXED);
}

/*
 * KVM finishes the instruction behind a PIO or MMIO exit (an IN's value into the register, the
 * instruction pointer moved past it) only on the next KVM_RUN (api.rst, KVM_RUN, immediate_exit:
 * "to complete pending operations"). A parked vCPU's state is read for a snapshot, so it enters with
 * immediate_exit set, which completes that and returns -EINTR at once; a string instruction may
 * need another exit first, which is served as usual. False when the vCPU must stop.
 */
static bool complete_last_exit(struct vcpu *v)
{
	for (;;) {
		set_immediate_exit(v, 1);
		int rc = kvm_run(v->fd);
		set_immediate_exit(v, 0);
		if (rc == -EINTR || rc == -EAGAIN)
			return true;
		if (rc < 0) {
			log_warn("vcpu", "vCPU %u: completing the last exit before a pause: %s", v->id,
				 strerror(-rc));
			return true;
		}
		if (!vcpu_handle_exit(v))
			return false;
	}
}

static void *vcpu_main(void *arg)
{
	struct vcpu *v = arg;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	block_sigpipe();
	/*
	 * Before the loop reads exit_reason, and seq_cst as vm_request_stop's store of it: either this
	 * thread sees the stop, or the stopper sees it kickable (vcpu_kick). Marked by the starter after
	 * pthread_create instead, a stop in between found it unmarked and running (a race TSan saw).
	 */
	v->self = pthread_self();
	atomic_store(&v->kickable, true);

	int rc = seccomp_install(SECCOMP_THREAD_VCPU);
	if (rc < 0) {
		vm_request_stop(v->vm, KILN_EXIT_ERROR, "cannot install the vCPU seccomp filter");
		return NULL;
	}
	seccomp_test_violation(SECCOMP_THREAD_VCPU);
	note_first_run(v->vm);
	while (atomic_load(&v->vm->exit_reason) == 0) {
		if (atomic_load(&v->vm->pause_requested)) {
			if (!complete_last_exit(v))
				break;
			vm_park_vcpu(v->vm);
			continue;
		}
		rc = kvm_run(v->fd);
		if (rc == -EINTR || rc == -EAGAIN) {
			set_immediate_exit(v, 0);
			continue;
		}
		if (rc < 0) {
			char detail[128];
			snprintf(detail, sizeof(detail), "vCPU %u: KVM_RUN failed: %s", v->id, strerror(-rc));
			vm_request_stop(v->vm, KILN_EXIT_CRASH, detail);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int rc = thread_start(&v->thread, vcpu_main, v);

	if (rc < 0)
		return rc;
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!atomic_load(&v->kickable))
		return; /* its thread reads exit_reason and pause_requested before any KVM_RUN */
	/* immediate_exit covers a kick that lands just before KVM_RUN is entered. */
	set_immediate_exit(v, 1);
	pthread_kill(v->self, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (v->thread_started)
		pthread_join(v->thread, NULL);
	v->thread_started = false;
}
