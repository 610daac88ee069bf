/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A byte store with writeback (post-index) to the debug device's status register: no valid
 * syndrome (KVM_EXIT_ARM_NISV), so not a status of 7. kiln should stop the VM as crashed (123),
 * naming the write and its address.
 */
#include "tiny.h"

	.text
	.globl _start
_start:
	image_header entry
entry:
	ldr x1, =DEBUG_BASE
	mov w2, #7
	strb w2, [x1], #1
	report_status 42	/* not reached */
	spin_forever
	.ltorg
