/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finds kiln's virtio-vsock device on the virtio-mmio windows, drives it to DRIVER_OK the way a
 * driver does (virtio 1.2 §3.1.1, §4.2.3) with three empty queues, says it is ready on the debug
 * port and halts for ever. kiln then serves the device's host socket: each host client that
 * connects holds one of kiln's fds, which the guest never releases (it posts no buffers). Reports
 * status 1 (ending the VM) when there is no vsock device or the device refuses a step.
 */
#include "tiny.h"

#define VIRTIO_MMIO_BASE 0xd0000000 /* arch/x86/layout.h: one 4 KiB window per device */
#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_MMIO_WINDOWS 15      /* vm.h: VM_MAX_VIRTIO */
#define MMIO_MAGIC 0x74726976       /* "virt" */
#define VIRTIO_ID_VSOCK 19

/* virtio-mmio registers, virtio 1.2 §4.2.2 */
#define REG_MAGIC 0x000
#define REG_DEVICE_ID 0x008
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 64

#define NUM_QUEUES 3          /* rx, tx, event: §5.10.2 */
#define QUEUE_SIZE 16
/*
 * Each queue's rings in a page of their own from 2 MiB on (past the image, in RAM that is zero: no
 * buffers posted): the descriptor table, then the driver area at +0x100, the device area at +0x200.
 */
#define RINGS 0x200000
#define RING_STRIDE 0x1000

	.code32
	.text
	.globl _start
_start:
	movl $VIRTIO_MMIO_BASE, %esi
	movl $VIRTIO_MMIO_WINDOWS, %ecx
find_device:
	movl REG_MAGIC(%esi), %eax
	cmpl $MMIO_MAGIC, %eax
	jne next_window
	movl REG_DEVICE_ID(%esi), %eax
	cmpl $VIRTIO_ID_VSOCK, %eax
	je found
next_window:
	addl $VIRTIO_MMIO_SIZE, %esi
	loop find_device
	jmp fail

found:
	movl $0, REG_STATUS(%esi) /* reset */
	movl $STATUS_ACKNOWLEDGE, REG_STATUS(%esi)
	movl $(STATUS_ACKNOWLEDGE | STATUS_DRIVER), REG_STATUS(%esi)
	movl $1, REG_DRIVER_FEATURES_SEL(%esi)
	movl $1, REG_DRIVER_FEATURES(%esi) /* VIRTIO_F_VERSION_1 (bit 32), nothing else */
	movl $0, REG_DRIVER_FEATURES_SEL(%esi)
	movl $0, REG_DRIVER_FEATURES(%esi)
	movl $(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK), REG_STATUS(%esi)
	movl REG_STATUS(%esi), %eax
	testl $STATUS_FEATURES_OK, %eax
	jz fail

	xorl %ecx, %ecx
	movl $RINGS, %edi
setup_queue:
	movl %ecx, REG_QUEUE_SEL(%esi)
	movl REG_QUEUE_NUM_MAX(%esi), %eax
	cmpl $QUEUE_SIZE, %eax
	jb fail
	movl $QUEUE_SIZE, REG_QUEUE_NUM(%esi)
	movl %edi, REG_QUEUE_DESC_LOW(%esi)
	movl $0, REG_QUEUE_DESC_HIGH(%esi)
	leal 0x100(%edi), %eax
	movl %eax, REG_QUEUE_DRIVER_LOW(%esi)
	movl $0, REG_QUEUE_DRIVER_HIGH(%esi)
	leal 0x200(%edi), %eax
	movl %eax, REG_QUEUE_DEVICE_LOW(%esi)
	movl $0, REG_QUEUE_DEVICE_HIGH(%esi)
	movl $1, REG_QUEUE_READY(%esi)
	addl $RING_STRIDE, %edi
	incl %ecx
	cmpl $NUM_QUEUES, %ecx
	jne setup_queue

	movl $(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK), REG_STATUS(%esi)
	movl REG_STATUS(%esi), %eax
	testl $STATUS_NEEDS_RESET, %eax
	jnz fail
	testl $STATUS_DRIVER_OK, %eax
	jz fail
	mark_boot_ready
idle:
	hlt /* interrupts are off: only kiln's kick (pause, stop) brings the vCPU out */
	jmp idle

fail:
	report_status 1
	i8042_reset

	pvh_entry_note _start
