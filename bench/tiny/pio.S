/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exit round trip, port I/O: prints "READY", writes the 16550's scratch register BENCH_EXITS times
 * (each write is a KVM_EXIT_IO served by the monitor's serial device in userspace), prints "DONE",
 * reports status 0. The benchmark divides the time between the two lines by BENCH_EXITS.
 */
#include "bench.h"

	.code32
	.text
	.globl _start
_start:
	uart_print ready_msg, ready_len
	movl $BENCH_EXITS, %ecx
	movw $PORT_COM1_SCR, %dx
.Lloop:
	movb %cl, %al
	outb %al, %dx
	loop .Lloop
	uart_print done_msg, done_len
	report_status 0
	i8042_reset

	.section .rodata
ready_msg:
	.ascii "READY\n"
	.set ready_len, . - ready_msg
done_msg:
	.ascii "DONE\n"
	.set done_len, . - done_msg

	pvh_entry_note _start
