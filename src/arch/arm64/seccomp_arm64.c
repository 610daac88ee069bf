/* SPDX-License-Identifier: Apache-2.0 */
/* arm64's own KVM ioctls and syscalls in the seccomp allowlists (arch/seccomp_arch.h). */
#include "arch/seccomp_arch.h"

#include <linux/kvm.h>
#include <sys/syscall.h>

#include "util.h"

/* vCPU threads: the vCPU's registers in the log when the guest crashes (arch_describe_vcpu). */
static const unsigned long vcpu_ioctls[] = { KVM_GET_ONE_REG };
/* The main thread once its VM runs. */
static const unsigned long main_ioctls[] = {
	KVM_GET_ONE_REG, /* pause: the guest's virtual counter is saved (arch_pause_clock) */
	KVM_SET_ONE_REG, /* resume: and written back */
	/* A snapshot (PUT /snapshot/create, kiln_vm_snapshot) reads the paused machine (KVM_GET_ONE_REG too): */
	KVM_GET_REG_LIST, KVM_GET_MP_STATE, /* each vCPU: which registers it has, whether it runs */
	KVM_GET_DEVICE_ATTR, /* the GICv3's registers */
};

void arch_seccomp_ioctls(enum seccomp_thread t, const unsigned long **list, size_t *n)
{
	*list = NULL;
	*n = 0;
	if (t == SECCOMP_THREAD_VCPU) {
		*list = vcpu_ioctls;
		*n = ARRAY_SIZE(vcpu_ioctls);
	} else if (t == SECCOMP_THREAD_MAIN) {
		*list = main_ioctls;
		*n = ARRAY_SIZE(main_ioctls);
	}
}

/*
 * arm64 has no unlink, open, poll, epoll_wait or rename: glibc calls unlinkat, openat, ppoll,
 * epoll_pwait and renameat. io/seccomp.c's tables name both where a thread may use either, but for the main
 * thread's (libseccomp skips the rules of syscalls this architecture lacks).
 */
static const int main_syscalls[] = {
	__NR_ppoll,    /* the API process's main loop (poll) */
	__NR_unlinkat, /* the end: the vsock and API socket files (unlink) */
	__NR_renameat, /* a snapshot: each file replaces its name only once complete (rename) */
};

void arch_seccomp_syscalls(enum seccomp_thread t, const int **list, size_t *n)
{
	*list = NULL;
	*n = 0;
	if (t == SECCOMP_THREAD_MAIN) {
		*list = main_syscalls;
		*n = ARRAY_SIZE(main_syscalls);
	}
}
