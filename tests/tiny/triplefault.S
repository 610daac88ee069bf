/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loads an empty IDT and raises #UD: vector 6 is past the IDT's limit (#GP), so is 13 (#DF), so is
 * 8: a triple fault, which KVM reports as KVM_EXIT_SHUTDOWN. kiln should exit 123 (guest crashed).
 * ud2 rather than int3: on the PVM hosts kiln is developed on, KVM's emulator fails on a software
 * interrupt (KVM_EXIT_INTERNAL_ERROR) instead of delivering it, while a fault triple-faults cleanly.
 */
#include "tiny.h"

	.code32
	.text
	.globl _start
_start:
	lidt empty_idt
	ud2
	/* Only if the fault did not end the VM: a status the test does not expect. */
	report_status 1
	i8042_reset

	.section .rodata
	.balign 8
empty_idt:
	.word 0 /* limit */
	.long 0 /* base */

	pvh_entry_note _start
