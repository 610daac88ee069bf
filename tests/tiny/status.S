/* SPDX-License-Identifier: Apache-2.0 */
/* Marks the boot ready, reports status 42, resets. kiln should exit 42. */
#include "tiny.h"

	.code32
	.text
	.globl _start
_start:
	mark_boot_ready
	report_status 42
	i8042_reset

	pvh_entry_note _start
