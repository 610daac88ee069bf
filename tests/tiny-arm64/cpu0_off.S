/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boot vCPU turns itself off while another runs (run with --cpus 2): vCPU 0 starts vCPU 1 and
 * calls CPU_OFF; vCPU 1 waits until AFFINITY_INFO says vCPU 0 is off, then reports status 43.
 * kiln should exit 43.
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
	expect w0, 0, 40
	psci PSCI_CPU_OFF
	report_status 41	/* not reached: CPU_OFF does not return */
	spin_forever

secondary:
	mov x1, #0			/* vCPU 0's affinity */
	mov x2, #0
	psci PSCI_AFFINITY_INFO
	cmp w0, #PSCI_AFFINITY_OFF
	b.ne secondary
	report_status 43
	spin_forever
	.ltorg
