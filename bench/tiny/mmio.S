/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exit round trip, MMIO: prints "READY", writes a byte to BENCH_MMIO_ADDR (no RAM, no device: each
 * write is a KVM_EXIT_MMIO that the monitor's bus dispatches and drops) BENCH_EXITS times, prints
 * "DONE", reports status 0. The benchmark divides the time between the two lines by BENCH_EXITS.
 */
#include "bench.h"

	.code32
	.text
	.globl _start
_start:
	uart_print ready_msg, ready_len
	movl $BENCH_EXITS, %ecx
	movl $BENCH_MMIO_ADDR, %edi
.Lloop:
	movb %cl, (%edi)
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
