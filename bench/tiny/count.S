/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot benchmark guest: prints "READY", then "count 1", "count 2", ... on COM1, one line
 * after the other with nothing in between, for ever. Restored from a snapshot, it prints its next
 * whole "count" line as soon as its vCPU runs again (bench/snapshot.sh times that). The count lives
 * in %ebp; each line is built in guest RAM at LINE (one page touched) and printed polling LSR, as
 * uart_print does.
 */
#include "bench.h"

#define LINE 0x200000 /* "count " + up to 10 digits + "\n"; guest RAM away from the image at 1 MiB */
#define LINE_END (LINE + 17)

	.code32
	.text
	.globl _start
_start:
	uart_print ready_msg, ready_len
	boot_ready
	xorl %ebp, %ebp
	cld
next:
	incl %ebp
	/* The digits of %ebp, last first, before the newline at LINE_END - 1; %edi ends at the first. */
	movb $'\n', LINE_END - 1
	movl $LINE_END - 1, %edi
	movl %ebp, %eax
	movl $10, %ebx
digit:
	xorl %edx, %edx
	divl %ebx
	addb $'0', %dl
	decl %edi
	movb %dl, (%edi)
	testl %eax, %eax
	jnz digit
	subl $6, %edi
	movl $0x6e756f63, (%edi) /* "coun" */
	movw $0x2074, 4(%edi)    /* "t " */
	movl %edi, %esi
	movl $LINE_END, %ecx
	subl %edi, %ecx
byte:
	movw $PORT_COM1_LSR, %dx
wait:
	inb %dx, %al
	testb $LSR_THR_EMPTY, %al
	jz wait
	movw $PORT_COM1_THR, %dx
	lodsb
	outb %al, %dx
	loop byte
	jmp next

	.section .rodata
ready_msg:
	.ascii "READY\n"
	.set ready_len, . - ready_msg

	pvh_entry_note _start
