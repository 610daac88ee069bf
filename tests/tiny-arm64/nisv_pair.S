/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A load pair from the UART: a data abort without a valid syndrome, which KVM cannot emulate
 * (KVM_EXIT_ARM_NISV). kiln should stop the VM as crashed (123), naming the read and its address.
 */
#include "tiny.h"

	.text
	.globl _start
_start:
	image_header entry
entry:
	ldr x1, =UART_BASE
	ldp x2, x3, [x1]
	report_status 42	/* not reached: kiln must not skip the load */
	spin_forever
	.ltorg
