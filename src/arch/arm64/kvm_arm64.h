/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KVM ioctls the arm64 machine needs beside kvm/kvm.h's (kvm_arm64.c), in its conventions: 0
 * (or the new fd) or -errno.
 */
#ifndef KILN_ARCH_ARM64_KVM_ARM64_H
#define KILN_ARCH_ARM64_KVM_ARM64_H

#include <linux/kvm.h>
#include <stdint.h>

#include "util.h"

/* VM: KVM_ENABLE_CAP of cap, without arguments. */
int kvm_enable_vm_cap(int vm_fd, uint32_t cap) MUST_CHECK;
/* VM: the vCPU type and features that suit this host (KVM_ARM_PREFERRED_TARGET). */
int kvm_arm_preferred_target(int vm_fd, struct kvm_vcpu_init *init) MUST_CHECK;
/* VM: a device in KVM (KVM_CREATE_DEVICE); its fd. KVM_CREATE_DEVICE_TEST in flags only asks. */
int kvm_create_device(int vm_fd, uint32_t type, uint32_t flags) MUST_CHECK;
/* Device: KVM_SET_DEVICE_ATTR with addr pointing at the attribute's value (or 0). */
int kvm_set_device_attr(int dev_fd, uint32_t group, uint64_t attr, const void *addr) MUST_CHECK;
/* Device: KVM_GET_DEVICE_ATTR into the attribute's value at addr. */
int kvm_get_device_attr(int dev_fd, uint32_t group, uint64_t attr, void *addr) MUST_CHECK;

/* vCPU: KVM_ARM_VCPU_INIT, the vCPU's reset state with init's features. */
int kvm_arm_vcpu_init(int vcpu_fd, const struct kvm_vcpu_init *init) MUST_CHECK;
/* vCPU: one 64-bit register (KVM_SET_ONE_REG / KVM_GET_ONE_REG). */
int kvm_set_one_reg(int vcpu_fd, uint64_t id, uint64_t value) MUST_CHECK;
int kvm_get_one_reg(int vcpu_fd, uint64_t id, uint64_t *value) MUST_CHECK;
/* vCPU: one register of any size, the id's (KVM_REG_SIZE_MASK), at value. */
int kvm_set_one_reg_raw(int vcpu_fd, uint64_t id, const void *value) MUST_CHECK;
int kvm_get_one_reg_raw(int vcpu_fd, uint64_t id, void *value) MUST_CHECK;
/* vCPU: the ids of its registers (KVM_GET_REG_LIST), malloc'd into *ids: their count, or -errno. */
long kvm_get_reg_list(int vcpu_fd, uint64_t **ids) MUST_CHECK;
/* vCPU: whether it runs, is powered off or suspended (KVM_GET_MP_STATE, KVM_SET_MP_STATE). */
int kvm_get_mp_state(int vcpu_fd, struct kvm_mp_state *mp) MUST_CHECK;
int kvm_set_mp_state(int vcpu_fd, const struct kvm_mp_state *mp) MUST_CHECK;

#endif
