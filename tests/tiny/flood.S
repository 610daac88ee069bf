/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints the letters a..z on COM1 over and over, as fast as it can, until a byte arrives on COM1:
 * then reports status 0 and resets. A guest that keeps writing while the host stops reading
 * kiln's stdout (api.sh: the output is dropped, not waited for), and ends when the host says so.
 */
#include "tiny.h"

	.code32
	.text
	.globl _start
_start:
	movb $'a', %bl
next_letter:
	movw $PORT_COM1_LSR, %dx
	inb %dx, %al
	testb $LSR_DATA_READY, %al
	jnz done
	movw $PORT_COM1_THR, %dx
	movb %bl, %al
	outb %al, %dx
	incb %bl
	cmpb $'z' + 1, %bl
	jne next_letter
	movb $'a', %bl
	jmp next_letter

done:
	report_status 0
	i8042_reset

	pvh_entry_note _start
