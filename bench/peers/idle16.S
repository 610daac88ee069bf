/* SPDX-License-Identifier: Apache-2.0 */
/* bench/tiny/idle.S for kvmtool: prints "READY" on COM1, then halts for ever with interrupts off. */
#include "kvmtool.h"

	.code16
	.text
	.globl _start
_start:
	uart_print16 ready_msg, ready_len
	cli
.Lhalt:
	hlt
	jmp .Lhalt

ready_msg:
	.ascii "READY\n"
	.set ready_len, . - ready_msg
