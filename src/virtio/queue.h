/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (virtio 1.2 §2.7), as a device sees them. Knows nothing of transports or
 * device types: a backend pops a descriptor chain as an iovec array that points straight into
 * guest RAM, does its I/O, and pushes the chain back with the byte count it wrote.
 *
 * The driver (the guest) is hostile. Every ring address is checked at virtq_init; every
 * descriptor is copied once from guest memory and checked before use: head and next < size, at
 * most `size` descriptors per chain (indirect ones included), indirect tables a multiple of 16
 * bytes with at most `size` entries and never nested, device-writable never before
 * device-readable, every buffer inside guest RAM, no length overflow. A violation marks the queue
 * broken: that pop and every later one fail with -EBADMSG, and the transport sets NEEDS_RESET.
 */
#ifndef KILN_VIRTIO_QUEUE_H
#define KILN_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mem/gmem.h"
#include "util.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_MAX_SIZE 32768 /* virtio 1.2 §2.7: Queue Size is at most 32768 */

/* Ring layouts, virtio 1.2 §2.7.5, §2.7.6, §2.7.8; all fields little-endian. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* size entries, then used_event (EVENT_IDX) */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* size entries, then avail_event (EVENT_IDX) */
};

struct virtq {
	const struct gmem *mem;
	gpa_t used_gpa;           /* the used ring in guest RAM: the device's writes there are recorded */
	uint16_t size;
	bool event_idx;           /* VIRTIO_F_EVENT_IDX negotiated */
	bool broken;              /* the driver broke the rules; nothing more is taken */
	struct virtq_desc *desc;  /* host pointers into guest RAM, checked at virtq_init */
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t next_avail;      /* the next avail ring entry to take */
	uint16_t next_used;       /* the used idx published next */
	uint16_t signalled_used;  /* used idx at the last interrupt (EVENT_IDX) */
	bool signalled_used_valid;
};

/* A chain taken from the avail ring: out_num device-readable iovecs, then in_num device-writable. */
struct virtq_elem {
	uint16_t head;
	unsigned int out_num;
	unsigned int in_num;
	uint64_t out_len; /* bytes the device may read */
	uint64_t in_len;  /* bytes the device may write */
	struct iovec *iov;
};

/*
 * Checks and maps the three rings: size a power of two in 1..VIRTQ_MAX_SIZE, desc 16-byte, avail
 * 2-byte and used 4-byte aligned (§2.7), each wholly inside guest RAM, no two overlapping. 0 or
 * -EINVAL; on failure the queue is left broken and unmapped (pops fail, pushes do nothing).
 */
int virtq_init(struct virtq *q, const struct gmem *mem, uint16_t size, gpa_t desc, gpa_t avail,
	       gpa_t used, bool event_idx) MUST_CHECK;

/* Two initialized queues share a byte of their rings (false when either has none). */
bool virtq_overlaps(const struct virtq *a, const struct virtq *b);

/*
 * Takes the next available chain into e, its buffers as iovecs in iov[0..iov_cap). Returns 1 when
 * a chain was taken, 0 when none is available, -EBADMSG when the driver broke the rules (or the
 * chain needs more than iov_cap iovecs): the queue is then broken.
 */
int virtq_pop(struct virtq *q, struct virtq_elem *e, struct iovec *iov, unsigned int iov_cap) MUST_CHECK;

/*
 * For a snapshot that starts a new count of dirty pages while the device holds the last `count`
 * chains it took (device ops chains_held): records their device-writable buffers as dirty again,
 * since the device may write them after the count started.
 */
void virtq_mark_taken(struct virtq *q, unsigned int count);

/* Returns a chain to the driver with the number of bytes the device wrote into it. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* After pushes: whether the driver wants an interrupt now (§2.7.7, EVENT_IDX or NO_INTERRUPT). */
bool virtq_should_interrupt(struct virtq *q);

/*
 * Before going idle: asks the driver to kick on the next chain (avail_event with EVENT_IDX, else
 * clears NO_NOTIFY). Returns true if a chain arrived meanwhile, so the caller must not sleep.
 */
bool virtq_enable_kicks(struct virtq *q);

/* While busy: the driver need not kick (sets NO_NOTIFY; with EVENT_IDX nothing to do). */
void virtq_disable_kicks(struct virtq *q);

/* Whether the avail ring holds chains not taken yet (never, once the queue is broken). */
bool virtq_has_avail(const struct virtq *q);

#endif
