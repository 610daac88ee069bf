/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boot CPU's state at the kernel's entry: a GDT, identity page tables for 64-bit entry, and the
 * segment and control registers of either entry mode. Pure functions over guest memory and KVM's
 * register structs; arch/x86/vcpu_init.c hands the results to KVM.
 */
#ifndef KILN_ARCH_X86_REGS_H
#define KILN_ARCH_X86_REGS_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "mem/gmem.h"

/* GDT selectors, as the boot protocol's 64-bit entry and PVH expect them. */
#define X86_SEL_CODE 0x10
#define X86_SEL_DATA 0x18
#define X86_SEL_TSS 0x20

/* Writes the GDT and an empty IDT; with long_mode, also page tables identity-mapping 4 GiB. */
int x86_write_boot_tables(const struct gmem *m, bool long_mode) MUST_CHECK;

/* Segments, descriptor tables and control registers for 64-bit (long_mode) or 32-bit PVH entry. */
void x86_boot_sregs(struct kvm_sregs *s, bool long_mode);

/* General registers: rip = ip; boot_info in RSI (64-bit boot protocol) or EBX (PVH). */
void x86_boot_regs(struct kvm_regs *r, bool long_mode, uint64_t ip, uint64_t boot_info);

#endif
