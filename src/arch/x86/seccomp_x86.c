/* SPDX-License-Identifier: Apache-2.0 */
/* x86's own KVM ioctls in the seccomp allowlists (arch/seccomp_arch.h). */
#include "arch/seccomp_arch.h"

#include <linux/kvm.h>

#include "util.h"

/* vCPU threads: the vCPU's state in the log when the guest crashes (arch_describe_vcpu). */
static const unsigned long vcpu_ioctls[] = { KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_VCPU_EVENTS };
/* The main thread once its VM runs. */
static const unsigned long main_ioctls[] = {
	KVM_GET_CLOCK, /* pause: the guest's kvmclock is saved */
	KVM_SET_CLOCK, /* resume: and restored */
	/* A snapshot (PUT /snapshot/create, kiln_vm_snapshot) reads the paused machine: */
	KVM_GET_IRQCHIP, /* the VM: PIC pair and IOAPIC */
	KVM_GET_MSR_INDEX_LIST, /* /dev/kvm: which MSRs to save */
	KVM_GET_TSC_KHZ, KVM_GET_MP_STATE, KVM_GET_REGS, KVM_GET_SREGS, /* and each vCPU: */
	KVM_GET_XSAVE, KVM_GET_XSAVE2, /* XSAVE2 where the host's XSAVE area is above 4 KiB (AMX) */
	KVM_GET_XCRS, KVM_GET_DEBUGREGS, KVM_GET_LAPIC, KVM_GET_CPUID2, KVM_GET_MSRS, KVM_GET_VCPU_EVENTS,
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

/* x86's syscalls are io/seccomp.c's names. */
void arch_seccomp_syscalls(enum seccomp_thread t, const int **list, size_t *n)
{
	(void)t;
	*list = NULL;
	*n = 0;
}
