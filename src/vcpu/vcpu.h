/* SPDX-License-Identifier: Apache-2.0 */
/* One thread per vCPU, running KVM_RUN and dispatching its exits to the buses. */
#ifndef KILN_VCPU_VCPU_H
#define KILN_VCPU_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "util.h"

struct vm;

#define VCPU_EXIT_REASONS 64 /* KVM_EXIT_* values below this are counted one by one */

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run; /* shared with KVM: mmap of the vCPU fd */
	size_t run_size;
	pthread_t thread;     /* kiln_vm_start's thread's handle, for vcpu_join */
	bool thread_started;  /* that thread's own: started and not joined yet */
	/*
	 * The vCPU thread's own id, for kicks from any thread: it sets both itself before its first
	 * KVM_RUN (vcpu_main), so that no stop finds it running the guest and not yet kickable.
	 */
	pthread_t self;
	atomic_bool kickable;
	/* Exits by KVM exit reason, for metrics; only this vCPU's thread writes them. */
	atomic_ullong exits[VCPU_EXIT_REASONS];
};

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned int id, size_t run_size) MUST_CHECK;
void vcpu_destroy(struct vcpu *v);

/* The signal used to kick a vCPU out of KVM_RUN; installed once per process. */
int vcpu_install_kick_signal(void) MUST_CHECK;
int vcpu_start(struct vcpu *v) MUST_CHECK;
/* Makes the next or current KVM_RUN return; async-signal-safe. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);

/* Handles one exit; returns false when the vCPU must stop (exit.c). */
bool vcpu_handle_exit(struct vcpu *v);

#endif
