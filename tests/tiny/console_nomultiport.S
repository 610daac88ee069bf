/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio-console driver that declines MULTIPORT (virtio 1.2 §5.3.3), as an older or hostile
 * driver may: over virtio-mmio (§4.2.3.1), it posts one receive buffer before DRIVER_OK, so the
 * port is open and input due from DRIVER_OK on, then waits for the buffer to come back. Run with
 * `--console virtio` and stdin /dev/null (which epoll refuses, so kiln reads it when a buffer is
 * there): EOF returns the buffer empty, and the guest reports status 0. Status 1: the device is
 * not a console, refused the features or asked for a reset. kiln dying instead (SIGSYS) was
 * issue 10's defect 2: the first read ran on the vCPU thread that wrote DRIVER_OK.
 */
#include "tiny.h"

#define MMIO 0xd0000000 /* the first virtio-mmio window: the console, kiln's only device here */
#define REG_MAGIC 0x000
#define REG_DEVICE_ID 0x008
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define MAGIC 0x74726976 /* "virt" */
#define ID_CONSOLE 3
#define ACKNOWLEDGE 1
#define DRIVER 2
#define DRIVER_OK 4
#define FEATURES_OK 8
#define NEEDS_RESET 0x40
#define DESC_F_WRITE 2

/* The receiveq's rings and buffer, in RAM above the image. */
#define DESC 0x200000
#define AVAIL 0x201000
#define USED 0x202000
#define BUF 0x203000

	.code32
	.text
	.globl _start
_start:
	movl $MMIO, %esi
	cmpl $MAGIC, REG_MAGIC(%esi)
	jne fail
	cmpl $ID_CONSOLE, REG_DEVICE_ID(%esi)
	jne fail
	movl $0, REG_STATUS(%esi)
	movl $ACKNOWLEDGE, REG_STATUS(%esi)
	movl $ACKNOWLEDGE | DRIVER, REG_STATUS(%esi)
	movl $1, REG_DRIVER_FEATURES_SEL(%esi)
	movl $1, REG_DRIVER_FEATURES(%esi) /* VERSION_1 (bit 32) */
	movl $0, REG_DRIVER_FEATURES_SEL(%esi)
	movl $0, REG_DRIVER_FEATURES(%esi) /* and nothing else: no MULTIPORT */
	movl $ACKNOWLEDGE | DRIVER | FEATURES_OK, REG_STATUS(%esi)
	testl $FEATURES_OK, REG_STATUS(%esi)
	jz fail

	/* Queue 0, the receiveq: 4 entries; descriptor 0 is a 64-byte writable buffer, made available. */
	movl $0, REG_QUEUE_SEL(%esi)
	movl $4, REG_QUEUE_NUM(%esi)
	movl $DESC, REG_QUEUE_DESC_LOW(%esi)
	movl $AVAIL, REG_QUEUE_DRIVER_LOW(%esi)
	movl $USED, REG_QUEUE_DEVICE_LOW(%esi)
	movl $BUF, DESC       /* addr, low half (the high half and the rest of RAM are 0) */
	movl $64, DESC + 8    /* len */
	movw $DESC_F_WRITE, DESC + 12
	movw $0, AVAIL + 4    /* ring[0]: descriptor 0 */
	movw $1, AVAIL + 2    /* idx */
	movl $1, REG_QUEUE_READY(%esi)
	movl $ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, REG_STATUS(%esi)
	testl $NEEDS_RESET, REG_STATUS(%esi)
	jnz fail

wait_used:
	cmpw $1, USED + 2     /* the used ring's idx */
	jne wait_used
	report_status 0
	i8042_reset

fail:
	report_status 1
	i8042_reset

	pvh_entry_note _start
