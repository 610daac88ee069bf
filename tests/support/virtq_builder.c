/* SPDX-License-Identifier: Apache-2.0 */
/* A test "driver" for split virtqueues; see virtq_builder.h. */
#include "support/virtq_builder.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VQB_RING_ALIGN 4096
#define VQB_BUF_ALIGN 16

static void vqb_fail(const char *what)
{
	fprintf(stderr, "virtq_builder: %s\n", what);
	abort();
}

/* Host pointer to [gpa, gpa + len) in the builder's RAM; aborts when it is not all there. */
static void *vqb_range(const struct virtq_builder *b, gpa_t gpa, uint64_t len)
{
	void *p = gmem_ptr(&b->mem, gpa, len);

	if (p == NULL)
		vqb_fail("address outside the builder's RAM");
	return p;
}

static void vqb_put16(const struct virtq_builder *b, gpa_t gpa, uint16_t v)
{
	uint16_t le = htole16(v);

	memcpy(vqb_range(b, gpa, sizeof(le)), &le, sizeof(le));
}

static uint16_t vqb_get16(const struct virtq_builder *b, gpa_t gpa)
{
	uint16_t le;

	memcpy(&le, vqb_range(b, gpa, sizeof(le)), sizeof(le));
	return le16toh(le);
}

static uint32_t vqb_get32(const struct virtq_builder *b, gpa_t gpa)
{
	uint32_t le;

	memcpy(&le, vqb_range(b, gpa, sizeof(le)), sizeof(le));
	return le32toh(le);
}

/* Writes one descriptor (virtio 1.2 §2.7.5) at host address dst. */
static void vqb_write_desc(void *dst, gpa_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {
		.addr = htole64(addr),
		.len = htole32(len),
		.flags = htole16(flags),
		.next = htole16(next),
	};

	memcpy(dst, &d, sizeof(d));
}

static uint16_t vqb_seg_flags(const struct vqb_seg *seg, bool more)
{
	return (seg->write ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0);
}

/* Lays the rings of a queue of `size` entries out from base, buffers after them up to data_end. */
static void vqb_layout(struct virtq_builder *b, uint16_t size, gpa_t base, gpa_t data_end)
{
	if (size == 0)
		vqb_fail("queue size 0");
	b->size = size;
	b->desc = base;
	b->avail = ALIGN_UP(b->desc + 16 * (uint64_t)size, VQB_RING_ALIGN);
	b->used = ALIGN_UP(b->avail + 6 + 2 * (uint64_t)size, VQB_RING_ALIGN);
	b->data_next = ALIGN_UP(b->used + 6 + 8 * (uint64_t)size, VQB_RING_ALIGN);
	b->data_end = data_end;
	if (b->data_next > data_end)
		vqb_fail("RAM too small for the rings");
}

void vqb_init(struct virtq_builder *b, uint16_t size, size_t ram_size)
{
	memset(b, 0, sizeof(*b));
	vqb_layout(b, size, 0, ram_size);
	b->ram = calloc(1, ram_size);
	if (b->ram == NULL)
		vqb_fail("out of memory");
	b->ram_size = ram_size;
	b->owns_ram = true;
	if (gmem_add_region(&b->mem, 0, b->ram, ram_size) != 0)
		vqb_fail("gmem_add_region failed");
}

void vqb_init_window(struct virtq_builder *b, uint16_t size, uint8_t *ram, size_t ram_size, gpa_t base,
		     size_t span)
{
	memset(b, 0, sizeof(*b));
	if (base > ram_size || span > ram_size - base)
		vqb_fail("window outside the RAM");
	vqb_layout(b, size, base, base + span);
	b->ram = ram;
	b->ram_size = ram_size;
	memset(ram + base, 0, span);
	if (gmem_add_region(&b->mem, 0, ram, ram_size) != 0)
		vqb_fail("gmem_add_region failed");
}

void vqb_free(struct virtq_builder *b)
{
	if (b->owns_ram)
		free(b->ram);
	memset(b, 0, sizeof(*b));
}

int vqb_queue(struct virtq_builder *b, struct virtq *q, bool event_idx)
{
	return virtq_init(q, &b->mem, b->size, b->desc, b->avail, b->used, event_idx);
}

gpa_t vqb_alloc(struct virtq_builder *b, size_t len)
{
	gpa_t gpa = b->data_next;

	if (len > b->data_end - gpa)
		vqb_fail("RAM too small for vqb_alloc");
	memset(b->ram + gpa, 0, len);
	b->data_next = ALIGN_UP(gpa + len, VQB_BUF_ALIGN);
	if (b->data_next > b->data_end)
		b->data_next = b->data_end;
	return gpa;
}

void *vqb_host(struct virtq_builder *b, gpa_t gpa)
{
	return vqb_range(b, gpa, 0);
}

void vqb_set_desc(struct virtq_builder *b, uint16_t i, gpa_t addr, uint32_t len, uint16_t flags,
		  uint16_t next)
{
	if (i >= b->size)
		vqb_fail("descriptor slot out of range");
	vqb_write_desc(vqb_range(b, b->desc + 16 * (uint64_t)i, 16), addr, len, flags, next);
}

/* Takes the next free descriptor slot. */
static uint16_t vqb_take_slot(struct virtq_builder *b)
{
	uint16_t i = b->next_desc;

	b->next_desc = (uint16_t)((i + 1) % b->size);
	return i;
}

uint16_t vqb_chain(struct virtq_builder *b, const struct vqb_seg *segs, unsigned int n)
{
	if (n == 0 || n > b->size)
		vqb_fail("vqb_chain: bad segment count");
	uint16_t head = vqb_take_slot(b);
	uint16_t cur = head;

	for (unsigned int k = 0; k < n; k++) {
		bool more = k + 1 < n;
		uint16_t next = more ? vqb_take_slot(b) : 0;
		uint16_t flags = vqb_seg_flags(&segs[k], more);

		vqb_set_desc(b, cur, segs[k].addr, segs[k].len, flags, next);
		cur = next;
	}
	return head;
}

uint16_t vqb_indirect_chain(struct virtq_builder *b, const struct vqb_seg *segs, unsigned int n)
{
	if (n == 0 || n > UINT16_MAX)
		vqb_fail("vqb_indirect_chain: bad segment count");
	size_t table_len = 16 * (size_t)n;
	gpa_t table = vqb_alloc(b, table_len);
	uint8_t *host = vqb_range(b, table, table_len);

	/* virtio 1.2 §2.7.5.3: the table is chained from entry 0 by next indices within it. */
	for (unsigned int k = 0; k < n; k++) {
		bool more = k + 1 < n;

		vqb_write_desc(host + 16 * (size_t)k, segs[k].addr, segs[k].len,
			       vqb_seg_flags(&segs[k], more), more ? (uint16_t)(k + 1) : 0);
	}
	uint16_t slot = vqb_take_slot(b);

	vqb_set_desc(b, slot, table, (uint32_t)table_len, VIRTQ_DESC_F_INDIRECT, 0);
	return slot;
}

void vqb_publish(struct virtq_builder *b, uint16_t head)
{
	vqb_put16(b, b->avail + 4 + 2 * (uint64_t)(b->avail_idx % b->size), head);
	b->avail_idx++;
	/* virtio 1.2 §2.7.13.3: the ring entry is visible before the new idx (a driver's wmb). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vqb_put16(b, b->avail + 2, b->avail_idx);
}

void vqb_set_avail_idx(struct virtq_builder *b, uint16_t idx)
{
	b->avail_idx = idx;
	vqb_put16(b, b->avail + 2, idx);
}

uint16_t vqb_used_idx(const struct virtq_builder *b)
{
	return vqb_get16(b, b->used + 2);
}

struct virtq_used_elem vqb_used(const struct virtq_builder *b, uint16_t i)
{
	gpa_t elem = b->used + 4 + 8 * (uint64_t)(i % b->size);

	return (struct virtq_used_elem){ .id = vqb_get32(b, elem), .len = vqb_get32(b, elem + 4) };
}

void vqb_set_used_event(struct virtq_builder *b, uint16_t v)
{
	vqb_put16(b, b->avail + 4 + 2 * (uint64_t)b->size, v);
}

uint16_t vqb_avail_event(const struct virtq_builder *b)
{
	return vqb_get16(b, b->used + 4 + 8 * (uint64_t)b->size);
}

void vqb_set_avail_flags(struct virtq_builder *b, uint16_t flags)
{
	vqb_put16(b, b->avail, flags);
}

uint16_t vqb_used_flags(const struct virtq_builder *b)
{
	return vqb_get16(b, b->used);
}
