/* SPDX-License-Identifier: Apache-2.0 */
/* Resets at once, reporting nothing. kiln should exit 0. */
#include "tiny.h"

	.code32
	.text
	.globl _start
_start:
	i8042_reset

	pvh_entry_note _start
