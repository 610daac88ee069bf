/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest the clone tests snapshot once and restore many times (tests/integration/clones.sh).
 * At boot: fills FILL_BYTES (16 MiB) of RAM with a pattern of its pages' addresses, drives its virtio-blk
 * disk to DRIVER_OK (virtio 1.2 §3.1.1, §4.2.3) with one queue, counts 1..FIRST_END on COM1 (a
 * number a line, as count.S), prints "ready" and waits for a byte on COM1 (polling the LSR: there
 * are no interrupts), where the snapshot is taken. A clone is given its own byte (the seed), then:
 *   - reads the whole area back, each word checked against its page's pattern, and prints "checked";
 *   - writes sector 0 of its disk full of the seed byte (virtio 1.2 §5.2.6: a VIRTIO_BLK_T_OUT
 *     request, polled for on the used ring) and prints "written";
 *   - waits for a second byte (any), counts on FIRST_END+1..COUNT_END and reports
 *     (1 + 2 + ... + COUNT_END + seed) mod 100 as its exit status: each seed its own status.
 * Failures report their own statuses, which no seed in 'A'..'Z' makes (those give 90..99 and 0..15):
 * 80 no virtio-blk device or it refused a step, 81 a word of the area is not the pattern, 82 the
 * disk write failed, 83 the count in memory and in %esi disagree (a restore out of step).
 * No stack: the routines return through %ebp, which the caller loads with its return address.
 */
#include "tiny.h"

#define FILL_START 0x400000
#define FILL_BYTES 0x1000000 /* 16 MiB: the guest needs --mem 32M */
#define PATTERN 0x9e3779b1   /* each page's words are its address times this: no page is zero */
#define PAGE_WORDS 1024
#define FIRST_END 100
#define COUNT_END 150
#define POLL_SPIN 100000     /* iterations between two LSR reads: fewer exits while a clone waits */

#define COUNTER 0x200000 /* guest RAM, away from the image at 1 MiB */
#define SUM (COUNTER + 4)
#define COUNT_TO (COUNTER + 8)
#define SEED (COUNTER + 12)
#define BLK_BASE (COUNTER + 16)
#define DIGITS (COUNTER + 32) /* 10 bytes, filled from the end */
#define RINGS 0x201000        /* the descriptor table; driver area at +0x100, device area at +0x200 */
#define REQUEST 0x202000      /* virtio_blk_req header: le32 type, le32 reserved, le64 sector */
#define REQ_STATUS 0x202010
#define DATA 0x203000

#define VIRTIO_MMIO_BASE 0xd0000000 /* arch/x86/layout.h: one 4 KiB window per device */
#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_MMIO_WINDOWS 15      /* vm.h: VM_MAX_VIRTIO */
#define MMIO_MAGIC 0x74726976       /* "virt" */
#define VIRTIO_ID_BLOCK 2

/* virtio-mmio registers, virtio 1.2 §4.2.2 */
#define REG_MAGIC 0x000
#define REG_DEVICE_ID 0x008
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
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

#define QUEUE_SIZE 4
#define DESC_F_NEXT 1  /* virtio 1.2 §2.7.5 */
#define DESC_F_WRITE 2
#define AVAIL_F_NO_INTERRUPT 1 /* §2.7.6: the guest polls the used ring */
#define BLK_T_OUT 1    /* §5.2.6 */
#define SECTOR_BYTES 512

/* Calls a routine: its return address in %ebp. */
.macro call_ebp routine
	movl $.Lret\@, %ebp
	jmp \routine
.Lret\@:
.endm

	.code32
	.text
	.globl _start
_start:
	cld
	movl $FILL_START, %edi
fill_page:
	imull $PATTERN, %edi, %eax
	movl $PAGE_WORDS, %ecx
	rep stosl
	cmpl $FILL_START + FILL_BYTES, %edi
	jne fill_page

	call_ebp blk_setup
	movl $0, COUNTER
	movl $0, SUM
	xorl %esi, %esi
	movl $FIRST_END, COUNT_TO
	call_ebp count
	movl $ready_text, %edi
	call_ebp print_text
	mark_boot_ready
	call_ebp read_byte /* the snapshot is taken here */
	movb %al, SEED

	movl $FILL_START, %edi
check_page:
	imull $PATTERN, %edi, %eax
	movl $PAGE_WORDS, %ecx
	repe scasl
	jne bad_area
	cmpl $FILL_START + FILL_BYTES, %edi
	jne check_page
	movl $checked_text, %edi
	call_ebp print_text

	call_ebp blk_write
	movl $written_text, %edi
	call_ebp print_text
	call_ebp read_byte
	movl $COUNT_END, COUNT_TO
	call_ebp count
	/* The status: (SUM + seed) mod 100. */
	movzbl SEED, %eax
	addl SUM, %eax
	xorl %edx, %edx
	movl $100, %ecx
	divl %ecx
	movb %dl, %al
	outb %al, $PORT_DEBUG_STATUS
	i8042_reset

/* Counts %esi+1 .. COUNT_TO, one line each; the count in %esi and COUNTER, the sum in SUM. */
count:
	incl %esi
	incl COUNTER
	cmpl COUNTER, %esi
	jne mismatch
	addl %esi, SUM
	print_decimal_line %esi, DIGITS
	cmpl COUNT_TO, %esi
	jne count
	jmp *%ebp

/* Prints the NUL-terminated text at %edi. */
print_text:
	movw $PORT_COM1_THR, %dx
print_char:
	movb (%edi), %al
	testb %al, %al
	jz print_done
	outb %al, %dx
	incl %edi
	jmp print_char
print_done:
	jmp *%ebp

/* The next byte received on COM1, in %al. */
read_byte:
	movw $PORT_COM1_LSR, %dx
	inb %dx, %al
	testb $LSR_DATA_READY, %al
	jnz read_data
	movl $POLL_SPIN, %ecx
poll_spin:
	loop poll_spin
	jmp read_byte
read_data:
	movw $PORT_COM1_RBR, %dx
	inb %dx, %al
	jmp *%ebp

/* Finds the virtio-blk device (its window in BLK_BASE) and makes it ready with queue 0 at RINGS. */
blk_setup:
	movl $VIRTIO_MMIO_BASE, %esi
	movl $VIRTIO_MMIO_WINDOWS, %ecx
find_device:
	cmpl $MMIO_MAGIC, REG_MAGIC(%esi)
	jne next_window
	cmpl $VIRTIO_ID_BLOCK, REG_DEVICE_ID(%esi)
	je found
next_window:
	addl $VIRTIO_MMIO_SIZE, %esi
	loop find_device
	jmp blk_fail
found:
	movl %esi, BLK_BASE
	movl $0, REG_STATUS(%esi) /* reset */
	movl $STATUS_ACKNOWLEDGE, REG_STATUS(%esi)
	movl $(STATUS_ACKNOWLEDGE | STATUS_DRIVER), REG_STATUS(%esi)
	movl $1, REG_DRIVER_FEATURES_SEL(%esi)
	movl $1, REG_DRIVER_FEATURES(%esi) /* VIRTIO_F_VERSION_1 (bit 32), nothing else */
	movl $0, REG_DRIVER_FEATURES_SEL(%esi)
	movl $0, REG_DRIVER_FEATURES(%esi)
	movl $(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK), REG_STATUS(%esi)
	testl $STATUS_FEATURES_OK, REG_STATUS(%esi)
	jz blk_fail
	movl $0, REG_QUEUE_SEL(%esi)
	cmpl $QUEUE_SIZE, REG_QUEUE_NUM_MAX(%esi)
	jb blk_fail
	movl $QUEUE_SIZE, REG_QUEUE_NUM(%esi)
	movl $RINGS, REG_QUEUE_DESC_LOW(%esi)
	movl $0, REG_QUEUE_DESC_HIGH(%esi)
	movl $RINGS + 0x100, REG_QUEUE_DRIVER_LOW(%esi)
	movl $0, REG_QUEUE_DRIVER_HIGH(%esi)
	movl $RINGS + 0x200, REG_QUEUE_DEVICE_LOW(%esi)
	movl $0, REG_QUEUE_DEVICE_HIGH(%esi)
	movl $1, REG_QUEUE_READY(%esi)
	movl $(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK), REG_STATUS(%esi)
	testl $STATUS_NEEDS_RESET, REG_STATUS(%esi)
	jnz blk_fail
	testl $STATUS_DRIVER_OK, REG_STATUS(%esi)
	jz blk_fail
	jmp *%ebp

/*
 * Writes sector 0 full of the seed: header, data and status in a chain of three descriptors
 * (§2.7.5), offered as the driver area's first entry (§2.7.6), the queue notified, then the device
 * area's index polled until the device has used it (§2.7.8).
 */
blk_write:
	movb SEED, %al
	movl $DATA, %edi
	movl $SECTOR_BYTES, %ecx
	rep stosb
	movl $BLK_T_OUT, REQUEST
	movl $0, REQUEST + 4
	movl $0, REQUEST + 8
	movl $0, REQUEST + 12
	movb $0xff, REQ_STATUS
	/* Descriptors: le64 addr, le32 len, le16 flags, le16 next. */
	movl $RINGS, %edi
	movl $REQUEST, 0(%edi)
	movl $0, 4(%edi)
	movl $16, 8(%edi)
	movw $DESC_F_NEXT, 12(%edi)
	movw $1, 14(%edi)
	movl $DATA, 16(%edi)
	movl $0, 20(%edi)
	movl $SECTOR_BYTES, 24(%edi)
	movw $DESC_F_NEXT, 28(%edi)
	movw $2, 30(%edi)
	movl $REQ_STATUS, 32(%edi)
	movl $0, 36(%edi)
	movl $1, 40(%edi)
	movw $DESC_F_WRITE, 44(%edi)
	movw $0, 46(%edi)
	/* Driver area: le16 flags, le16 idx, le16 ring[]; x86 keeps these stores in order. */
	movw $0, RINGS + 0x104
	movw $AVAIL_F_NO_INTERRUPT, RINGS + 0x100
	movw $1, RINGS + 0x102
	movl BLK_BASE, %ebx /* not %esi: it holds the count */
	movl $0, REG_QUEUE_NOTIFY(%ebx)
wait_used:
	cmpw $1, RINGS + 0x202 /* device area: le16 flags, le16 idx */
	jne wait_used
	cmpb $0, REQ_STATUS /* VIRTIO_BLK_S_OK */
	jne write_fail
	jmp *%ebp

blk_fail:
	report_status 80
	i8042_reset
bad_area:
	report_status 81
	i8042_reset
write_fail:
	report_status 82
	i8042_reset

mismatch:
	movl $mismatch_text, %edi
	call_ebp print_text
	report_status 83
	i8042_reset

	.section .rodata
ready_text:
	.asciz "ready\n"
checked_text:
	.asciz "checked\n"
written_text:
	.asciz "written\n"
mismatch_text:
	.asciz "mismatch\n"

	pvh_entry_note _start
