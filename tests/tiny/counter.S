/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints the letters a..z on COM1 over and over, with a short spin between letters, and never
 * ends: a guest whose output shows whether it runs (pause and resume tests, kiln_vm_stop).
 */
#include "tiny.h"

#define SPIN_ITERATIONS 1000

	.code32
	.text
	.globl _start
_start:
	movb $'a', %bl
print_letter:
	movw $PORT_COM1_THR, %dx
	movb %bl, %al
	outb %al, %dx
	incb %bl
	cmpb $'z' + 1, %bl
	jne spin
	movb $'a', %bl
spin:
	movl $SPIN_ITERATIONS, %ecx
spin_loop:
	loop spin_loop
	jmp print_letter

	pvh_entry_note _start
