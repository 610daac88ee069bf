/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pause and resume. A pause asks every vCPU to leave KVM_RUN (the same kick as a stop) and park on
 * a condition variable; once all are parked the guest's clock is saved (x86: its kvmclock,
 * arch_pause_clock). Resume restores that clock, so the guest's monotonic time continues from where
 * it paused rather than jumping, and wakes the vCPUs.
 */
#include <errno.h>
#include <time.h>

#include "arch/arch.h"
#include "vm.h"

/* Parked vCPUs also look at exit_reason: a stop may come from a signal handler, which cannot signal. */
#define PARK_RECHECK_NS 50000000L

static bool vm_running(struct vm *vm)
{
	return vm->started && atomic_load(&vm->exit_reason) == 0;
}

/* One bounded wait on park_cond (park_lock held), so every waiter also notices a stop. */
static void park_wait(struct vm *vm)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += PARK_RECHECK_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&vm->park_cond, &vm->park_lock, &until);
}

void vm_park_vcpu(struct vm *vm)
{
	pthread_mutex_lock(&vm->park_lock);
	vm->parked_vcpus++;
	pthread_cond_broadcast(&vm->park_cond);
	while (atomic_load(&vm->pause_requested) && atomic_load(&vm->exit_reason) == 0)
		park_wait(vm);
	vm->parked_vcpus--;
	pthread_mutex_unlock(&vm->park_lock);
}

int kiln_vm_pause(struct kiln_vm *handle)
{
	struct vm *vm = (struct vm *)handle;

	if (!vm_running(vm) || atomic_load(&vm->pause_requested))
		return -EINVAL;
	atomic_store(&vm->pause_requested, true);
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->park_lock);
	while (vm->parked_vcpus < vm->nvcpus && atomic_load(&vm->exit_reason) == 0)
		park_wait(vm);
	pthread_mutex_unlock(&vm->park_lock);
	return arch_pause_clock(vm);
}

int kiln_vm_resume(struct kiln_vm *handle)
{
	struct vm *vm = (struct vm *)handle;
	int rc;

	if (!vm_running(vm) || !atomic_load(&vm->pause_requested))
		return -EINVAL;
	rc = arch_resume_clock(vm);
	pthread_mutex_lock(&vm->park_lock);
	atomic_store(&vm->pause_requested, false);
	pthread_cond_broadcast(&vm->park_cond);
	pthread_mutex_unlock(&vm->park_lock);
	return rc < 0 ? rc : 0;
}

enum kiln_vm_state kiln_vm_get_state(struct kiln_vm *handle)
{
	struct vm *vm = (struct vm *)handle;

	if (atomic_load(&vm->exit_reason) != 0)
		return KILN_VM_STOPPED;
	if (!vm->started)
		return KILN_VM_NOT_STARTED;
	return atomic_load(&vm->pause_requested) ? KILN_VM_PAUSED : KILN_VM_RUNNING;
}
