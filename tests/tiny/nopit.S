/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine has no 8254 PIT (vm_build.c, create_irqchip): ports 0x40 (counter 0) and 0x61 (NMI
 * status and control, the PIT's speaker gate) are unclaimed, so reads return 0xff (vm.c, bus_init). With
 * KVM's in-kernel PIT, 0x61 reads back with bits 7:6 (SERR, IOCHK) clear. Exit status 0 when both
 * read 0xff, 1 when 0x61 does not, 2 when 0x40 does not.
 */
#include "tiny.h"

#define PORT_PIT_COUNTER0 0x40
#define PORT_NMI_SC 0x61

	.code32
	.text
	.globl _start
_start:
	mark_boot_ready
	inb $PORT_NMI_SC, %al
	cmpb $0xff, %al
	jne .Lclaimed_61
	inb $PORT_PIT_COUNTER0, %al
	cmpb $0xff, %al
	jne .Lclaimed_40
	report_status 0
	i8042_reset
.Lclaimed_61:
	report_status 1
	i8042_reset
.Lclaimed_40:
	report_status 2
	i8042_reset

	pvh_entry_note _start
