/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads and writes a port and an MMIO address nothing claims: reads must give 0xff (port) and 0
 * (MMIO), before and after the writes, which go nowhere. Reports 0 if they all did, else 1.
 */
#include "tiny.h"

#define UNCLAIMED_PORT 0x1234
#define UNCLAIMED_MMIO 0xe0000000 /* in the 32-bit MMIO hole, below the IOAPIC, no device */

	.code32
	.text
	.globl _start
_start:
	movw $UNCLAIMED_PORT, %dx
	xorl %eax, %eax
	inb %dx, %al
	cmpl $0xff, %eax
	jne mismatch
	movl UNCLAIMED_MMIO, %eax
	testl %eax, %eax
	jnz mismatch

	movb $0x5a, %al
	outb %al, %dx
	movl $0xdeadbeef, UNCLAIMED_MMIO

	xorl %eax, %eax
	inb %dx, %al
	cmpl $0xff, %eax
	jne mismatch
	movl UNCLAIMED_MMIO, %eax
	testl %eax, %eax
	jnz mismatch

	report_status 0
	i8042_reset
mismatch:
	report_status 1
	i8042_reset

	pvh_entry_note _start
