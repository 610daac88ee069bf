/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64-only KVM ioctls (kvm_arm64.h). */
#include "arch/arm64/kvm_arm64.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

int kvm_get_device_attr(int dev_fd, uint32_t group, uint64_t attr, void *addr)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)addr };

	return KVM_IOCTL_PTR(dev_fd, KVM_GET_DEVICE_ATTR, &a);
}

int kvm_arm_vcpu_init(int vcpu_fd, const struct kvm_vcpu_init *init)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_ARM_VCPU_INIT, init);
}

int kvm_set_one_reg_raw(int vcpu_fd, uint64_t id, const void *value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)value };

	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_ONE_REG, &reg);
}

int kvm_get_one_reg_raw(int vcpu_fd, uint64_t id, void *value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)value };

	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_ONE_REG, &reg);
}

int kvm_set_one_reg(int vcpu_fd, uint64_t id, uint64_t value)
{
	return kvm_set_one_reg_raw(vcpu_fd, id, &value);
}

int kvm_get_one_reg(int vcpu_fd, uint64_t id, uint64_t *value)
{
	return kvm_get_one_reg_raw(vcpu_fd, id, value);
}

/* KVM_GET_REG_LIST with n too small fails with E2BIG and says how many there are (api.rst 4.84). */
long kvm_get_reg_list(int vcpu_fd, uint64_t **ids)
{
	struct kvm_reg_list probe = { .n = 0 }, *list;
	int rc = KVM_IOCTL_PTR(vcpu_fd, KVM_GET_REG_LIST, &probe);
	long n;

	*ids = NULL;
	if (rc != -E2BIG)
		return rc < 0 ? rc : 0;
	list = calloc(1, sizeof(*list) + probe.n * sizeof(list->reg[0]));
	if (list == NULL)
		return -ENOMEM;
	list->n = probe.n;
	rc = KVM_IOCTL_PTR(vcpu_fd, KVM_GET_REG_LIST, list);
	n = (long)list->n;
	if (rc == 0 && (*ids = malloc((list->n ? list->n : 1) * sizeof(**ids))) == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		memcpy(*ids, list->reg, list->n * sizeof(**ids));
	free(list);
	return rc < 0 ? rc : n;
}

int kvm_get_mp_state(int vcpu_fd, struct kvm_mp_state *mp)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_GET_MP_STATE, mp);
}

int kvm_set_mp_state(int vcpu_fd, const struct kvm_mp_state *mp)
{
	return KVM_IOCTL_PTR(vcpu_fd, KVM_SET_MP_STATE, mp);
}
