/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64-only KVM ioctls (kvm_arm64.h). */
#include "arch/arm64/kvm_arm64.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kvm/ioctl.h"

int kvm_enable_vm_cap(int vm_fd, uint32_t cap)
{
	struct kvm_enable_cap c = { .cap = cap };

	return KVM_IOCTL_PTR(vm_fd, KVM_ENABLE_CAP, &c);
}

int kvm_arm_preferred_target(int vm_fd, struct kvm_vcpu_init *init)
{
	return KVM_IOCTL_PTR(vm_fd, KVM_ARM_PREFERRED_TARGET, init);
}

int kvm_create_device(int vm_fd, uint32_t type, uint32_t flags)
{
	struct kvm_create_device dev = { .type = type, .flags = flags };
	int rc = KVM_IOCTL_PTR(vm_fd, KVM_CREATE_DEVICE, &dev);

	if (rc < 0 || (flags & KVM_CREATE_DEVICE_TEST))
		return rc;
	/* KVM_CREATE_DEVICE has no close-on-exec flag; the fd is the VM's alone. */
	if (fcntl((int)dev.fd, F_SETFD, FD_CLOEXEC) < 0) {
		int err = -errno;
		close((int)dev.fd);
		return err;
	}
	return (int)dev.fd;
}

int kvm_set_device_attr(int dev_fd, uint32_t group, uint64_t attr, const void *addr)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)addr };

	return KVM_IOCTL_PTR(dev_fd, KVM_SET_DEVICE_ATTR, &a);
}

int kvm_arm_vcpu_init(int vcpu_fd, const struct kvm_vcpu_init *init)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_ARM_VCPU_INIT, init);
}

int kvm_set_one_reg(int vcpu_fd, uint64_t id, uint64_t value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)&value };

	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_ONE_REG, &reg);
}

int kvm_get_one_reg(int vcpu_fd, uint64_t id, uint64_t *value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)value };

	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_ONE_REG, &reg);
}
