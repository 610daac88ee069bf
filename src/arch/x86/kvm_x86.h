/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KVM ioctls only x86 has (kvm_x86.c), in kvm/kvm.h's conventions: 0 (or a non-negative value
 * the ioctl defines) or -errno. Unit tests link tests/fakes/fake_kvm.c in place of kvm_x86.c.
 */
#ifndef KILN_ARCH_X86_KVM_X86_H
#define KILN_ARCH_X86_KVM_X86_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Fills *out (malloc'd, caller frees) with KVM_GET_SUPPORTED_CPUID. */
int kvm_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out) MUST_CHECK;
/* Fills *out (malloc'd, caller frees) with KVM_GET_MSR_INDEX_LIST: the MSRs KVM can save. */
int kvm_msr_index_list(int kvm_fd, struct kvm_msr_list **out) MUST_CHECK;
int kvm_set_tss_addr(int vm_fd, uint64_t addr) MUST_CHECK;
int kvm_set_identity_map_addr(int vm_fd, uint64_t addr) MUST_CHECK;
/* PIC master (chip_id 0), PIC slave (1), IOAPIC (2). */
int kvm_get_irqchip(int vm_fd, struct kvm_irqchip *chip) MUST_CHECK;
int kvm_set_irqchip(int vm_fd, const struct kvm_irqchip *chip) MUST_CHECK;
int kvm_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *cpuid) MUST_CHECK;
/* The CPUID the vCPU was given; cpuid->nent is the room on entry (-E2BIG when too small). */
int kvm_get_cpuid(int vcpu_fd, struct kvm_cpuid2 *cpuid) MUST_CHECK;
int kvm_get_sregs(int vcpu_fd, struct kvm_sregs *sregs) MUST_CHECK;
int kvm_set_sregs(int vcpu_fd, const struct kvm_sregs *sregs) MUST_CHECK;
int kvm_get_regs(int vcpu_fd, struct kvm_regs *regs) MUST_CHECK;
int kvm_set_regs(int vcpu_fd, const struct kvm_regs *regs) MUST_CHECK;
int kvm_set_fpu(int vcpu_fd, const struct kvm_fpu *fpu) MUST_CHECK;
int kvm_set_msrs(int vcpu_fd, const struct kvm_msrs *msrs) MUST_CHECK; /* count set */
int kvm_get_lapic(int vcpu_fd, struct kvm_lapic_state *lapic) MUST_CHECK;
int kvm_get_vcpu_events(int vcpu_fd, struct kvm_vcpu_events *events) MUST_CHECK;
int kvm_set_lapic(int vcpu_fd, const struct kvm_lapic_state *lapic) MUST_CHECK;
int kvm_set_vcpu_events(int vcpu_fd, const struct kvm_vcpu_events *events) MUST_CHECK;
int kvm_get_mp_state(int vcpu_fd, struct kvm_mp_state *mp) MUST_CHECK;
int kvm_set_mp_state(int vcpu_fd, const struct kvm_mp_state *mp) MUST_CHECK;
/*
 * The XSAVE area, size bytes (4096, or KVM_CAP_XSAVE2's larger size on hosts with extended
 * state such as AMX: then KVM_GET_XSAVE2 fills it all).
 */
int kvm_get_xsave(int vcpu_fd, struct kvm_xsave *xsave, size_t size) MUST_CHECK;
int kvm_set_xsave(int vcpu_fd, const struct kvm_xsave *xsave) MUST_CHECK;
int kvm_get_xcrs(int vcpu_fd, struct kvm_xcrs *xcrs) MUST_CHECK;
int kvm_set_xcrs(int vcpu_fd, const struct kvm_xcrs *xcrs) MUST_CHECK;
int kvm_get_debugregs(int vcpu_fd, struct kvm_debugregs *dbg) MUST_CHECK;
int kvm_set_debugregs(int vcpu_fd, const struct kvm_debugregs *dbg) MUST_CHECK;
int kvm_get_msrs(int vcpu_fd, struct kvm_msrs *msrs) MUST_CHECK; /* count read */
int kvm_get_tsc_khz(int vcpu_fd) MUST_CHECK;                      /* kHz, or -errno */
int kvm_set_tsc_khz(int vcpu_fd, uint32_t khz) MUST_CHECK;
/* Tells a kvmclock guest it was stopped, so its soft-lockup watchdog does not fire. */
int kvm_kvmclock_ctrl(int vcpu_fd) MUST_CHECK;

#endif
