/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An x86 vCPU's state in a snapshot: section VCPU/<id>, everything KVM needs to resume it exactly
 * (Documentation/virt/kvm/api.rst for each ioctl). The vCPU must be out of KVM_RUN, its last exit
 * completed (a KVM_RUN with immediate_exit after it: see vcpu.c).
 */
#ifndef KILN_ARCH_X86_VCPU_SNAPSHOT_H
#define KILN_ARCH_X86_VCPU_SNAPSHOT_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snap_file.h"
#include "util.h"

#define X86_SNAP_TAG_VCPU SNAP_TAG('V', 'C', 'P', 'U')

/* The MSRs a snapshot carries: KVM's saveable list, filtered to the ranges kiln restores. */
struct x86_msr_set {
	uint32_t *indices; /* ascending: the TSC (0x10) comes before TSC_DEADLINE (0x6e0) */
	unsigned int count;
	size_t xsave_size; /* this host's XSAVE area: 4096, or KVM_CAP_XSAVE2's size */
};

int x86_msr_set_init(struct x86_msr_set *set, int kvm_fd) MUST_CHECK;
void x86_msr_set_free(struct x86_msr_set *set);

/* Appends section VCPU/id. 0 or -errno (the ioctl that failed is logged). */
int x86_vcpu_save(int vcpu_fd, unsigned int id, const struct x86_msr_set *set,
		  struct snap_writer *w) MUST_CHECK;

/*
 * Checks section VCPU/id against this host (XSAVE size, MSRs in the set, TSC frequency: rescaled
 * when it differs by more than 250 ppm, refused when KVM cannot) and loads it into the vCPU, in the
 * order KVM needs. 0, or -errno with a one-line reason in why.
 */
int x86_vcpu_load(int vcpu_fd, unsigned int id, const struct x86_msr_set *set,
		  const struct snap_reader *r, char *why, size_t whylen) MUST_CHECK;

#endif
