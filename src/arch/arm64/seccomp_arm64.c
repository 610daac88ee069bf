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
 * arm64 has no unlink, open, poll or epoll_wait: glibc calls unlinkat, openat, ppoll and
 * epoll_pwait. io/seccomp.c's tables name both where a thread may use either, but for the main
 * thread's (libseccomp skips the rules of syscalls this architecture lacks).
 */
static const int main_syscalls[] = {
	__NR_ppoll,    /* the API process's main loop (poll) */
	__NR_unlinkat, /* the end: the vsock and API socket files (unlink) */
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
