/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile guest's entry: kiln enters through PVH (32-bit protected mode, paging off, flat
 * segments, interrupts off, EBX = hvm_start_info). Zeroes .bss, sets up a stack, calls
 * hostile_main(start_info) and reports its return value (the number of failed checks) as the
 * exit status on kiln's debug port, which ends the VM.
 */
#include "../tiny.h"

#define STACK_SIZE 0x8000

	.code32
	.section .text.start, "ax"
	.globl _start
_start:
	movl %ebx, %esi			/* keep hvm_start_info across the zeroing */
	cld
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl $stack_top, %esp
	pushl %esi
	call hostile_main
	outb %al, $PORT_DEBUG_STATUS
	i8042_reset

	.bss
	.balign 16
	.skip STACK_SIZE
stack_top:

/* XEN_ELFNOTE_PHYS32_ENTRY (type 18, name "Xen"): a 4-byte value in an ELF32 (tiny.h's macro
 * writes Linux's 8-byte one, which a 32-bit object cannot relocate). */
	.pushsection .note.pvh, "a", @note
	.balign 4
	.long 4				/* namesz */
	.long 4				/* descsz */
	.long 18			/* type */
	.asciz "Xen"
	.long _start
	.popsection
