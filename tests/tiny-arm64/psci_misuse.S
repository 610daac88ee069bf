/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PSCI calls a guest should not make (run with --cpus 2), answered by KVM: CPU_ON of an MPIDR no
 * vCPU has (INVALID_PARAMETERS), of the calling vCPU itself (ALREADY_ON), an unknown function
 * (NOT_SUPPORTED), SYSTEM_RESET2 with a reserved architectural reset type (INVALID_PARAMETERS);
 * then CPU_ON of vCPU 1 at an entry point in no RAM, which KVM accepts: vCPU 1 takes prefetch
 * aborts forever. kiln should still end when vCPU 0 reports status 42. A wrong answer reports its
 * own status (20-29).
 */
#include "tiny.h"

	.text
	.globl _start
_start:
	image_header entry
entry:
	ldr x1, =0x0000ff00		/* Aff1 255: no such vCPU */
	adr x2, entry
	mov x3, #0
	psci PSCI_CPU_ON
	expect w0, PSCI_INVALID_PARAMETERS, 20

	mrs x1, mpidr_el1
	and x1, x1, #0xffffff		/* Aff2-Aff0: this vCPU */
	adr x2, entry
	mov x3, #0
	psci PSCI_CPU_ON
	expect w0, PSCI_ALREADY_ON, 21

	psci 0x8400ff00			/* a PSCI id no version defines */
	expect w0, PSCI_NOT_SUPPORTED, 22

	mov x1, #1			/* an architectural reset type: only 0 (warm reset) is defined */
	mov x2, #0
	psci PSCI_SYSTEM_RESET2
	expect w0, PSCI_INVALID_PARAMETERS, 23

	mov x1, #1			/* vCPU 1 (kiln's MPIDR Aff0 1) */
	mov x2, #0x1000			/* no RAM, no device */
	mov x3, #0
	psci PSCI_CPU_ON
	expect w0, 0, 24

	report_status 42
	spin_forever
	.ltorg
