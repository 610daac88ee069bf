/* SPDX-License-Identifier: Apache-2.0 */
#include "kvm/kvm.h"
#include "kvm/ioctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

int kvm_ioctl_or_errno(int fd, unsigned long req, unsigned long arg)
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

int kvm_run(int vcpu_fd)
{
	return KVM_IOCTL_VAL(vcpu_fd, KVM_RUN, 0);
}

