/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues, device side (virtio 1.2 §2.7). The driver is hostile: ring addresses are
 * checked once at virtq_init, every descriptor is copied once out of guest memory and only the
 * checked copy is used, and any rule broken marks the queue broken for good.
 *
 * Memory ordering. The driver and the device share three rings without locks:
 * - avail->idx is the driver's publication of ring entries and descriptors: loaded with acquire,
 *   pairing with the driver's write barrier before it stores idx (§2.7.13.3).
 * - used->idx is the device's publication of used entries: stored with release, pairing with the
 *   driver's read barrier after it loads idx (§2.7.14).
 * - notification suppression needs a full fence where each side stores one field and then loads
 *   the other's (§2.7.7, §2.7.10), or both may miss each other's update and sleep forever.
 */
#include "virtio/queue.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

/* virtio 1.2 §2.7.5.2: a chain is at most 2^32 bytes; kiln keeps it within a u32 (used len). */
#define VIRTQ_MAX_CHAIN_BYTES UINT32_MAX

/* Ring sizes in guest memory (§2.7.5, §2.7.6, §2.7.8), event fields included. */
static uint64_t virtq_desc_bytes(uint16_t size)
{
	return 16 * (uint64_t)size;
}

static uint64_t virtq_avail_bytes(uint16_t size)
{
	return 6 + 2 * (uint64_t)size;
}

static uint64_t virtq_used_bytes(uint16_t size)
{
	return 6 + 8 * (uint64_t)size;
}

/* used_event: the last entry of the avail ring, written by the driver (§2.7.7, EVENT_IDX). */
static uint16_t *virtq_used_event(const struct virtq *q)
{
	return &q->avail->ring[q->size];
}

/* avail_event: the last entry of the used ring, written by the device (§2.7.10, EVENT_IDX). */
static uint16_t *virtq_avail_event(const struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

static uint16_t virtq_load_avail_idx(const struct virtq *q)
{
	/* Acquire: pairs with the driver's wmb before its store of avail->idx (§2.7.13.3), so the
	 * ring entries and descriptors it published are visible to the loads that follow. */
	return le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));
}

/* Host pointer to a guest structure of len bytes at gpa, aligned to align in both spaces. */
static void *virtq_map(const struct gmem *mem, gpa_t gpa, uint64_t len, uint64_t align)
{
	void *p;

	if (gpa % align != 0)
		return NULL;
	p = gmem_ptr(mem, gpa, len);
	if (p == NULL || (uintptr_t)p % align != 0)
		return NULL;
	return p;
}

static bool virtq_size_valid(uint16_t size)
{
	/* §2.7: Queue Size is a power of 2, at most 32768. */
	return size != 0 && size <= VIRTQ_MAX_SIZE && (size & (size - 1)) == 0;
}

/* [a, a + alen) and [b, b + blen) share a byte; both ranges were checked to lie in RAM. */
static bool virtq_ranges_overlap(gpa_t a, uint64_t alen, gpa_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * The spec has no word on overlapping rings, but the device writes the used ring while the driver
 * owns the other two: a used ring over the descriptors or the avail ring lets a driver make the
 * device rewrite what it is parsing. No real driver does it, so kiln refuses it.
 */
static bool virtq_rings_overlap(uint16_t size, gpa_t desc, gpa_t avail, gpa_t used)
{
	return virtq_ranges_overlap(desc, virtq_desc_bytes(size), avail, virtq_avail_bytes(size)) ||
	       virtq_ranges_overlap(desc, virtq_desc_bytes(size), used, virtq_used_bytes(size)) ||
	       virtq_ranges_overlap(avail, virtq_avail_bytes(size), used, virtq_used_bytes(size));
}

int virtq_init(struct virtq *q, const struct gmem *mem, uint16_t size, gpa_t desc, gpa_t avail,
	       gpa_t used, bool event_idx)
{
	/* A queue that failed to initialize stays broken, so a stray pop cannot touch anything. */
	memset(q, 0, sizeof(*q));
	q->broken = true;
	if (!virtq_size_valid(size))
		return -EINVAL;
	/* §2.7, §2.7.1: desc 16, avail 2, used 4 byte aligned; sizes include the event fields. */
	q->desc = virtq_map(mem, desc, virtq_desc_bytes(size), 16);
	q->avail = virtq_map(mem, avail, virtq_avail_bytes(size), 2);
	q->used = virtq_map(mem, used, virtq_used_bytes(size), 4);
	if (q->desc == NULL || q->avail == NULL || q->used == NULL)
		goto unmapped;
	if (virtq_rings_overlap(size, desc, avail, used))
		goto unmapped;
	q->mem = mem;
	q->used_gpa = used;
	q->size = size;
	q->event_idx = event_idx;
	q->broken = false;
	return 0;

unmapped:
	q->desc = NULL;
	q->avail = NULL;
	q->used = NULL;
	return -EINVAL;
}

/* Host byte ranges of one queue's rings, in the order desc, avail, used. */
static void virtq_host_ranges(const struct virtq *q, uintptr_t start[3], uint64_t len[3])
{
	start[0] = (uintptr_t)q->desc;
	start[1] = (uintptr_t)q->avail;
	start[2] = (uintptr_t)q->used;
	len[0] = virtq_desc_bytes(q->size);
	len[1] = virtq_avail_bytes(q->size);
	len[2] = virtq_used_bytes(q->size);
}

bool virtq_overlaps(const struct virtq *a, const struct virtq *b)
{
	uintptr_t as[3], bs[3];
	uint64_t al[3], bl[3];

	if (a->used == NULL || b->used == NULL)
		return false;
	virtq_host_ranges(a, as, al);
	virtq_host_ranges(b, bs, bl);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (as[i] < bs[j] + bl[j] && bs[j] < as[i] + al[i])
				return true;
	return false;
}

/*
 * A queue that was never mapped (reset, never ready, failed to initialize) has no rings: the
 * calls that write or read the rings do nothing on it. Devices should not make them, but a race
 * with a reset must not become a NULL dereference.
 */
static bool virtq_mapped(const struct virtq *q)
{
	return q->used != NULL;
}

static int virtq_break(struct virtq *q)
{
	q->broken = true;
	return -EBADMSG;
}

/*
 * Copies one descriptor out of guest memory, once. The compiler barrier keeps the compiler from
 * re-reading guest memory in place of the copy; the driver may change it at any moment.
 */
static void virtq_copy_desc(struct virtq_desc *dst, const struct virtq_desc *src)
{
	memcpy(dst, src, sizeof(*dst));
	__asm__ __volatile__("" ::: "memory");
	dst->addr = le64toh(dst->addr);
	dst->len = le32toh(dst->len);
	dst->flags = le16toh(dst->flags);
	dst->next = le16toh(dst->next);
}

/* The state of one chain walk across the descriptor table and at most one indirect table. */
struct virtq_walk {
	struct virtq *q;
	struct virtq_elem *e;
	unsigned int iov_cap;
	unsigned int ndesc;   /* buffer descriptors seen, direct and indirect */
	bool seen_write;      /* a device-writable buffer came already */
	bool mark_only;       /* virtq_mark_taken: record the writable buffers, take nothing */
};

/*
 * The device writes the used ring and the buffers the driver made device-writable, from
 * userspace, where KVM's dirty log does not see it: each such range is recorded in kiln's own
 * (gmem_mark_dirty, a flag test unless the VM tracks dirty pages). A writable buffer is recorded
 * when its chain is taken, before the device writes it.
 */
static void virtq_mark_used(const struct virtq *q, uint64_t offset, uint64_t len)
{
	gmem_mark_dirty(q->mem, q->used_gpa + offset, len);
}

/* Adds one checked buffer descriptor to the element. 0 or -EBADMSG. */
static int virtq_add_buffer(struct virtq_walk *w, const struct virtq_desc *d)
{
	struct virtq_elem *e = w->e;
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	void *host;

	/* §2.7.5.3.1: a chain holds at most Queue Size descriptors; this also ends any loop.
	 * Counted are buffers, direct and indirect; a descriptor naming a table is not one. */
	if (++w->ndesc > w->q->size)
		return -EBADMSG;
	/* §2.7.4.2: device-writable buffers come after every device-readable one. */
	if (!write && w->seen_write)
		return -EBADMSG;
	w->seen_write |= write;
	/* §2.7.5.2: at most 2^32 bytes per chain; lengths are u32, so the sum cannot wrap u64. */
	if (e->out_len + e->in_len + d->len > VIRTQ_MAX_CHAIN_BYTES)
		return -EBADMSG;
	if (d->len == 0)
		return 0;
	host = gmem_ptr(w->q->mem, d->addr, d->len);
	if (host == NULL)
		return -EBADMSG;
	if (write)
		gmem_mark_dirty(w->q->mem, d->addr, d->len);
	if (w->mark_only)
		return 0;
	if (e->out_num + e->in_num == w->iov_cap)
		return -EBADMSG;
	e->iov[e->out_num + e->in_num] = (struct iovec){ .iov_base = host, .iov_len = d->len };
	if (write) {
		e->in_num++;
		e->in_len += d->len;
	} else {
		e->out_num++;
		e->out_len += d->len;
	}
	return 0;
}

/*
 * Walks the indirect table that descriptor d points at (§2.7.5.3): a non-zero multiple of 16
 * bytes, at most Queue Size entries, wholly in guest RAM, chained from entry 0, never nested.
 */
static int virtq_walk_indirect(struct virtq_walk *w, const struct virtq_desc *d)
{
	const struct virtq_desc *table;
	uint32_t entries = d->len / sizeof(struct virtq_desc);
	struct virtq_desc cur;
	uint16_t i = 0;

	if (d->len == 0 || d->len % sizeof(struct virtq_desc) != 0 || entries > w->q->size)
		return -EBADMSG;
	table = gmem_ptr(w->q->mem, d->addr, d->len);
	if (table == NULL)
		return -EBADMSG;
	for (;;) {
		int err;

		if (i >= entries)
			return -EBADMSG;
		virtq_copy_desc(&cur, &table[i]);
		/* §2.7.5.3.1: no INDIRECT inside an indirect table. */
		if (cur.flags & VIRTQ_DESC_F_INDIRECT)
			return -EBADMSG;
		err = virtq_add_buffer(w, &cur);
		if (err)
			return err;
		if (!(cur.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = cur.next;
	}
}

/* Walks the chain from head in the descriptor table; an INDIRECT descriptor ends it. */
static int virtq_walk_chain(struct virtq_walk *w, uint16_t head)
{
	struct virtq *q = w->q;
	struct virtq_desc cur;
	uint16_t i = head;

	for (;;) {
		int err;

		/* §2.7.5: head and next index the descriptor table. */
		if (i >= q->size)
			return -EBADMSG;
		virtq_copy_desc(&cur, &q->desc[i]);
		if (cur.flags & VIRTQ_DESC_F_INDIRECT) {
			/* §2.7.5.3.1: the driver MUST NOT set both INDIRECT and NEXT. Its
			 * WRITE flag is ignored (§2.7.5.3.2). */
			if (cur.flags & VIRTQ_DESC_F_NEXT)
				return -EBADMSG;
			return virtq_walk_indirect(w, &cur);
		}
		err = virtq_add_buffer(w, &cur);
		if (err)
			return err;
		if (!(cur.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = cur.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_elem *e, struct iovec *iov, unsigned int iov_cap)
{
	struct virtq_walk w = { .q = q, .e = e, .iov_cap = iov_cap };
	uint16_t avail_idx, pending, head;

	if (q->broken)
		return -EBADMSG;
	avail_idx = virtq_load_avail_idx(q);
	pending = (uint16_t)(avail_idx - q->next_avail);
	if (pending == 0)
		return 0;
	/* §2.7.13: the ring holds at most Queue Size chains: idx runs at most that far ahead. */
	if (pending > q->size)
		return virtq_break(q);
	/* Read the ring entry once (§2.7.6); the acquire above ordered it after idx. */
	head = le16toh(__atomic_load_n(&q->avail->ring[q->next_avail & (q->size - 1)],
				       __ATOMIC_RELAXED));
	*e = (struct virtq_elem){ .head = head, .iov = iov };
	if (virtq_walk_chain(&w, head) != 0)
		return virtq_break(q);
	q->next_avail++;
	return 1;
}

/*
 * The last `count` chains taken were walked when taken; walking them again marks their writable
 * buffers anew, for a device that still holds them. A driver that changed them since (they are
 * the device's until used) gets its own pages' marks wrong, no more: nothing is taken, and a walk
 * that fails now does not break the queue.
 */
void virtq_mark_taken(struct virtq *q, unsigned int count)
{
	struct virtq_elem e;

	if (q->broken || count > q->size)
		return;
	for (uint16_t i = (uint16_t)(q->next_avail - count); i != q->next_avail; i++) {
		struct virtq_walk w = { .q = q, .e = &e, .mark_only = true };
		uint16_t head = le16toh(__atomic_load_n(&q->avail->ring[i & (q->size - 1)], __ATOMIC_RELAXED));

		e = (struct virtq_elem){ .head = head };
		(void)virtq_walk_chain(&w, head);
	}
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	if (!virtq_mapped(q))
		return;
	uint16_t at = q->next_used & (q->size - 1);
	struct virtq_used_elem *slot = &q->used->ring[at];

	/* §2.7.8: id is the head of the chain, len the bytes written into it. */
	__atomic_store_n(&slot->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&slot->len, htole32(written), __ATOMIC_RELAXED);
	virtq_mark_used(q, offsetof(struct virtq_used, ring) + at * sizeof(*slot), sizeof(*slot));
	virtq_mark_used(q, offsetof(struct virtq_used, idx), sizeof(q->used->idx));
	q->next_used++;
	/* Release: the entry is visible before the idx that publishes it; pairs with the driver's
	 * rmb after it loads used->idx (§2.7.14). */
	__atomic_store_n(&q->used->idx, htole16(q->next_used), __ATOMIC_RELEASE);
}

/*
 * §2.7.7.2 (vring_need_event): interrupt when used_event lies in [old, new), that is when the
 * driver asked to hear of the entry published at index used_event and it came in this batch.
 */
static bool virtq_need_event(uint16_t used_event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - used_event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_interrupt(struct virtq *q)
{
	uint16_t old_idx = q->signalled_used;
	bool old_valid = q->signalled_used_valid;

	if (!virtq_mapped(q))
		return false;

	/*
	 * Full fence: our used->idx store must be visible before we read avail->flags or
	 * used_event. The driver does the mirror image (updates used_event or flags, fence, rereads
	 * used->idx); with anything weaker both sides can read stale values and the interrupt the
	 * driver waits for is never sent (§2.7.7, §2.7.14).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx) {
		uint16_t flags = le16toh(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED));

		/* §2.7.7.2: without EVENT_IDX the driver asks for silence with NO_INTERRUPT. */
		return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	q->signalled_used = q->next_used;
	q->signalled_used_valid = true;
	/* Nothing signalled yet on this queue: no batch to compare against. */
	if (!old_valid)
		return true;
	return virtq_need_event(le16toh(__atomic_load_n(virtq_used_event(q), __ATOMIC_RELAXED)),
				q->next_used, old_idx);
}

bool virtq_has_avail(const struct virtq *q)
{
	/* A broken queue takes nothing more, so it has nothing to offer. */
	if (q->broken)
		return false;
	return virtq_load_avail_idx(q) != q->next_avail;
}

bool virtq_enable_kicks(struct virtq *q)
{
	if (!virtq_mapped(q))
		return false;
	if (q->event_idx) { /* §2.7.10: kick when the entry at next_avail is published */
		__atomic_store_n(virtq_avail_event(q), htole16(q->next_avail), __ATOMIC_RELAXED);
		virtq_mark_used(q, offsetof(struct virtq_used, ring) + q->size * sizeof(struct virtq_used_elem),
				sizeof(uint16_t));
	} else { /* §2.7.10: clear NO_NOTIFY, the only used flag the device sets */
		__atomic_store_n(&q->used->flags, htole16(0), __ATOMIC_RELAXED);
		virtq_mark_used(q, offsetof(struct virtq_used, flags), sizeof(q->used->flags));
	}
	/*
	 * Full fence: the store above must be visible before avail->idx is read again. The driver
	 * stores avail->idx, fences, then reads our flags or avail_event (§2.7.13.4); so either it
	 * sees the kick request, or we see its new chain here.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_has_avail(q);
}

void virtq_disable_kicks(struct virtq *q)
{
	if (!virtq_mapped(q))
		return;
	/* §2.7.10: with EVENT_IDX, avail_event alone governs kicks; nothing to do. */
	if (q->event_idx)
		return;
	__atomic_store_n(&q->used->flags, htole16(VIRTQ_USED_F_NO_NOTIFY), __ATOMIC_RELAXED);
	virtq_mark_used(q, offsetof(struct virtq_used, flags), sizeof(q->used->flags));
}
