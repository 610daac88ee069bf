/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PSCI SYSTEM_RESET2 with a vendor-specific reset type (bit 31 set, DEN0022 5.17): KVM exits with
 * KVM_SYSTEM_EVENT_RESET and the RESET2 flag. kiln should end as for a reset: 0 (no command), "2"
 * on the console.
 */
#include "tiny.h"

	.text
	.globl _start
_start:
	image_header entry
entry:
	putc '2'
	putc '\n'
	ldr x1, =0x80000001
	mov x2, #0
	psci PSCI_SYSTEM_RESET2
	report_status 50	/* not reached */
	spin_forever
	.ltorg
