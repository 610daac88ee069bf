/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PSCI SYSTEM_OFF from a secondary vCPU while the boot vCPU spins with interrupts masked (run with
 * --cpus 2): vCPU 0 starts vCPU 1 and spins; vCPU 1 prints "S" and powers the system off. kiln
 * should end with 0 (powered off, no command), "S" on the console.
 */
#include "tiny.h"

	.text
	.globl _start
_start:
	image_header entry
entry:
	mov x1, #1
	adr x2, secondary
	mov x3, #0
	psci PSCI_CPU_ON
	expect w0, 0, 30
	spin_forever

secondary:
	putc 'S'
	putc '\n'
	psci PSCI_SYSTEM_OFF
	report_status 31	/* not reached: SYSTEM_OFF does not return */
	spin_forever
	.ltorg
