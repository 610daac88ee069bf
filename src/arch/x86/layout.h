/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The x86 microVM's guest-physical memory map (as Firecracker and QEMU microvm lay it out):
 *
 *   0x0000_0000 .. 0x0009_fc00   RAM: boot structures below
 *   0x0009_fc00 .. 0x0010_0000   reserved (EBDA, BIOS area): the VM Generation ID at 0xa0000,
 *                                ACPI tables at 0xe0000
 *   0x0010_0000 .. low_end       RAM: kernel at 1 MiB, initrd at the top
 *   0xc000_0000 .. 0x1_0000_0000 the 32-bit MMIO hole: virtio-mmio windows, IOAPIC, LAPIC, TSS
 *   0x1_0000_0000 ..             the rest of RAM, when there is more than 3 GiB
 */
#ifndef KILN_ARCH_X86_LAYOUT_H
#define KILN_ARCH_X86_LAYOUT_H

#include <stdint.h>

#include "util.h"

/* Boot structures in low RAM. */
#define X86_GDT_ADDR 0x500ull
#define X86_IDT_ADDR 0x520ull
#define X86_PVH_START_INFO_ADDR 0x6000ull /* struct hvm_start_info + its memmap */
#define X86_ZERO_PAGE_ADDR 0x7000ull      /* boot_params */
#define X86_PML4_ADDR 0x9000ull           /* identity map of the first 4 GiB: PML4, PDPT, 4 PDs */
#define X86_PDPT_ADDR 0xa000ull
#define X86_PD_ADDR 0xb000ull             /* 4 pages: 0xb000..0xf000 */
#define X86_BOOT_STACK_TOP 0x8ff0ull
#define X86_CMDLINE_ADDR 0x20000ull
#define X86_CMDLINE_MAX 0x10000ull

#define X86_EBDA_START 0x9fc00ull
#define X86_ACPI_ADDR 0xe0000ull /* RSDP first, then the other tables, up to 1 MiB */
#define X86_ACPI_SIZE 0x20000ull
#define X86_HIGH_MEM_START 0x100000ull /* where the kernel is loaded */
/*
 * The VM Generation ID (devices/vmgenid.h): 16 bytes the guest maps but never uses as RAM, in the
 * reserved legacy VGA window (the FADT says there is no VGA). No Linux scan reads there: the MP
 * table scan covers the EBDA's last KiB and 0xf0000-0xfffff, the option ROM probe 0xc0000-0xeffff,
 * so random bytes cannot pass for a table or a ROM.
 */
#define X86_VMGENID_ADDR 0xa0000ull

/* The MMIO hole and what sits in it. */
#define X86_MMIO_HOLE_START 0xc0000000ull
#define X86_MMIO_HOLE_END 0x100000000ull
#define X86_VIRTIO_MMIO_BASE 0xd0000000ull /* 4 KiB per device */
#define X86_VIRTIO_MMIO_SIZE 0x1000ull
#define X86_IOAPIC_ADDR 0xfec00000ull
#define X86_LAPIC_ADDR 0xfee00000ull
#define X86_IDENTITY_MAP_ADDR 0xfffbc000ull /* KVM_SET_IDENTITY_MAP_ADDR: 1 page */
#define X86_TSS_ADDR 0xfffbd000ull          /* KVM_SET_TSS_ADDR: 3 pages */
#define X86_RAM_ABOVE_4G_START 0x100000000ull

/* Port I/O. */
#define X86_PORT_I8042_DATA 0x60
#define X86_PORT_I8042_CMD 0x64
#define X86_PORT_COM1 0x3f8
#define X86_IRQ_COM1 4
/* kiln's debug port: see devices/debug_port.h for the protocol. */
#define X86_PORT_DEBUG 0xf4
#define X86_PORT_DEBUG_SIZE 2
/* Hardware-reduced ACPI sleep control and status registers (FADT), used for poweroff. */
#define X86_PORT_ACPI_SLEEP_CONTROL 0x600
#define X86_PORT_ACPI_SLEEP_STATUS 0x601
/* pvpanic (ACPI "QEMU0001"): the guest writes a bit mask when its kernel panics. */
#define X86_PORT_PVPANIC 0x505

/* Virtio-mmio devices get GSIs from here up (GSIs 0-4 are legacy ISA lines). */
#define X86_VIRTIO_GSI_BASE 5
#define X86_IOAPIC_NUM_PINS 24
/* The ACPI Generic Event Device's interrupt (the VM Generation ID's notification): the last pin. */
#define X86_GED_GSI 23

/* Guest RAM as at most two ranges: below the hole, and above 4 GiB. */
struct x86_ram_range {
	gpa_t start;
	uint64_t size;
};
/* Fills out[0] (and out[1] when ram_bytes exceeds the hole's start); returns how many ranges. */
unsigned int x86_ram_ranges(uint64_t ram_bytes, struct x86_ram_range out[2]);

#endif
