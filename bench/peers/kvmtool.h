/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tiny guests for kvmtool (bench/peers/*.S): kvmtool boots no PVH ELF, so they are flat binaries,
 * which it loads at 1000:0000 and enters in real mode with every segment at 0x1000. They do what
 * bench/tiny's do under kiln, with the same ports (tests/tiny/tiny.h): print on COM1, polling its
 * line status; the end is an i8042 reset, after which kvmtool exits with status 0.
 */
#ifndef KILN_BENCH_PEERS_KVMTOOL_H
#define KILN_BENCH_PEERS_KVMTOOL_H

#include "tiny/tiny.h"

/* Prints the \len bytes at \label (an offset from the segment base) on COM1. */
.macro uart_print16 label, len
	cld
	movw $\label, %si
	movw $\len, %cx
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

#endif
