/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test "driver" for split virtqueues (virtio 1.2 §2.7): a calloc'd buffer plays guest RAM (one
 * region at gpa 0), the three rings sit at fixed offsets in it, and helpers lay out good and
 * malformed descriptor chains, publish them and read back what the device used.
 *
 * Layout for a queue of `size` entries (each ring starts on a 4 KiB boundary):
 *   desc  at 0,                        16 * size bytes
 *   avail at ALIGN_UP(16 * size, 4K),  6 + 2 * size bytes (used_event last)
 *   used  after avail, 4 KiB aligned,  6 + 8 * size bytes (avail_event last)
 *   buffers from vqb_alloc() after that (16-byte aligned, zeroed).
 * Misuse of the builder itself (RAM too small, bad arguments) aborts the test program.
 */
#ifndef KILN_TESTS_SUPPORT_VIRTQ_BUILDER_H
#define KILN_TESTS_SUPPORT_VIRTQ_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/gmem.h"
#include "util.h"
#include "virtio/queue.h"

/* One buffer of a chain: device-readable (write false) or device-writable (write true). */
struct vqb_seg {
	gpa_t addr;
	uint32_t len;
	bool write;
};

struct virtq_builder {
	struct gmem mem;          /* one region: the buffer at gpa 0 */
	uint8_t *ram;
	size_t ram_size;
	uint16_t size;
	gpa_t desc, avail, used;  /* ring addresses inside ram */
	uint16_t avail_idx;       /* what the "driver" has published */
	uint16_t next_desc;       /* next free descriptor slot (wraps) */
	gpa_t data_next;          /* bump allocator for buffers ... */
	gpa_t data_end;           /* ... up to here */
	bool owns_ram;            /* vqb_init's calloc, not vqb_init_window's caller's RAM */
};

/* Zeroed RAM of ram_size bytes with the rings of a queue of `size` entries at fixed offsets. */
void vqb_init(struct virtq_builder *b, uint16_t size, size_t ram_size);
/*
 * The same layout in the window [base, base + span) of ram (ram_size bytes at gpa 0), which the
 * caller owns and may share with other builders (one per queue of a device): the rings start at
 * base (4 KiB aligned), buffers follow them up to base + span. The window is zeroed.
 */
void vqb_init_window(struct virtq_builder *b, uint16_t size, uint8_t *ram, size_t ram_size, gpa_t base,
		     size_t span);
/* Frees the RAM vqb_init made; a window's RAM stays its owner's. */
void vqb_free(struct virtq_builder *b);

/* virtq_init on the builder's rings; returns what virtq_init returned. */
int vqb_queue(struct virtq_builder *b, struct virtq *q, bool event_idx) MUST_CHECK;

/* A zeroed, 16-byte aligned buffer of len bytes in guest RAM (never reused). */
gpa_t vqb_alloc(struct virtq_builder *b, size_t len);

/* Host pointer to guest address gpa inside the builder's RAM, for checks. */
void *vqb_host(struct virtq_builder *b, gpa_t gpa);

/* Writes descriptor slot i as is (little-endian): anything, including malformed values. */
void vqb_set_desc(struct virtq_builder *b, uint16_t i, gpa_t addr, uint32_t len, uint16_t flags,
		  uint16_t next);

/* Lays segs[0..n) out in the next n descriptor slots, linked with NEXT; returns the head. */
uint16_t vqb_chain(struct virtq_builder *b, const struct vqb_seg *segs, unsigned int n);

/* Lays segs[0..n) out in a new indirect table and one INDIRECT descriptor slot; returns it. */
uint16_t vqb_indirect_chain(struct virtq_builder *b, const struct vqb_seg *segs, unsigned int n);

/* Puts head in the next avail ring entry, then publishes it by bumping avail->idx (release). */
void vqb_publish(struct virtq_builder *b, uint16_t head);

/* Overwrites avail->idx (and b->avail_idx) directly, e.g. to jump ahead of the ring. */
void vqb_set_avail_idx(struct virtq_builder *b, uint16_t idx);

/* The device's used->idx, and used ring entry i (taken modulo size). */
uint16_t vqb_used_idx(const struct virtq_builder *b);
struct virtq_used_elem vqb_used(const struct virtq_builder *b, uint16_t i);

/* Driver-owned fields (§2.7.6, §2.7.7) and the device-owned ones it reads (§2.7.10). */
void vqb_set_used_event(struct virtq_builder *b, uint16_t v);
uint16_t vqb_avail_event(const struct virtq_builder *b);
void vqb_set_avail_flags(struct virtq_builder *b, uint16_t flags);
uint16_t vqb_used_flags(const struct virtq_builder *b);

#endif
