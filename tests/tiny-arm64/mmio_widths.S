/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MMIO of every width, and accesses no device may take: the UART's byte registers written with
 * 1-, 2-, 4- and 8-byte stores (kiln uses the low byte: "ABCD" on the console) and read 8 bytes
 * wide (the register in the low byte, zeros above); the debug device (2 bytes) written 4 and 8
 * bytes wide at its start, past its end (dropped: no status), and read 8 wide (unclaimed: 0); an
 * address in no device read at each width (0) and written (dropped); the first virtio-mmio window
 * (run with --rng) read as an aligned 32-bit word (MagicValue "virt", virtio 1.2 §4.2.2) and at
 * the other widths (0: its registers are words). Then status 42 with a byte store. A check that
 * fails reports its own status (10-19) instead; kiln should exit 42.
 */
#include "tiny.h"

	.text
	.globl _start
_start:
	image_header entry
entry:
	ldr x1, =UART_BASE
	ldr x2, =DEBUG_BASE
	ldr x3, =NO_DEVICE
	mov x4, #'A'
	strb w4, [x1, #UART_THR]
	mov x4, #'B'
	strh w4, [x1, #UART_THR]
	ldr w4, ='C' | 0x7f7f7f00
	str w4, [x1, #UART_THR]
	ldr x4, ='D' | 0x7f7f7f7f7f7f7f00
	str x4, [x1, #UART_THR]
	mov x4, #'\n'
	strb w4, [x1, #UART_THR]

	/* The line status register read 8 bytes wide: THR empty, nothing above its byte. */
	ldr x5, [x1]			/* offset 0: RBR, no input: 0 */
	expect x5, 0, 10
	ldrb w5, [x1, #UART_LSR]
	and w5, w5, #LSR_THR_EMPTY
	expect w5, LSR_THR_EMPTY, 11

	/* The debug device: writes that straddle its end are no status; a wide read is 0. */
	mov w4, #5
	str w4, [x2]
	mov x4, #6
	str x4, [x2]
	ldr x5, [x2]
	expect x5, 0, 12

	/* No device here: reads are 0, writes go nowhere. */
	mvn x5, xzr
	ldrb w5, [x3]
	expect x5, 0, 13
	mvn x5, xzr
	ldrh w5, [x3]
	expect x5, 0, 14
	mvn x5, xzr
	ldr w5, [x3]
	expect x5, 0, 15
	mvn x5, xzr
	ldr x5, [x3, #8]
	expect x5, 0, 16
	mvn x4, xzr
	str x4, [x3]
	ldr x5, [x3]
	expect x5, 0, 17

	/* virtio-mmio: only aligned 32-bit reads reach a register. */
	ldr x3, =VIRTIO_BASE
	ldr w5, [x3]
	ldr w6, =0x74726976
	cmp w5, w6
	b.eq 1f
	report_status 18
1:	ldr x5, [x3]
	expect x5, 0, 19
	ldrb w5, [x3]
	expect x5, 0, 19
	ldrh w5, [x3]
	expect x5, 0, 19

	report_status 42
	spin_forever
	.ltorg
