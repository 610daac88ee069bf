/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The idle guest: prints "READY", then halts for ever with interrupts off. Neither monitor programs an
 * interrupt source for it, and with the in-kernel LAPIC a halted vCPU sleeps in the host kernel, so
 * the monitor should use no CPU at all. The benchmark samples the monitor's memory, then kills it.
 */
#include "bench.h"

	.code32
	.text
	.globl _start
_start:
	uart_print ready_msg, ready_len
	boot_ready
	cli
.Lidle:
	hlt
	jmp .Lidle

	.section .rodata
ready_msg:
	.ascii "READY\n"
	.set ready_len, . - ready_msg

	pvh_entry_note _start
