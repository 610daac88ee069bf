/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads kiln's VM Generation ID and waits for its notification. It routes the ACPI Generic Event
 * Device's GSI through the IOAPIC to a vector of its own, prints "boot " and the 16 bytes of the
 * ID in hex (in memory order) on a line, and halts with interrupts on. When that interrupt comes
 * (kiln pulses the line after a restore) it prints "event " and the ID as it is then, and reports
 * EVENT_STATUS. tests/integration/vmgenid.sh snapshots it while it waits and restores it.
 *
 * It knows kiln's layout instead of reading the DSDT: the ID's address and the GED's GSI are
 * X86_VMGENID_ADDR and X86_GED_GSI of src/arch/x86/layout.h (the unit tests check that the DSDT
 * gives them).
 */
#include "tiny.h"

#define VMGENID_ADDR 0xa0000 /* X86_VMGENID_ADDR */
#define VMGENID_SIZE 16
#define GED_GSI 23           /* X86_GED_GSI */
#define GED_VECTOR 0x40
#define EVENT_STATUS 33

/* Guest RAM away from the image at 1 MiB: an IDT of 256 gates, and a stack below 0x210000. */
#define IDT_ADDR 0x200000
#define IDT_LIMIT (256 * 8 - 1)
#define STACK_TOP 0x210000

/* xAPIC (Intel SDM vol. 3A §11.4.1): spurious interrupt vector register, bit 8 enables. */
#define LAPIC_SVR 0xfee000f0
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_SPURIOUS_VECTOR 0xff
#define LAPIC_EOI 0xfee000b0
/* IOAPIC (82093AA datasheet §3.2): index at +0, data at +0x10; pin N's entry at 0x10 + 2N, 0x11 + 2N. */
#define IOAPIC_INDEX 0xfec00000
#define IOAPIC_DATA 0xfec00010
#define IOAPIC_REDIR_LOW(pin) (0x10 + 2 * (pin))
#define IOAPIC_REDIR_HIGH(pin) (0x11 + 2 * (pin))

	.code32
	.text
	.globl _start
_start:
	cld
	movl $STACK_TOP, %esp
	/* Routed before the line is out: a snapshot taken once it is cannot miss the interrupt. */
	call route_ged
	movl $boot_text, %esi
	call print_id_line
	mark_boot_ready
wait_event:
	sti
	hlt
	jmp wait_event

/* The GED's interrupt: the ID as it is now, then the status, which ends the VM. */
ged_interrupt:
	movl $event_text, %esi
	call print_id_line
	movl $0, LAPIC_EOI
	report_status EVENT_STATUS
	i8042_reset

/*
 * The IDT: every gate empty but GED_VECTOR's, a 32-bit interrupt gate (type 0xe, present, DPL 0)
 * to ged_interrupt in the code segment kiln entered us with. Then the local APIC on, and the GED's
 * IOAPIC pin to GED_VECTOR on APIC 0: fixed delivery, physical, active high, edge, unmasked.
 */
route_ged:
	movl $IDT_ADDR, %edi
	movl $IDT_LIMIT + 1, %ecx
	xorl %eax, %eax
	rep stosb
	movl $IDT_ADDR + GED_VECTOR * 8, %edi
	movl $ged_interrupt, %eax
	movw %ax, (%edi)
	movw %cs, 2(%edi)
	movw $0x8e00, 4(%edi)
	shrl $16, %eax
	movw %ax, 6(%edi)
	lidt idt_descriptor
	movl $LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR, LAPIC_SVR
	movl $IOAPIC_REDIR_HIGH(GED_GSI), IOAPIC_INDEX
	movl $0, IOAPIC_DATA
	movl $IOAPIC_REDIR_LOW(GED_GSI), IOAPIC_INDEX
	movl $GED_VECTOR, IOAPIC_DATA
	ret

/* Prints the NUL-terminated text at %esi, then the ID in hex and a newline. */
print_id_line:
	call print_text
	movl $VMGENID_ADDR, %esi
print_id_byte:
	movzbl (%esi), %ebx
	shrl $4, %ebx
	movb hex_digits(%ebx), %al
	call print_char
	movzbl (%esi), %ebx
	andl $0xf, %ebx
	movb hex_digits(%ebx), %al
	call print_char
	incl %esi
	cmpl $VMGENID_ADDR + VMGENID_SIZE, %esi
	jne print_id_byte
	movb $'\n', %al
	jmp print_char

print_text:
	lodsb
	testb %al, %al
	jz print_text_end
	call print_char
	jmp print_text
print_text_end:
	ret

/* Writes %al to COM1 once its transmitter is empty; keeps every register but %dx. */
print_char:
	movb %al, %ah
	movw $PORT_COM1_LSR, %dx
print_char_wait:
	inb %dx, %al
	testb $LSR_THR_EMPTY, %al
	jz print_char_wait
	movb %ah, %al
	movw $PORT_COM1_THR, %dx
	outb %al, %dx
	ret

	.section .rodata
	.balign 8
idt_descriptor:
	.word IDT_LIMIT
	.long IDT_ADDR
hex_digits:
	.ascii "0123456789abcdef"
boot_text:
	.asciz "boot "
event_text:
	.asciz "event "

	pvh_entry_note _start
