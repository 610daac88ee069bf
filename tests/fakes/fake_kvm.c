/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Links in place of src/kvm/kvm.c in unit tests (a link seam, no ioctl mocking): the vCPU calls
 * record what kiln asked for, so tests can check the state a vCPU would have been given.
 */
#include "fakes/fake_kvm.h"

#include <errno.h>
#include <string.h>

#include "kvm/kvm.h"

#define FAKE_VCPU_FD_BASE 100
#define FAKE_MAX_VCPUS 8

static struct fake_vcpu_state vcpus[FAKE_MAX_VCPUS];

struct fake_vcpu_state *fake_kvm_vcpu(int vcpu_fd)
{
	unsigned int i = (unsigned int)(vcpu_fd - FAKE_VCPU_FD_BASE);

	return i < FAKE_MAX_VCPUS ? &vcpus[i] : NULL;
}

void fake_kvm_reset(void)
{
	memset(vcpus, 0, sizeof(vcpus));
}

int kvm_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *cpuid)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL || cpuid->nent > 64)
		return -EINVAL;
	memcpy(v->cpuid, cpuid->entries, cpuid->nent * sizeof(cpuid->entries[0]));
	v->cpuid_nent = cpuid->nent;
	return 0;
}

int kvm_get_sregs(int vcpu_fd, struct kvm_sregs *sregs)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL)
		return -EBADF;
	*sregs = v->sregs;
	return 0;
}

int kvm_set_sregs(int vcpu_fd, const struct kvm_sregs *sregs)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL)
		return -EBADF;
	v->sregs = *sregs;
	v->sregs_set = true;
	return 0;
}

int kvm_get_regs(int vcpu_fd, struct kvm_regs *regs)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL)
		return -EBADF;
	*regs = v->regs;
	return 0;
}

int kvm_set_regs(int vcpu_fd, const struct kvm_regs *regs)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL)
		return -EBADF;
	v->regs = *regs;
	v->regs_set = true;
	return 0;
}

int kvm_set_fpu(int vcpu_fd, const struct kvm_fpu *fpu)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL)
		return -EBADF;
	v->fpu = *fpu;
	return 0;
}

int kvm_set_msrs(int vcpu_fd, const struct kvm_msrs *msrs)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL || msrs->nmsrs > 32)
		return -EINVAL;
	memcpy(v->msrs, msrs->entries, msrs->nmsrs * sizeof(msrs->entries[0]));
	v->nmsrs = msrs->nmsrs;
	return (int)msrs->nmsrs;
}

int kvm_get_lapic(int vcpu_fd, struct kvm_lapic_state *lapic)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL)
		return -EBADF;
	*lapic = v->lapic;
	return 0;
}

int kvm_set_lapic(int vcpu_fd, const struct kvm_lapic_state *lapic)
{
	struct fake_vcpu_state *v = fake_kvm_vcpu(vcpu_fd);

	if (v == NULL)
		return -EBADF;
	v->lapic = *lapic;
	return 0;
}
