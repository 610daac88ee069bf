/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reports the first byte of its command line as its exit status (0 for an empty one), so that each
 * of many VMs in one process can be told by its status (tests/integration/test_threads.c). The
 * command line is at hvm_start_info.cmdline_paddr (offset 0x18; xen/include/public/arch-x86/
 * hvm/start_info.h), EBX on entry; paging is off, so the address is used as it is.
 */
#include "tiny.h"

#define START_INFO_CMDLINE 0x18

	.code32
	.text
	.globl _start
_start:
	mark_boot_ready
	movl START_INFO_CMDLINE(%ebx), %esi
	movb (%esi), %al
	outb %al, $PORT_DEBUG_STATUS
	i8042_reset

	pvh_entry_note _start
