/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counts 1, 2, ... COUNT_END on COM1, a decimal number a line, with a spin between lines; then
 * reports (1 + 2 + ... + COUNT_END) mod 100 as its exit status. The count lives twice, in memory
 * (COUNTER) and in %esi, and the sum in memory: a line "mismatch" and status 99 say the two copies
 * of the count disagreed, which a snapshot restored with its registers and memory out of step
 * would cause. The snapshot tests stop it midway and check that the count goes on with no gap.
 */
#include "tiny.h"

#define COUNT_END 2500
#define SPIN_ITERATIONS 2000
#define COUNTER 0x200000 /* guest RAM, away from the image at 1 MiB */
#define SUM (COUNTER + 4)
#define DIGITS (COUNTER + 16) /* 10 bytes, filled from the end */

	.code32
	.text
	.globl _start
_start:
	movl $0, COUNTER
	movl $0, SUM
	xorl %esi, %esi
	mark_boot_ready
next:
	incl %esi
	incl COUNTER
	cmpl COUNTER, %esi
	jne mismatch
	addl %esi, SUM
	print_decimal_line %esi, DIGITS
	movl $SPIN_ITERATIONS, %ecx
spin:
	loop spin
	cmpl $COUNT_END, %esi
	jne next
	/* The status: SUM mod 100. */
	movl SUM, %eax
	xorl %edx, %edx
	movl $100, %ecx
	divl %ecx
	movb %dl, %al
	outb %al, $PORT_DEBUG_STATUS
	i8042_reset

mismatch:
	movw $PORT_COM1_THR, %dx
	movl $mismatch_text, %edi
mismatch_print:
	movb (%edi), %al
	testb %al, %al
	jz mismatch_status
	outb %al, %dx
	incl %edi
	jmp mismatch_print
mismatch_status:
	report_status 99
	i8042_reset

	.section .rodata
mismatch_text:
	.asciz "mismatch\n"

	pvh_entry_note _start
