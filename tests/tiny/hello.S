/* SPDX-License-Identifier: Apache-2.0 */
/* Prints a line on COM1, reports status 0, resets. kiln should exit 0 with the line on stdout. */
#include "tiny.h"

	.code32
	.text
	.globl _start
_start:
	cld
	movl $message, %esi
	movl $message_len, %ecx
next_byte:
	movw $PORT_COM1_LSR, %dx
wait_thr_empty:
	inb %dx, %al
	testb $LSR_THR_EMPTY, %al
	jz wait_thr_empty
	movw $PORT_COM1_THR, %dx
	lodsb
	outb %al, %dx
	loop next_byte

	report_status 0
	i8042_reset

	.section .rodata
message:
	.ascii "hello from a tiny guest\n"
	.set message_len, . - message

	pvh_entry_note _start
