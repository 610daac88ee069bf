/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest that never powers off: prints "R" and spins with interrupts masked. SIGTERM or SIGINT
 * to kiln should still end it (128 + the signal).
 */
#include "tiny.h"

	.text
	.globl _start
_start:
	image_header entry
entry:
	putc 'R'
	putc '\n'
	spin_forever
	.ltorg
