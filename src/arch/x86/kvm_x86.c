/* SPDX-License-Identifier: Apache-2.0 */
/* The x86-only KVM ioctls (kvm_x86.h); unit tests link tests/fakes/fake_kvm.c in their place. */
#include "arch/x86/kvm_x86.h"

#include <errno.h>
#include <stdlib.h>

#include "kvm/ioctl.h"

int kvm_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
	/*
	 * The kernel says E2BIG until the array is large enough. Each try runs every CPUID leaf on the
	 * host (~0.3 ms on a nested host), so the first asks for KVM_MAX_CPUID_ENTRIES (256 in
	 * arch/x86/include/asm/kvm_host.h), which is enough where that is the kernel's limit.
	 */
	for (unsigned int nent = 256; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (c == NULL)
			return -ENOMEM;
		c->nent = nent;
		int rc = kvm_ioctl_or_errno(kvm_fd, KVM_GET_SUPPORTED_CPUID, (unsigned long)c);
		if (rc == 0) {
			*out = c;
			return 0;
		}
		free(c);
		if (rc != -E2BIG)
			return rc;
	}
	return -E2BIG;
}

int kvm_msr_index_list(int kvm_fd, struct kvm_msr_list **out)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	int rc = KVM_IOCTL_PTR(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe);

	/* The kernel says E2BIG and the count the first time. */
	if (rc < 0 && rc != -E2BIG)
		return rc;
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	if (list == NULL)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	rc = KVM_IOCTL_PTR(kvm_fd, KVM_GET_MSR_INDEX_LIST, list);
	if (rc < 0) {
		free(list);
		return rc;
	}
	*out = list;
	return 0;
}

int kvm_set_tss_addr(int vm_fd, uint64_t addr)
{
	return KVM_IOCTL_VAL(vm_fd, KVM_SET_TSS_ADDR, addr);
}

int kvm_set_identity_map_addr(int vm_fd, uint64_t addr)
{
	__u64 a = addr;

	return KVM_IOCTL_PTR(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &a);
}

int kvm_get_irqchip(int vm_fd, struct kvm_irqchip *chip)
{
	return KVM_IOCTL_PTR(vm_fd, KVM_GET_IRQCHIP, chip);
}

int kvm_set_irqchip(int vm_fd, const struct kvm_irqchip *chip)
{
	return KVM_IOCTL_PTR(vm_fd, KVM_SET_IRQCHIP, chip);
}

int kvm_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *cpuid)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_CPUID2, cpuid);
}

int kvm_get_cpuid(int vcpu_fd, struct kvm_cpuid2 *cpuid)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_CPUID2, cpuid);
}

int kvm_get_sregs(int vcpu_fd, struct kvm_sregs *sregs)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_SREGS, sregs);
}

int kvm_set_sregs(int vcpu_fd, const struct kvm_sregs *sregs)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_SREGS, sregs);
}

int kvm_get_regs(int vcpu_fd, struct kvm_regs *regs)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_REGS, regs);
}

int kvm_set_regs(int vcpu_fd, const struct kvm_regs *regs)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_REGS, regs);
}

int kvm_set_fpu(int vcpu_fd, const struct kvm_fpu *fpu)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_FPU, fpu);
}

int kvm_set_msrs(int vcpu_fd, const struct kvm_msrs *msrs)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_MSRS, msrs);
}

int kvm_get_lapic(int vcpu_fd, struct kvm_lapic_state *lapic)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_LAPIC, lapic);
}

int kvm_get_vcpu_events(int vcpu_fd, struct kvm_vcpu_events *events)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_VCPU_EVENTS, events);
}

int kvm_set_lapic(int vcpu_fd, const struct kvm_lapic_state *lapic)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_LAPIC, lapic);
}

int kvm_set_vcpu_events(int vcpu_fd, const struct kvm_vcpu_events *events)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_VCPU_EVENTS, events);
}

int kvm_get_mp_state(int vcpu_fd, struct kvm_mp_state *mp)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_MP_STATE, mp);
}

int kvm_set_mp_state(int vcpu_fd, const struct kvm_mp_state *mp)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_MP_STATE, mp);
}

int kvm_get_xsave(int vcpu_fd, struct kvm_xsave *xsave, size_t size)
{
	if (size > sizeof(*xsave))
		return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_XSAVE2, xsave);
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_XSAVE, xsave);
}

int kvm_set_xsave(int vcpu_fd, const struct kvm_xsave *xsave)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_XSAVE, xsave);
}

int kvm_get_xcrs(int vcpu_fd, struct kvm_xcrs *xcrs)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_XCRS, xcrs);
}

int kvm_set_xcrs(int vcpu_fd, const struct kvm_xcrs *xcrs)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_XCRS, xcrs);
}

int kvm_get_debugregs(int vcpu_fd, struct kvm_debugregs *dbg)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_DEBUGREGS, dbg);
}

int kvm_set_debugregs(int vcpu_fd, const struct kvm_debugregs *dbg)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_DEBUGREGS, dbg);
}

int kvm_get_msrs(int vcpu_fd, struct kvm_msrs *msrs)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_MSRS, msrs);
}

int kvm_get_tsc_khz(int vcpu_fd)
{
	return KVM_IOCTL_VAL(vcpu_fd, KVM_GET_TSC_KHZ, 0);
}

int kvm_set_tsc_khz(int vcpu_fd, uint32_t khz)
{
	return KVM_IOCTL_VAL(vcpu_fd, KVM_SET_TSC_KHZ, khz);
}

int kvm_kvmclock_ctrl(int vcpu_fd)
{
	return KVM_IOCTL_VAL(vcpu_fd, KVM_KVMCLOCK_CTRL, 0);
}
