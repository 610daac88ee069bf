/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arm64 machine's guest-physical memory map, as QEMU's virt machine and kvmtool lay it out (the
 * device tree, fdt.c, tells the guest all of it):
 *
 *   0x0800_0000 .. 0x0801_0000   GICv3 distributor
 *   0x0808_0000 .. 0x080a_0000   unused (a GICv3 ITS would go here)
 *   0x080a_0000 ..               GICv3 redistributors, 128 KiB per vCPU
 *   0x0900_0000 .. 0x0900_1000   the 16550 UART (ns16550a, byte registers)
 *   0x0901_0000 .. 0x0901_1000   kiln's debug device (devices/debug_port.h)
 *   0x0a00_0000 ..               virtio-mmio windows, 4 KiB each
 *   0x8000_0000 ..               RAM: the kernel near its start, the DTB at its top, the initrd below
 */
#ifndef KILN_ARCH_ARM64_LAYOUT_H
#define KILN_ARCH_ARM64_LAYOUT_H

#define ARM64_GICD_ADDR 0x08000000ull
#define ARM64_GICD_SIZE 0x10000ull
#define ARM64_GICR_ADDR 0x080a0000ull
#define ARM64_GICR_SIZE_PER_CPU 0x20000ull /* RD_base and SGI_base frames, 64 KiB each */
#define ARM64_UART_ADDR 0x09000000ull
#define ARM64_UART_SIZE 0x1000ull
#define ARM64_DEBUG_ADDR 0x09010000ull
#define ARM64_DEBUG_SIZE 0x1000ull
#define ARM64_VIRTIO_MMIO_BASE 0x0a000000ull
#define ARM64_VIRTIO_MMIO_SIZE 0x1000ull
#define ARM64_RAM_BASE 0x80000000ull

/*
 * Interrupts: SPI numbers, which are also kiln's GSIs on arm64 (INTID = SPI + 32; KVM's default
 * routing sends irqfd GSI n to SPI n, and KVM_IRQ_LINE takes the INTID: machine.c).
 */
#define ARM64_UART_SPI 1
#define ARM64_VIRTIO_SPI_BASE 16
#define ARM64_SPI_INTID_BASE 32
/* The vgic's interrupt count, INTIDs 0-31 included: a multiple of 32 (KVM_DEV_ARM_VGIC_GRP_NR_IRQS). */
#define ARM64_GIC_NR_IRQS 128

/* The UART's input clock for the tree: the 16550's classic 1.8432 MHz; kiln ignores the divisor. */
#define ARM64_UART_CLOCK_HZ 1843200u

/* The DTB: at most this size, at the top of RAM (booting.rst: 8-byte aligned, within 2 MiB). */
#define ARM64_FDT_MAX_SIZE 0x10000ull

#endif
