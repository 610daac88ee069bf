/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boot benchmark guest: prints "READY" on COM1, writes kiln's boot-ready marker, reports status 0
 * on port 0xf4 (kiln ends the VM there; QEMU's isa-debug-exit at 0xf4 exits with (0 << 1) | 1 = 1).
 */
#include "bench.h"

	.code32
	.text
	.globl _start
_start:
	uart_print ready_msg, ready_len
	boot_ready
	report_status 0
	i8042_reset

	.section .rodata
ready_msg:
	.ascii "READY\n"
	.set ready_len, . - ready_msg

	pvh_entry_note _start
