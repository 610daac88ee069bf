/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by bench/tiny/*.S (the monitor-only benchmark guests). They reuse tests/tiny/tiny.h (the PVH
 * note, the port numbers) and tests/tiny/tiny.ld, and boot the same way under kiln and under QEMU's
 * microvm (its own PVH loader): 32-bit protected mode, paging off, interrupts off, no stack.
 */
#ifndef KILN_BENCH_TINY_BENCH_H
#define KILN_BENCH_TINY_BENCH_H

#include "tiny/tiny.h"

#define PORT_COM1_SCR 0x3ff     /* 16550 scratch register: served in userspace by both monitors */
#define BENCH_MMIO_ADDR 0xc0000000 /* unclaimed in both memory maps: a userspace MMIO exit each */
#define BENCH_EXITS 20000       /* exits per round-trip run */

/* Prints the NUL-free string at \label (\len bytes) on COM1, polling LSR for an empty THR. */
.macro uart_print label, len
	cld
	movl $\label, %esi
	movl $\len, %ecx
.Lbyte\@:
	movw $PORT_COM1_LSR, %dx
.Lwait\@:
	inb %dx, %al
	testb $LSR_THR_EMPTY, %al
	jz .Lwait\@
	movw $PORT_COM1_THR, %dx
	lodsb
	outb %al, %dx
	loop .Lbyte\@
.endm

/* kiln's boot-ready marker (QEMU has nothing there: the write is dropped). */
.macro boot_ready
	movb $BOOT_READY, %al
	outb %al, $PORT_DEBUG_READY
.endm

#endif
