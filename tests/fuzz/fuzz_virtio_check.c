/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio fuzz harness's invariants (see fuzz_virtio_common.h).
 *
 * The device-writable mask is read from the shadow, the memory as the driver wrote it, so a
 * device that writes into a ring cannot widen its own permission. Every descriptor in a live
 * queue's table (and in the indirect tables they name) that is device-writable adds its buffer;
 * the used rings are added whole. The mask only grows during a run: a chain the device took as
 * writable stays writable to it after the driver rewrites the descriptor.
 */
#include "fuzz/fuzz_virtio_check.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/queue.h"

/*
 * The checks' own loops are not what the fuzzer should explore, and tracing their comparisons
 * cost most of each run: they are built without coverage instrumentation.
 */
#define FV_UNTRACED __attribute__((no_sanitize("coverage")))

#define FV_MAX_SPANS 4096
#define FV_BLOCK_SHIFT 4 /* the overlap test works on 16-byte blocks: coarser only taints more */
#define FV_BLOCKS (FV_RAM_SIZE >> FV_BLOCK_SHIFT)

struct fv_span {
	uint64_t lo, hi; /* [lo, hi) inside RAM */
};

struct fv_spans {
	struct fv_span s[FV_MAX_SPANS];
	unsigned int n;
	bool overflow;
};

/* Device-writable buffers, driver structures (desc tables, avail rings, indirect tables), used rings. */
static struct fv_spans fv_writable, fv_structs, fv_used_rings;

FV_UNTRACED static void fv_span_add(struct fv_spans *l, uint64_t gpa, uint64_t len)
{
	if (gpa >= FV_RAM_SIZE || len == 0)
		return;
	if (l->n == FV_MAX_SPANS) {
		l->overflow = true;
		return;
	}
	l->s[l->n++] = (struct fv_span){ gpa, len < FV_RAM_SIZE - gpa ? gpa + len : FV_RAM_SIZE };
}

static uint64_t fv_gpa(const struct fv *f, const void *host)
{
	return (uint64_t)((const uint8_t *)host - f->ram);
}

/* Descriptor i of the table at gpa, as the driver wrote it; false when it is not all in RAM. */
FV_UNTRACED static bool fv_shadow_desc(const struct fv *f, uint64_t gpa, uint32_t i, struct virtq_desc *d)
{
	uint64_t at = gpa + 16ull * i;

	if (at > FV_RAM_SIZE - sizeof(*d))
		return false;
	memcpy(d, f->shadow + at, sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	return true;
}

/* The writable buffers of a descriptor table of n entries; indirect tables one level down. */
FV_UNTRACED static void fv_scan_table(const struct fv *f, uint64_t gpa, uint32_t n, uint16_t qsize, bool top)
{
	struct virtq_desc d;

	for (uint32_t i = 0; i < n && fv_shadow_desc(f, gpa, i, &d); i++) {
		if (!(d.flags & VIRTQ_DESC_F_INDIRECT)) {
			if (d.flags & VIRTQ_DESC_F_WRITE)
				fv_span_add(&fv_writable, d.addr, d.len);
		} else if (top && d.len % 16 == 0) {
			fv_span_add(&fv_structs, d.addr, d.len);
			fv_scan_table(f, d.addr, d.len / 16 < qsize ? d.len / 16 : qsize, qsize, false);
		}
	}
}

static bool fv_overlap(const struct fv_span *a, const struct fv_span *b)
{
	return a->lo < b->hi && b->lo < a->hi;
}

/* Whether a writable buffer lies over a driver structure or a used ring (16-byte blocks). */
FV_UNTRACED static bool fv_buffers_over_rings(void)
{
	static uint32_t sum[FV_BLOCKS + 1];
	static uint8_t mark[FV_BLOCKS];
	const struct fv_spans *lists[] = { &fv_structs, &fv_used_rings };

	if (fv_writable.n == 0)
		return false;
	memset(mark, 0, sizeof(mark));
	for (unsigned int l = 0; l < 2; l++)
		for (unsigned int i = 0; i < lists[l]->n; i++)
			memset(mark + (lists[l]->s[i].lo >> FV_BLOCK_SHIFT), 1,
			       ((lists[l]->s[i].hi - 1) >> FV_BLOCK_SHIFT) - (lists[l]->s[i].lo >> FV_BLOCK_SHIFT) + 1);
	for (unsigned int b = 0; b < FV_BLOCKS; b++)
		sum[b + 1] = sum[b] + mark[b];
	for (unsigned int i = 0; i < fv_writable.n; i++) {
		const struct fv_span *w = &fv_writable.s[i];

		if (sum[((w->hi - 1) >> FV_BLOCK_SHIFT) + 1] != sum[w->lo >> FV_BLOCK_SHIFT])
			return true;
	}
	return false;
}

/* Whether a used ring lies over another used ring or a driver structure. */
FV_UNTRACED static bool fv_used_over_rings(void)
{
	for (unsigned int i = 0; i < fv_used_rings.n; i++) {
		for (unsigned int j = 0; j < fv_structs.n; j++)
			if (fv_overlap(&fv_used_rings.s[i], &fv_structs.s[j]))
				return true;
		for (unsigned int j = i + 1; j < fv_used_rings.n; j++)
			if (fv_overlap(&fv_used_rings.s[i], &fv_used_rings.s[j]))
				return true;
	}
	return false;
}

static int fv_span_cmp(const void *a, const void *b)
{
	const struct fv_span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Adds the spans of l to the mask, merged first so that each byte is set once. */
FV_UNTRACED static void fv_mask_add(struct fv *f, struct fv_spans *l)
{
	qsort(l->s, l->n, sizeof(l->s[0]), fv_span_cmp);
	for (unsigned int i = 0; i < l->n;) {
		uint64_t lo = l->s[i].lo, hi = l->s[i].hi;

		for (i++; i < l->n && l->s[i].lo <= hi; i++)
			hi = l->s[i].hi > hi ? l->s[i].hi : hi;
		memset(f->may_write + lo, 1, hi - lo);
	}
}

FV_UNTRACED static void fv_update_mask(struct fv *f)
{
	fv_writable.n = fv_structs.n = fv_used_rings.n = 0;
	fv_writable.overflow = fv_structs.overflow = fv_used_rings.overflow = false;
	for (unsigned int i = 0; i < f->dev->num_queues; i++) {
		const struct virtq *q = &f->dev->queues[i];

		if (q->mem == NULL) /* rings never mapped */
			continue;
		fv_span_add(&fv_structs, fv_gpa(f, q->desc), 16ull * q->size);
		fv_span_add(&fv_structs, fv_gpa(f, q->avail), 6 + 2ull * q->size);
		fv_span_add(&fv_used_rings, fv_gpa(f, q->used), 6 + 8ull * q->size);
		fv_scan_table(f, fv_gpa(f, q->desc), q->size, q->size, true);
	}
	if (fv_writable.overflow || fv_structs.overflow || fv_used_over_rings() || fv_buffers_over_rings())
		f->tainted = true;
	fv_mask_add(f, &fv_writable);
	fv_mask_add(f, &fv_used_rings);
	f->mask_stale = false;
}

void fv_prepare(struct fv *f)
{
	if (f->mask_stale && !f->tainted)
		fv_update_mask(f);
}

/* --- after a step ------------------------------------------------------------------------------ */

static uint32_t fv_reg(struct fv *f, uint64_t offset)
{
	uint32_t v = 0;

	bus_access(&f->bus, FV_BASE + offset, &v, 4, false);
	return v;
}

/* §2.4, §4.2.2: after a reset everything the driver set up reads as new. */
static void fv_check_reset(struct fv *f, uint32_t status)
{
	fv_check(status == 0);
	fv_check(fv_reg(f, FV_REG_INTERRUPT_STATUS) == 0);
	for (uint32_t q = 0; q < f->dev->num_queues; q++) {
		bus_access(&f->bus, FV_BASE + FV_REG_QUEUE_SEL, &q, 4, true);
		fv_check(fv_reg(f, FV_REG_QUEUE_READY) == 0);
	}
	uint32_t zero = 0; /* the reset left QueueSel 0: leave it so */

	bus_access(&f->bus, FV_BASE + FV_REG_QUEUE_SEL, &zero, 4, true);
}

FV_UNTRACED static void fv_check_memory(struct fv *f, bool running)
{
	if (memcmp(f->ram, f->shadow, FV_RAM_SIZE) == 0)
		return;
	fv_check(running); /* a device the driver has not started, or has reset, touches nothing */
	if (!f->tainted)
		fv_update_mask(f); /* rings that came up in this step */
	for (size_t i = 0; !f->tainted && i < FV_RAM_SIZE; i += 64) {
		if (memcmp(f->ram + i, f->shadow + i, 64) == 0)
			continue;
		for (size_t j = i; j < i + 64; j++)
			fv_check(f->ram[j] == f->shadow[j] || f->may_write[j]);
	}
	memcpy(f->shadow, f->ram, FV_RAM_SIZE);
}

/* The chains popped (their heads from the avail ring) and pushed (ids from the used ring). */
FV_UNTRACED static void fv_check_heads(struct fv_track *t, const struct virtq *q, uint16_t pops,
				      uint16_t pushes)
{
	uint16_t mask = q->size - 1; /* virtq_init took only powers of two */

	for (uint16_t k = 0; k < pops; k++) {
		uint16_t head = le16toh(q->avail->ring[(uint16_t)(t->next_avail + k) & mask]);

		fv_check(head < q->size);
		t->held[head]++;
	}
	for (uint16_t k = 0; k < pushes; k++) {
		uint32_t id = le32toh(q->used->ring[(uint16_t)(t->next_used + k) & mask].id);

		fv_check(id < q->size && t->held[id] > 0); /* only chains the device holds */
		t->held[id]--;
	}
	if (pushes > 0)
		fv_check(le16toh(q->used->idx) == q->next_used);
}

static void fv_check_rings(struct fv *f, bool running)
{
	for (unsigned int i = 0; i < f->dev->num_queues; i++) {
		const struct virtq *q = &f->dev->queues[i];
		struct fv_track *t = &f->track[i];

		if (!running || q->mem == NULL) {
			t->live = false;
			continue;
		}
		fv_check(q->size <= FV_MAX_QSIZE);
		if (!t->live) /* rings mapped in this step: virtq_init started both indices at 0 */
			*t = (struct fv_track){ .live = true, .heads_ok = true };
		uint16_t pops = (uint16_t)(q->next_avail - t->next_avail);
		uint16_t pushes = (uint16_t)(q->next_used - t->next_used);

		t->pops += pops;
		t->pushes += pushes;
		fv_check(t->pushes <= t->pops); /* used->idx moves by at most the chains popped */
		if (f->tainted || pops > q->size || pushes > q->size)
			t->heads_ok = false;
		if (t->heads_ok)
			fv_check_heads(t, q, pops, pushes);
		t->next_avail = q->next_avail;
		t->next_used = q->next_used;
	}
}

void fv_observe(struct fv *f, bool reset, bool memory)
{
	uint32_t before = f->status, now = fv_reg(f, FV_REG_STATUS);
	uint64_t irqs;
	bool signalled = read(f->irq_fd, &irqs, sizeof(irqs)) == sizeof(irqs);

	if (reset) {
		fv_check_reset(f, now);
	} else {
		fv_check((before & ~now) == 0); /* §2.1.2: bits are only added; NEEDS_RESET stays */
		if (signalled)
			fv_check(fv_reg(f, FV_REG_INTERRUPT_STATUS) != 0);
	}
	fv_check(!(now & FV_DRIVER_OK) || (now & FV_FEATURES_OK));
	f->status = now;
	if (memory)
		fv_check_memory(f, ((before | now) & FV_DRIVER_OK) != 0);
	fv_check_rings(f, (now & FV_DRIVER_OK) != 0);
}
