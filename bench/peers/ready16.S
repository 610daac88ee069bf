/* SPDX-License-Identifier: Apache-2.0 */
/* bench/tiny/ready.S for kvmtool: prints "READY" on COM1, then resets through the i8042 (status 0). */
#include "kvmtool.h"

	.code16
	.text
	.globl _start
_start:
	uart_print16 ready_msg, ready_len
	i8042_reset

ready_msg:
	.ascii "READY\n"
	.set ready_len, . - ready_msg
