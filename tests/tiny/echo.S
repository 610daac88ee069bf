/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Echoes every byte received on COM1 back to COM1, by polling (no interrupts), until an EOT byte
 * (0x04), then reports status 0 and resets. Far slower than kiln can read its stdin (two PIO exits
 * per byte), so a long input tests the UART input's backpressure: nothing may be lost.
 */
#include "tiny.h"

#define EOT 0x04

	.code32
	.text
	.globl _start
_start:
next_byte:
	movw $PORT_COM1_LSR, %dx
wait_data:
	inb %dx, %al
	testb $LSR_DATA_READY, %al
	jz wait_data
	movw $PORT_COM1_RBR, %dx
	inb %dx, %al
	cmpb $EOT, %al
	je done
	movb %al, %bl
	movw $PORT_COM1_LSR, %dx
wait_thr_empty:
	inb %dx, %al
	testb $LSR_THR_EMPTY, %al
	jz wait_thr_empty
	movb %bl, %al
	movw $PORT_COM1_THR, %dx
	outb %al, %dx
	jmp next_byte

done:
	report_status 0
	i8042_reset

	pvh_entry_note _start
