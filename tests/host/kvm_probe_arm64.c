// SPDX-License-Identifier: Apache-2.0
/*
 * kvm-probe: checks that /dev/kvm in the arm64 KVM test host (tests/host/run.sh --arch arm64) can hold
 * the machine kiln builds: a VM, the preferred vCPU target, a vCPU initialised with PSCI 0.2 and an
 * in-kernel GICv3. Prints one line per step; exit status 0 when every step worked, 1 otherwise.
 * Static, cross-built with aarch64-linux-gnu-gcc (mk/linux-tests-arm64.mk).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int probe_step(const char *what, int rc)
{
	if (rc < 0)
		printf("kvm-probe: %s: %s\n", what, strerror(errno));
	else
		printf("kvm-probe: %s: ok (%d)\n", what, rc);
	return rc;
}

/* The vCPU: the preferred target with PSCI 0.2 (Documentation/virt/kvm/api.rst, KVM_ARM_VCPU_INIT). */
static int probe_vcpu(int vm)
{
	struct kvm_vcpu_init init;
	int vcpu;

	memset(&init, 0, sizeof(init));
	if (probe_step("KVM_ARM_PREFERRED_TARGET", ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init)) < 0)
		return -1;
	printf("kvm-probe: target %u\n", init.target);
	vcpu = probe_step("KVM_CREATE_VCPU", ioctl(vm, KVM_CREATE_VCPU, 0));
	if (vcpu < 0)
		return -1;
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	return probe_step("KVM_ARM_VCPU_INIT (PSCI 0.2)", ioctl(vcpu, KVM_ARM_VCPU_INIT, &init));
}

int main(void)
{
	struct kvm_create_device gic = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	int kvm, vm;

	kvm = probe_step("open /dev/kvm", open("/dev/kvm", O_RDWR | O_CLOEXEC));
	if (kvm < 0)
		return 1;
	if (probe_step("KVM_GET_API_VERSION", ioctl(kvm, KVM_GET_API_VERSION, 0)) != KVM_API_VERSION)
		return 1;
	vm = probe_step("KVM_CREATE_VM", ioctl(kvm, KVM_CREATE_VM, 0));
	if (vm < 0 || probe_vcpu(vm) < 0)
		return 1;
	/* The GIC after the vCPUs: it sizes its redistributors by them (api.rst, KVM_DEV_TYPE_ARM_VGIC_V3). */
	if (probe_step("KVM_CREATE_DEVICE vgic-v3", ioctl(vm, KVM_CREATE_DEVICE, &gic)) < 0)
		return 1;
	return 0;
}
