/* SPDX-License-Identifier: Apache-2.0 */
#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

/*
 * Every ioctl goes through one of these two macros. The first checks, at compile time, that the
 * argument's type has the size the request number encodes; the second is for requests that take
 * an integer (or nothing) instead of a pointer.
 */
#define KVM_IOCTL_PTR(fd, req, argp)                                                   \
	({                                                                             \
		_Static_assert(_IOC_SIZE(req) == sizeof(*(argp)), "ioctl size: " #req); \
		ioctl_or_errno(fd, req, (unsigned long)(argp));                        \
	})
#define KVM_IOCTL_VAL(fd, req, val) ioctl_or_errno(fd, req, (unsigned long)(val))

static int ioctl_or_errno(int fd, unsigned long req, unsigned long arg)
{
	int rc = ioctl(fd, req, arg);

	return rc < 0 ? -errno : rc;
}

int kvm_open_system(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int kvm_api_version(int kvm_fd)
{
	return KVM_IOCTL_VAL(kvm_fd, KVM_GET_API_VERSION, 0);
}

int kvm_check_extension(int fd, long cap)
{
	int rc = KVM_IOCTL_VAL(fd, KVM_CHECK_EXTENSION, cap);

	return rc < 0 ? 0 : rc;
}

int kvm_vcpu_mmap_size(int kvm_fd)
{
	return KVM_IOCTL_VAL(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
}

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
		int rc = ioctl_or_errno(kvm_fd, KVM_GET_SUPPORTED_CPUID, (unsigned long)c);
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

int kvm_create_vm(int kvm_fd)
{
	int rc;

	/* The VM fd is created close-on-exec below; KVM_CREATE_VM has no flag for it. */
	do
		rc = KVM_IOCTL_VAL(kvm_fd, KVM_CREATE_VM, 0);
	while (rc == -EINTR);
	if (rc >= 0 && fcntl(rc, F_SETFD, FD_CLOEXEC) < 0) {
		int err = -errno;
		close(rc);
		return err;
	}
	return rc;
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

int kvm_create_irqchip(int vm_fd)
{
	return KVM_IOCTL_VAL(vm_fd, KVM_CREATE_IRQCHIP, 0);
}

int kvm_set_memory_region(int vm_fd, uint32_t slot, gpa_t gpa, uint64_t size, void *host, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	return KVM_IOCTL_PTR(vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

int kvm_get_dirty_log(int vm_fd, uint32_t slot, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };

	return KVM_IOCTL_PTR(vm_fd, KVM_GET_DIRTY_LOG, &log);
}

int kvm_irq_line(int vm_fd, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };

	return KVM_IOCTL_PTR(vm_fd, KVM_IRQ_LINE, &irq);
}

int kvm_create_vcpu(int vm_fd, unsigned int id)
{
	int rc = KVM_IOCTL_VAL(vm_fd, KVM_CREATE_VCPU, id);

	if (rc >= 0 && fcntl(rc, F_SETFD, FD_CLOEXEC) < 0) {
		int err = -errno;
		close(rc);
		return err;
	}
	return rc;
}

int kvm_add_ioeventfd(int vm_fd, uint64_t addr, uint32_t len, uint64_t datamatch, int fd)
{
	struct kvm_ioeventfd ioev = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	return KVM_IOCTL_PTR(vm_fd, KVM_IOEVENTFD, &ioev);
}

int kvm_add_irqfd(int vm_fd, uint32_t gsi, int fd)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi };

	return KVM_IOCTL_PTR(vm_fd, KVM_IRQFD, &irqfd);
}

int kvm_get_clock(int vm_fd, struct kvm_clock_data *clock)
{
	return KVM_IOCTL_PTR(vm_fd, KVM_GET_CLOCK, clock);
}

int kvm_set_clock(int vm_fd, const struct kvm_clock_data *clock)
{
	struct kvm_clock_data c = { .clock = clock->clock }; /* flags must be 0 on set */

	return KVM_IOCTL_PTR(vm_fd, KVM_SET_CLOCK, &c);
}

int kvm_get_irqchip(int vm_fd, struct kvm_irqchip *chip)
{
	return KVM_IOCTL_PTR(vm_fd, KVM_GET_IRQCHIP, chip);
}

int kvm_set_irqchip(int vm_fd, const struct kvm_irqchip *chip)
{
	return KVM_IOCTL_PTR(vm_fd, KVM_SET_IRQCHIP, chip);
}

int kvm_run(int vcpu_fd)
{
	return KVM_IOCTL_VAL(vcpu_fd, KVM_RUN, 0);
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
