/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's clock across a pause: prints "R", then reads the virtual counter (CNTVCT_EL0) in a
 * loop until 6 s of it have passed, keeping the largest step between two reads. Status 44 if no
 * step reached 3 s, 45 if one did. The test pauses the VM for longer than that after "R": a counter
 * that ran on across the pause jumps by the pause's length (45); one kiln stopped (44) does not.
 */
#include "tiny.h"

	.text
	.globl _start
_start:
	image_header entry
entry:
	putc 'R'
	putc '\n'
	mrs x1, cntfrq_el0		/* ticks per second */
	mov x2, #6
	mul x2, x1, x2			/* the loop's length */
	mov x3, #3
	mul x3, x1, x3			/* a step that counts as a jump */
	isb
	mrs x4, cntvct_el0		/* the start */
	mov x5, x4			/* the last read */
	mov x6, #0			/* the largest step */
1:	isb
	mrs x7, cntvct_el0
	sub x8, x7, x5
	cmp x8, x6
	csel x6, x8, x6, hi
	mov x5, x7
	sub x8, x7, x4
	cmp x8, x2
	b.lo 1b
	cmp x6, x3
	b.hs 2f
	report_status 44
2:	report_status 45
	spin_forever
	.ltorg
