/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Links in place of src/kvm/kvm.c in unit tests (a link seam, no ioctl mocking): the vCPU calls
 * record what kiln asked for, so tests can check the state a vCPU would have been given.
 */
#include "fakes/fake_kvm.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/kvm_x86.h"
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

/* The fake vCPU never holds a pending event. */
int kvm_get_vcpu_events(int vcpu_fd, struct kvm_vcpu_events *events)
{
	if (fake_kvm_vcpu(vcpu_fd) == NULL)
		return -EBADF;
	memset(events, 0, sizeof(*events));
	return 0;
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

/*
 * The system and VM level: the fake host has no /dev/kvm, so kiln_vm_create() fails cleanly with
 * "no such device" in unit tests that reach it (the API's tests do). Nothing below is ever reached
 * after that first failure; each still answers like a kernel without KVM.
 */
int kvm_open_system(void)
{
	return -ENOENT;
}

int kvm_api_version(int kvm_fd)
{
	(void)kvm_fd;
	return -ENODEV;
}

int kvm_check_extension(int fd, long cap)
{
	(void)fd;
	(void)cap;
	return 0;
}

int kvm_vcpu_mmap_size(int kvm_fd)
{
	(void)kvm_fd;
	return -ENODEV;
}

int kvm_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
	(void)kvm_fd;
	(void)out;
	return -ENODEV;
}

int kvm_create_vm(int kvm_fd)
{
	(void)kvm_fd;
	return -ENODEV;
}

int kvm_set_tss_addr(int vm_fd, uint64_t addr)
{
	(void)vm_fd;
	(void)addr;
	return -ENODEV;
}

int kvm_set_identity_map_addr(int vm_fd, uint64_t addr)
{
	(void)vm_fd;
	(void)addr;
	return -ENODEV;
}

int kvm_create_irqchip(int vm_fd)
{
	(void)vm_fd;
	return -ENODEV;
}

int kvm_set_memory_region(int vm_fd, uint32_t slot, gpa_t gpa, uint64_t size, void *host, uint32_t flags)
{
	(void)vm_fd;
	(void)slot;
	(void)gpa;
	(void)size;
	(void)host;
	(void)flags;
	return -ENODEV;
}

int kvm_get_dirty_log(int vm_fd, uint32_t slot, uint64_t *bitmap)
{
	(void)vm_fd;
	(void)slot;
	(void)bitmap;
	return -ENODEV;
}

int kvm_irq_line(int vm_fd, uint32_t gsi, int level)
{
	(void)vm_fd;
	(void)gsi;
	(void)level;
	return -ENODEV;
}

int kvm_create_vcpu(int vm_fd, unsigned int id)
{
	(void)vm_fd;
	(void)id;
	return -ENODEV;
}

int kvm_get_clock(int vm_fd, struct kvm_clock_data *clock)
{
	(void)vm_fd;
	(void)clock;
	return -ENODEV;
}

int kvm_set_clock(int vm_fd, const struct kvm_clock_data *clock)
{
	(void)vm_fd;
	(void)clock;
	return -ENODEV;
}

int kvm_add_ioeventfd(int vm_fd, uint64_t addr, uint32_t len, uint64_t datamatch, int fd)
{
	(void)vm_fd;
	(void)addr;
	(void)len;
	(void)datamatch;
	(void)fd;
	return -ENODEV;
}

int kvm_add_irqfd(int vm_fd, uint32_t gsi, int fd)
{
	(void)vm_fd;
	(void)gsi;
	(void)fd;
	return -ENODEV;
}

int kvm_run(int vcpu_fd)
{
	(void)vcpu_fd;
	return -ENODEV;
}

/*
 * Snapshots (snapshot/, arch/x86/machine_snapshot.c and vcpu_snapshot.c): linked in by the API's
 * and the CLI's tests, which reach kiln_vm_snapshot() and kiln_vm_restore() only on paths that fail
 * before any of these runs (no VM, or a state file refused); each answers like a kernel without KVM.
 */
int kvm_msr_index_list(int kvm_fd, struct kvm_msr_list **out)
{
	(void)kvm_fd;
	(void)out;
	return -ENODEV;
}

int kvm_get_irqchip(int vm_fd, struct kvm_irqchip *chip)
{
	(void)vm_fd;
	(void)chip;
	return -ENODEV;
}

int kvm_set_irqchip(int vm_fd, const struct kvm_irqchip *chip)
{
	(void)vm_fd;
	(void)chip;
	return -ENODEV;
}

int kvm_get_cpuid(int vcpu_fd, struct kvm_cpuid2 *cpuid)
{
	(void)vcpu_fd;
	(void)cpuid;
	return -ENODEV;
}

int kvm_set_vcpu_events(int vcpu_fd, const struct kvm_vcpu_events *events)
{
	(void)vcpu_fd;
	(void)events;
	return -ENODEV;
}

int kvm_get_mp_state(int vcpu_fd, struct kvm_mp_state *mp)
{
	(void)vcpu_fd;
	(void)mp;
	return -ENODEV;
}

int kvm_set_mp_state(int vcpu_fd, const struct kvm_mp_state *mp)
{
	(void)vcpu_fd;
	(void)mp;
	return -ENODEV;
}

int kvm_get_xsave(int vcpu_fd, struct kvm_xsave *xsave, size_t size)
{
	(void)vcpu_fd;
	(void)xsave;
	(void)size;
	return -ENODEV;
}

int kvm_set_xsave(int vcpu_fd, const struct kvm_xsave *xsave)
{
	(void)vcpu_fd;
	(void)xsave;
	return -ENODEV;
}

int kvm_get_xcrs(int vcpu_fd, struct kvm_xcrs *xcrs)
{
	(void)vcpu_fd;
	(void)xcrs;
	return -ENODEV;
}

int kvm_set_xcrs(int vcpu_fd, const struct kvm_xcrs *xcrs)
{
	(void)vcpu_fd;
	(void)xcrs;
	return -ENODEV;
}

int kvm_get_debugregs(int vcpu_fd, struct kvm_debugregs *dbg)
{
	(void)vcpu_fd;
	(void)dbg;
	return -ENODEV;
}

int kvm_set_debugregs(int vcpu_fd, const struct kvm_debugregs *dbg)
{
	(void)vcpu_fd;
	(void)dbg;
	return -ENODEV;
}

int kvm_get_msrs(int vcpu_fd, struct kvm_msrs *msrs)
{
	(void)vcpu_fd;
	(void)msrs;
	return -ENODEV;
}

int kvm_get_tsc_khz(int vcpu_fd)
{
	(void)vcpu_fd;
	return -ENODEV;
}

int kvm_set_tsc_khz(int vcpu_fd, uint32_t khz)
{
	(void)vcpu_fd;
	(void)khz;
	return -ENODEV;
}
