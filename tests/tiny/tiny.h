/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the tiny test guests (GNU assembler, through cpp). kiln enters each one through PVH:
 * 32-bit protected mode, paging off, flat 4 GiB code and data segments, interrupts off, EBX =
 * hvm_start_info. The guests use no stack and no memory of their own beyond their image.
 */
#ifndef KILN_TESTS_TINY_TINY_H
#define KILN_TESTS_TINY_TINY_H

#define PORT_COM1_THR 0x3f8 /* 16550 transmit holding register (written) */
#define PORT_COM1_RBR 0x3f8 /* 16550 receive buffer register (read) */
#define PORT_COM1_LSR 0x3fd /* 16550 line status register */
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define PORT_DEBUG_STATUS 0xf4 /* kiln's debug port: a byte written is the guest's exit status */
#define PORT_DEBUG_READY 0xf5  /* byte 1: the boot-ready marker */
#define BOOT_READY 1
#define PORT_I8042_CMD 0x64
#define I8042_CMD_RESET 0xfe /* pulse the reset line */

/* The stack is not executable (no PT_GNU_STACK is emitted: tiny.ld lists the segments). */
	.pushsection .note.GNU-stack, "", @progbits
	.popsection

/*
 * XEN_ELFNOTE_PHYS32_ENTRY (type 18, name "Xen", xen/include/public/elfnote.h): the physical
 * 32-bit entry point kiln's PVH loader looks for. The value is 8 bytes, as in Linux's vmlinux.
 */
.macro pvh_entry_note entry
	.pushsection .note.pvh, "a", @note
	.balign 4
	.long .Lname_end\@ - .Lname\@
	.long .Ldesc_end\@ - .Ldesc\@
	.long 18
.Lname\@:
	.asciz "Xen"
.Lname_end\@:
	.balign 4
.Ldesc\@:
	.quad \entry
.Ldesc_end\@:
	.balign 4
	.popsection
.endm

/* Marks the boot ready on the debug port (kiln --boot-time; the bench's READY figures). Uses %al. */
.macro mark_boot_ready
	movb $BOOT_READY, %al
	outb %al, $PORT_DEBUG_READY
.endm

/* Reports an exit status (an immediate) on the debug port, which ends the VM. */
.macro report_status status
	movb $\status, %al
	outb %al, $PORT_DEBUG_STATUS
.endm

/*
 * Prints the register reg on COM1 as an unsigned decimal number and a newline, its digits put
 * together last first in the 10 bytes before buf + 10 (a scratch area in guest RAM); writes
 * without polling the LSR. Uses %eax, %ecx, %edx and %edi (reg must be none of them).
 */
.macro print_decimal_line reg, buf
	movl \reg, %eax
	movl $\buf + 10, %edi
	movl $10, %ecx
.Ldigit\@:
	xorl %edx, %edx
	divl %ecx
	addb $'0', %dl
	decl %edi
	movb %dl, (%edi)
	testl %eax, %eax
	jnz .Ldigit\@
	movw $PORT_COM1_THR, %dx
.Lprint\@:
	movb (%edi), %al
	outb %al, %dx
	incl %edi
	cmpl $\buf + 10, %edi
	jne .Lprint\@
	movb $'\n', %al
	outb %al, %dx
.endm

/* Resets the machine through the i8042, and halts should the reset not come. */
.macro i8042_reset
	movb $I8042_CMD_RESET, %al
	outb %al, $PORT_I8042_CMD
.Lhalt\@:
	hlt
	jmp .Lhalt\@
.endm

#endif
