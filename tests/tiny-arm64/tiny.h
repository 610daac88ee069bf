/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the tiny arm64 test guests (GNU assembler for aarch64, through cpp). kiln boots each as
 * a Linux arm64 Image (Documentation/arch/arm64/booting.rst): at RAM's start (text_offset 0), EL1h,
 * MMU and caches off, DAIF masked, x0 the device tree. With the MMU off every data access is
 * Device-nGnRnE, so the guests make only naturally aligned accesses, and use no stack: registers
 * and their own image only. The machine's addresses are src/arch/arm64/layout.h's.
 */
#ifndef KILN_TESTS_TINY_ARM64_TINY_H
#define KILN_TESTS_TINY_ARM64_TINY_H

#define UART_BASE 0x09000000 /* 16550, byte registers */
#define UART_THR 0
#define UART_LSR 5
#define LSR_THR_EMPTY 0x20
#define DEBUG_BASE 0x09010000  /* kiln's debug device: byte 0 the exit status, byte 1 boot-ready */
#define VIRTIO_BASE 0x0a000000 /* the first virtio-mmio window */
#define NO_DEVICE 0x0c000000   /* neither RAM nor any device */

/* PSCI 1.1 function ids (Arm DEN0022, 5.1), SMC64 where the call has a 64-bit form. */
#define PSCI_CPU_OFF 0x84000002
#define PSCI_CPU_ON 0xc4000003
#define PSCI_AFFINITY_INFO 0xc4000004
#define PSCI_SYSTEM_OFF 0x84000008
#define PSCI_SYSTEM_RESET2 0xc4000012
/* Return codes (DEN0022, 5.2.2) and AFFINITY_INFO's states (5.1.8). */
#define PSCI_NOT_SUPPORTED -1
#define PSCI_INVALID_PARAMETERS -2
#define PSCI_ALREADY_ON -4
#define PSCI_AFFINITY_OFF 1

/*
 * The Image header (booting.rst): code0 branches past it; text_offset 0; image_size 64 KiB, above
 * every guest's file; flags 0 (little-endian); the magic "ARM\x64".
 */
.macro image_header entry
	b \entry
	.long 0
	.quad 0
	.quad 0x10000
	.quad 0
	.quad 0, 0, 0
	.ascii "ARM\x64"
	.long 0
.endm

/* x0 = fn, the arguments already in x1-x3; KVM answers in x0 (the tree's PSCI method is "hvc"). */
.macro psci fn
	ldr x0, =\fn
	hvc #0
.endm

/* Writes the byte c to the UART with a byte store (the UART never holds output back: no wait). */
.macro putc c
	ldr x9, =UART_BASE
	mov w10, #\c
	strb w10, [x9, #UART_THR]
.endm

/* Reports an exit status (an immediate) with a byte store to the debug device: the VM ends. */
.macro report_status status
	ldr x9, =DEBUG_BASE
	mov w10, #\status
	strb w10, [x9]
.endm

/* Fails with status if reg differs from the immediate value (cmp's range: 0-4095, or -4095-1). */
.macro expect reg, value, status
	cmp \reg, #\value
	b.eq .Lexpect_ok\@
	report_status \status
.Lexpect_ok\@:
.endm

/* Never returns; interrupts stay masked. */
.macro spin_forever
.Lspin\@:
	b .Lspin\@
.endm

#endif
