/* SPDX-License-Identifier: Apache-2.0 */
/* Puts a new x86 vCPU in its boot state through KVM. */
#ifndef KILN_ARCH_X86_VCPU_INIT_H
#define KILN_ARCH_X86_VCPU_INIT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct x86_boot_cpu {
	bool long_mode;     /* 64-bit boot protocol entry, else 32-bit PVH entry */
	uint64_t ip;
	uint64_t boot_info; /* boot_params or hvm_start_info */
};

/*
 * CPUID (from supported, patched for this vCPU), MSRs, FPU and LAPIC for every vCPU; the boot
 * CPU (boot != NULL) also gets its registers. Application processors wait for INIT/SIPI in KVM.
 */
int x86_vcpu_init(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int id,
		  unsigned int nvcpus, const struct x86_boot_cpu *boot) MUST_CHECK;

#endif
