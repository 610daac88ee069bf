/* SPDX-License-Identifier: Apache-2.0 */
/* virtio/queue.c: split virtqueues (virtio 1.2 §2.7) against good and hostile drivers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "support/virtq_builder.h"
#include "virtio/queue.h"

#define RAM_SIZE MiB(1)
#define QSIZE 16
#define IOV_CAP 8

struct fx {
	struct virtq_builder b;
	struct virtq q;
	struct virtq_elem e;
	struct iovec iov[IOV_CAP];
};

static int fx_setup(void **state, uint16_t size, bool event_idx)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	vqb_init(&f->b, size, RAM_SIZE);
	if (vqb_queue(&f->b, &f->q, event_idx) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return fx_setup(state, QSIZE, false);
}

static int setup_event_idx(void **state)
{
	return fx_setup(state, QSIZE, true);
}

static int setup_tiny(void **state)
{
	return fx_setup(state, 4, false);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vqb_free(&f->b);
	free(f);
	return 0;
}

static int pop(struct fx *f)
{
	return virtq_pop(&f->q, &f->e, f->iov, IOV_CAP);
}

/* A buffer of len bytes filled with byte. */
static gpa_t buf(struct fx *f, size_t len, uint8_t byte)
{
	gpa_t gpa = vqb_alloc(&f->b, len);

	memset(vqb_host(&f->b, gpa), byte, len);
	return gpa;
}

static void assert_iov(struct fx *f, unsigned int i, gpa_t gpa, size_t len)
{
	assert_ptr_equal(f->iov[i].iov_base, vqb_host(&f->b, gpa));
	assert_int_equal(f->iov[i].iov_len, len);
}

/* Publishes a one-buffer chain the device may read. */
static uint16_t publish_simple(struct fx *f)
{
	struct vqb_seg s = { buf(f, 8, 0x11), 8, false };
	uint16_t head = vqb_chain(&f->b, &s, 1);

	vqb_publish(&f->b, head);
	return head;
}

/* The queue is broken: this pop and every later one fail, and nothing was used. */
static void assert_broken(struct fx *f)
{
	assert_int_equal(pop(f), -EBADMSG);
	assert_true(f->q.broken);
	publish_simple(f);
	assert_int_equal(pop(f), -EBADMSG);
	assert_int_equal(pop(f), -EBADMSG);
	assert_false(virtq_has_avail(&f->q));
	assert_int_equal(vqb_used_idx(&f->b), 0);
	assert_int_equal(vqb_used(&f->b, 0).id, 0);
	assert_int_equal(vqb_used(&f->b, 0).len, 0);
}

/* --- virtq_init ------------------------------------------------------------------------------- */

static void test_init_sizes(void **state)
{
	static const uint16_t bad[] = { 0, 3, 6, 100, 32767, 32769, 65535 };
	struct virtq_builder b;
	struct virtq q;

	(void)state;
	vqb_init(&b, 32768, RAM_SIZE);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(virtq_init(&q, &b.mem, bad[i], b.desc, b.avail, b.used, false),
				 -EINVAL);
	assert_int_equal(virtq_init(&q, &b.mem, 32768, b.desc, b.avail, b.used, false), 0);
	assert_int_equal(virtq_init(&q, &b.mem, 1, b.desc, b.avail, b.used, true), 0);
	vqb_free(&b);
}

/* virtq_init of a QSIZE queue with the rings at the given addresses. */
static int init_at(struct fx *f, gpa_t desc, gpa_t avail, gpa_t used)
{
	return virtq_init(&f->q, &f->b.mem, QSIZE, desc, avail, used, false);
}

static void test_init_alignment(void **state)
{
	struct fx *f = *state;
	struct virtq_builder *b = &f->b;

	assert_int_equal(init_at(f, b->desc + 8, b->avail, b->used), -EINVAL);
	assert_int_equal(init_at(f, b->desc, b->avail + 1, b->used), -EINVAL);
	assert_int_equal(init_at(f, b->desc, b->avail, b->used + 2), -EINVAL);
	/* The minimum alignments of §2.7 are enough. */
	assert_int_equal(init_at(f, b->desc + 16, b->avail + 2, b->used + 4), 0);
}

static void test_init_outside_ram(void **state)
{
	struct fx *f = *state;
	struct virtq_builder *b = &f->b;
	gpa_t end = RAM_SIZE;

	/* Each ring straddles the end of RAM by its last bytes (the event fields included). */
	assert_int_equal(init_at(f, end - 16 * QSIZE + 16, b->avail, b->used), -EINVAL);
	assert_int_equal(init_at(f, b->desc, end - (4 + 2 * QSIZE), b->used), -EINVAL);
	assert_int_equal(init_at(f, b->desc, b->avail, end - (4 + 8 * QSIZE)), -EINVAL);
	assert_int_equal(init_at(f, b->desc, b->avail, UINT64_MAX - 3), -EINVAL);
	assert_int_equal(init_at(f, GiB(4), b->avail, b->used), -EINVAL);
	/* A queue that failed to initialize takes nothing. */
	assert_true(f->q.broken);
	assert_int_equal(pop(f), -EBADMSG);
	/* Exactly at the end is fine. */
	assert_int_equal(init_at(f, end - 16 * QSIZE, b->avail, b->used), 0);
}

/* Rings that share a byte are refused; ones that touch are not. */
static void test_init_overlapping_rings(void **state)
{
	struct fx *f = *state;
	struct virtq_builder *b = &f->b;
	gpa_t desc_end = b->desc + 16 * QSIZE;

	assert_int_equal(init_at(f, b->desc, b->desc + 16, b->used), -EINVAL);
	assert_int_equal(init_at(f, b->desc, b->avail, desc_end - 4), -EINVAL);
	assert_int_equal(init_at(f, b->desc, b->avail, b->avail + 4), -EINVAL);
	assert_true(f->q.broken);
	assert_int_equal(init_at(f, b->desc, desc_end, desc_end + 0x1000), 0);
}

/* A queue without rings (reset, or never set up) ignores what a racing device does with it. */
static void test_unmapped_queue_ignores_the_device(void **state)
{
	struct virtq q = { .broken = true };

	(void)state;
	virtq_push(&q, 0, 16);
	virtq_disable_kicks(&q);
	assert_false(virtq_enable_kicks(&q));
	assert_false(virtq_should_interrupt(&q));
	assert_false(virtq_has_avail(&q));
	assert_int_equal(q.next_used, 0);
}

/* Host memory behind guest RAM that is not aligned like the rings cannot back them. */
static void test_init_misaligned_host(void **state)
{
	struct gmem m = { 0 };
	uint8_t *raw = calloc(1, 64 * 1024);
	struct virtq q;

	(void)state;
	assert_non_null(raw);
	assert_int_equal(gmem_add_region(&m, 0, raw + 1, 64 * 1024 - 1), 0);
	assert_int_equal(virtq_init(&q, &m, QSIZE, 0, 4096, 8192, false), -EINVAL);
	free(raw);
}

/* --- good chains ------------------------------------------------------------------------------ */

static void test_pop_empty(void **state)
{
	struct fx *f = *state;

	assert_false(virtq_has_avail(&f->q));
	assert_int_equal(pop(f), 0);
	assert_false(f->q.broken);
}

static void test_pop_out_only(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[] = { { buf(f, 12, 0xa1), 12, false }, { buf(f, 100, 0xa2), 100, false } };
	uint16_t head = vqb_chain(&f->b, s, 2);

	vqb_publish(&f->b, head);
	assert_true(virtq_has_avail(&f->q));
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->e.head, head);
	assert_int_equal(f->e.out_num, 2);
	assert_int_equal(f->e.in_num, 0);
	assert_int_equal(f->e.out_len, 112);
	assert_int_equal(f->e.in_len, 0);
	assert_ptr_equal(f->e.iov, f->iov);
	assert_iov(f, 0, s[0].addr, 12);
	assert_iov(f, 1, s[1].addr, 100);
	assert_int_equal(((uint8_t *)f->iov[1].iov_base)[99], 0xa2);
	assert_int_equal(pop(f), 0);
}

static void test_pop_in_only(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[] = { { buf(f, 64, 0), 64, true } };

	vqb_publish(&f->b, vqb_chain(&f->b, s, 1));
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->e.out_num, 0);
	assert_int_equal(f->e.in_num, 1);
	assert_int_equal(f->e.in_len, 64);
	assert_iov(f, 0, s[0].addr, 64);
}

static void test_pop_out_then_in(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[] = {
		{ buf(f, 16, 1), 16, false },
		{ buf(f, 512, 2), 512, true },
		{ buf(f, 1, 3), 1, true },
	};
	uint16_t head = vqb_chain(&f->b, s, 3);

	vqb_publish(&f->b, head);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->e.head, head);
	assert_int_equal(f->e.out_num, 1);
	assert_int_equal(f->e.in_num, 2);
	assert_int_equal(f->e.out_len, 16);
	assert_int_equal(f->e.in_len, 513);
	for (unsigned int i = 0; i < 3; i++)
		assert_iov(f, i, s[i].addr, s[i].len);
}

static void test_zero_length_descriptors(void **state)
{
	struct fx *f = *state;
	/* A zero-length buffer yields no iovec, whatever its address. */
	struct vqb_seg s[] = {
		{ UINT64_MAX, 0, false },
		{ buf(f, 8, 1), 8, false },
		{ 0, 0, true },
		{ buf(f, 4, 2), 4, true },
	};

	vqb_publish(&f->b, vqb_chain(&f->b, s, 4));
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->e.out_num, 1);
	assert_int_equal(f->e.in_num, 1);
	assert_iov(f, 0, s[1].addr, 8);
	assert_iov(f, 1, s[3].addr, 4);
}

static void test_indirect_chain(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[] = {
		{ buf(f, 10, 1), 10, false },
		{ buf(f, 20, 2), 20, true },
		{ buf(f, 30, 3), 30, true },
	};
	uint16_t head = vqb_indirect_chain(&f->b, s, 3);

	vqb_publish(&f->b, head);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->e.head, head);
	assert_int_equal(f->e.out_num, 1);
	assert_int_equal(f->e.in_num, 2);
	assert_int_equal(f->e.in_len, 50);
	for (unsigned int i = 0; i < 3; i++)
		assert_iov(f, i, s[i].addr, s[i].len);
}

/* §2.7.5.3.2: direct descriptors may precede the indirect one, whose WRITE flag is ignored. */
static void test_direct_then_indirect(void **state)
{
	struct fx *f = *state;
	struct vqb_seg in = { buf(f, 32, 0), 32, true };
	gpa_t out = buf(f, 8, 1);
	uint16_t table_slot = vqb_indirect_chain(&f->b, &in, 1);
	struct virtq_desc *slot = vqb_host(&f->b, f->b.desc + 16 * table_slot);

	slot->flags |= VIRTQ_DESC_F_WRITE;
	vqb_set_desc(&f->b, 5, out, 8, VIRTQ_DESC_F_NEXT, table_slot);
	vqb_publish(&f->b, 5);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->e.out_num, 1);
	assert_int_equal(f->e.in_num, 1);
	assert_iov(f, 0, out, 8);
	assert_iov(f, 1, in.addr, 32);
}

static void test_indirect_table_of_size_entries(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[QSIZE];
	struct iovec iov[QSIZE];

	for (unsigned int i = 0; i < QSIZE; i++)
		s[i] = (struct vqb_seg){ buf(f, 1, (uint8_t)i), 1, false };
	vqb_publish(&f->b, vqb_indirect_chain(&f->b, s, QSIZE));
	assert_int_equal(virtq_pop(&f->q, &f->e, iov, QSIZE), 1);
	assert_int_equal(f->e.out_num, QSIZE);
}

static void test_iov_cap_exact(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[] = {
		{ buf(f, 8, 1), 8, false }, { 0, 0, false }, { buf(f, 8, 2), 8, true },
	};

	vqb_publish(&f->b, vqb_chain(&f->b, s, 3));
	assert_int_equal(virtq_pop(&f->q, &f->e, f->iov, 2), 1);
	assert_int_equal(f->e.out_num + f->e.in_num, 2);
}

/* A full ring: avail idx exactly Queue Size ahead is allowed. */
static void test_full_ring(void **state)
{
	struct fx *f = *state;

	for (unsigned int i = 0; i < QSIZE; i++)
		publish_simple(f);
	for (unsigned int i = 0; i < QSIZE; i++)
		assert_int_equal(pop(f), 1);
	assert_int_equal(pop(f), 0);
}

/* The free-running 16-bit indices wrap past 65535 (§2.7.13.3) on both rings. */
static void test_index_wraparound(void **state)
{
	struct fx *f = *state;
	gpa_t data = f->b.data_next;

	for (uint32_t n = 1; n <= 70000; n++) {
		uint16_t head = publish_simple(f);

		assert_int_equal(pop(f), 1);
		assert_int_equal(f->e.head, head);
		virtq_push(&f->q, head, n);
		assert_int_equal(vqb_used_idx(&f->b), (uint16_t)n);
		assert_int_equal(vqb_used(&f->b, (uint16_t)(n - 1)).id, head);
		assert_int_equal(vqb_used(&f->b, (uint16_t)(n - 1)).len, n);
		f->b.data_next = data; /* reuse one buffer: the bump allocator never frees */
	}
	assert_int_equal(pop(f), 0);
}

static void test_push_used_ring(void **state)
{
	struct fx *f = *state;
	uint16_t a = publish_simple(f), b = publish_simple(f);

	assert_int_equal(pop(f), 1);
	assert_int_equal(pop(f), 1);
	virtq_push(&f->q, b, 7);
	virtq_push(&f->q, a, 0);
	assert_int_equal(vqb_used_idx(&f->b), 2);
	assert_int_equal(vqb_used(&f->b, 0).id, b);
	assert_int_equal(vqb_used(&f->b, 0).len, 7);
	assert_int_equal(vqb_used(&f->b, 1).id, a);
	assert_int_equal(vqb_used(&f->b, 1).len, 0);
}

/* --- notification suppression ----------------------------------------------------------------- */

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;

	virtq_push(&f->q, 0, 0);
	assert_true(virtq_should_interrupt(&f->q));
	vqb_set_avail_flags(&f->b, VIRTQ_AVAIL_F_NO_INTERRUPT);
	virtq_push(&f->q, 0, 0);
	assert_false(virtq_should_interrupt(&f->q));
}

/* Pushes n entries, sets used_event, and asks whether to interrupt. */
static bool push_and_ask(struct fx *f, unsigned int n, uint16_t used_event)
{
	for (unsigned int i = 0; i < n; i++)
		virtq_push(&f->q, 0, 0);
	vqb_set_used_event(&f->b, used_event);
	return virtq_should_interrupt(&f->q);
}

/* §2.7.7.2: interrupt only when the batch wrote the entry at index used_event. */
static void test_event_idx_interrupts(void **state)
{
	struct fx *f = *state;

	assert_true(push_and_ask(f, 1, 5));   /* the first ever: nothing to compare against */
	assert_false(push_and_ask(f, 0, 1));  /* nothing new: entry 0 was signalled */
	assert_false(push_and_ask(f, 1, 0));  /* below: entry 1 written, 0 asked for earlier */
	assert_false(push_and_ask(f, 1, 9));  /* above: entry 2 written, 9 not yet */
	assert_true(push_and_ask(f, 1, 3));   /* at: entry 3 written */
	assert_true(push_and_ask(f, 3, 5));   /* entries 4..6 written, 5 among them */
	assert_false(push_and_ask(f, 0, 6));  /* nothing new since the last interrupt */
	/* NO_INTERRUPT means nothing with EVENT_IDX (§2.7.7.2: the device ignores it). */
	vqb_set_avail_flags(&f->b, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_true(push_and_ask(f, 1, 7));
}

static void test_event_idx_wraps(void **state)
{
	struct fx *f = *state;

	f->q.next_used = 65534;
	assert_true(push_and_ask(f, 1, 0));
	assert_true(push_and_ask(f, 3, 65535)); /* entries 65535, 0, 1 */
	assert_true(push_and_ask(f, 2, 2));
	assert_false(push_and_ask(f, 2, 65535));
}

static void test_kicks_flags(void **state)
{
	struct fx *f = *state;

	virtq_disable_kicks(&f->q);
	assert_int_equal(vqb_used_flags(&f->b), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_kicks(&f->q));
	assert_int_equal(vqb_used_flags(&f->b), 0);
	/* A chain slipped in while kicks were off: the caller must not sleep. */
	virtq_disable_kicks(&f->q);
	publish_simple(f);
	assert_true(virtq_enable_kicks(&f->q));
	assert_int_equal(pop(f), 1);
	assert_false(virtq_enable_kicks(&f->q));
}

static void test_kicks_event_idx(void **state)
{
	struct fx *f = *state;

	publish_simple(f);
	assert_int_equal(pop(f), 1);
	virtq_disable_kicks(&f->q);
	assert_int_equal(vqb_used_flags(&f->b), 0);
	assert_false(virtq_enable_kicks(&f->q));
	assert_int_equal(vqb_avail_event(&f->b), 1);
	publish_simple(f);
	assert_true(virtq_enable_kicks(&f->q));
	assert_int_equal(pop(f), 1);
	assert_false(virtq_enable_kicks(&f->q));
	assert_int_equal(vqb_avail_event(&f->b), 2);
}

/* --- hostile drivers ------------------------------------------------------------------------- */

static void test_bad_head(void **state)
{
	struct fx *f = *state;

	vqb_publish(&f->b, QSIZE);
	assert_broken(f);
}

static void test_bad_next(void **state)
{
	struct fx *f = *state;

	vqb_set_desc(&f->b, 0, buf(f, 8, 0), 8, VIRTQ_DESC_F_NEXT, QSIZE);
	vqb_publish(&f->b, 0);
	assert_broken(f);
}

static void test_loop(void **state)
{
	struct fx *f = *state;
	struct iovec iov[4 * QSIZE];
	gpa_t a = buf(f, 8, 0);

	vqb_set_desc(&f->b, 3, a, 8, VIRTQ_DESC_F_NEXT, 7);
	vqb_set_desc(&f->b, 7, a, 8, VIRTQ_DESC_F_NEXT, 3);
	vqb_publish(&f->b, 3);
	assert_int_equal(virtq_pop(&f->q, &f->e, iov, ARRAY_SIZE(iov)), -EBADMSG);
	assert_broken(f);
}

static void test_self_loop_of_empty_descriptors(void **state)
{
	struct fx *f = *state;

	vqb_set_desc(&f->b, 0, 0, 0, VIRTQ_DESC_F_NEXT, 0);
	vqb_publish(&f->b, 0);
	assert_broken(f);
}

/* §2.7.5.3.1: size + 1 buffers, one direct and a full indirect table. */
static void test_chain_longer_than_size(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[QSIZE];
	struct iovec iov[4 * QSIZE];

	for (unsigned int i = 0; i < QSIZE; i++)
		s[i] = (struct vqb_seg){ buf(f, 1, 0), 1, false };
	uint16_t table_slot = vqb_indirect_chain(&f->b, s, QSIZE);

	vqb_set_desc(&f->b, 9, buf(f, 1, 0), 1, VIRTQ_DESC_F_NEXT, table_slot);
	vqb_publish(&f->b, 9);
	/* Room for every iovec: the length limit alone must refuse it. */
	assert_int_equal(virtq_pop(&f->q, &f->e, iov, ARRAY_SIZE(iov)), -EBADMSG);
	assert_broken(f);
}

static void test_avail_idx_too_far(void **state)
{
	struct fx *f = *state;

	publish_simple(f);
	vqb_set_avail_idx(&f->b, QSIZE + 1);
	assert_broken(f);
}

/* One INDIRECT descriptor in slot 0 whose table is len bytes at table. */
static void publish_indirect(struct fx *f, gpa_t table, uint32_t len, uint16_t flags)
{
	vqb_set_desc(&f->b, 0, table, len, VIRTQ_DESC_F_INDIRECT | flags, 1);
	vqb_publish(&f->b, 0);
}

/* A table of n descriptors each pointing at a small readable buffer. */
static gpa_t indirect_table(struct fx *f, unsigned int n)
{
	gpa_t table = vqb_alloc(&f->b, 16 * (size_t)n);
	gpa_t data = buf(f, 8, 0);

	for (unsigned int i = 0; i < n; i++) {
		uint16_t flags = i + 1 < n ? VIRTQ_DESC_F_NEXT : 0;
		struct virtq_desc d = { data, 8, flags, (uint16_t)(i + 1) };

		memcpy(vqb_host(&f->b, table + 16 * i), &d, sizeof(d));
	}
	return table;
}

static void test_indirect_len_not_multiple(void **state)
{
	struct fx *f = *state;

	publish_indirect(f, indirect_table(f, 2), 24, 0);
	assert_broken(f);
}

static void test_indirect_len_zero(void **state)
{
	struct fx *f = *state;

	publish_indirect(f, indirect_table(f, 1), 0, 0);
	assert_broken(f);
}

static void test_indirect_too_long(void **state)
{
	struct fx *f = *state;

	/* Only one entry is chained, but the table itself is longer than the queue. */
	publish_indirect(f, indirect_table(f, 1), 16 * (QSIZE + 1), 0);
	assert_broken(f);
}

static void test_indirect_outside_ram(void **state)
{
	struct fx *f = *state;

	publish_indirect(f, RAM_SIZE - 16, 32, 0);
	assert_broken(f);
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fx *f = *state;
	gpa_t table = indirect_table(f, 2);

	/* Entry 1 chains to entry 2, which exists in memory but not in the 2-entry table. */
	publish_indirect(f, table, 32, 0);
	memcpy(vqb_host(&f->b, table + 16 + 12), &(uint16_t){ VIRTQ_DESC_F_NEXT }, 2);
	memcpy(vqb_host(&f->b, table + 16 + 14), &(uint16_t){ 2 }, 2);
	assert_broken(f);
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;
	gpa_t table = indirect_table(f, 2);

	memcpy(vqb_host(&f->b, table + 16 + 12), &(uint16_t){ VIRTQ_DESC_F_NEXT }, 2);
	memcpy(vqb_host(&f->b, table + 16 + 14), &(uint16_t){ 0 }, 2);
	publish_indirect(f, table, 32, 0);
	assert_broken(f);
}

static void test_nested_indirect(void **state)
{
	struct fx *f = *state;
	gpa_t inner = indirect_table(f, 1);
	gpa_t outer = vqb_alloc(&f->b, 16);
	struct virtq_desc d = { inner, 16, VIRTQ_DESC_F_INDIRECT, 0 };

	memcpy(vqb_host(&f->b, outer), &d, sizeof(d));
	publish_indirect(f, outer, 16, 0);
	assert_broken(f);
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;

	vqb_set_desc(&f->b, 1, buf(f, 8, 0), 8, 0, 0);
	publish_indirect(f, indirect_table(f, 1), 16, VIRTQ_DESC_F_NEXT);
	assert_broken(f);
}

static void test_write_then_read(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[] = { { buf(f, 8, 0), 8, true }, { buf(f, 8, 0), 8, false } };

	vqb_publish(&f->b, vqb_chain(&f->b, s, 2));
	assert_broken(f);
}

/* The ordering rule holds across the direct part and the indirect table. */
static void test_write_then_indirect_read(void **state)
{
	struct fx *f = *state;
	struct vqb_seg out = { buf(f, 8, 0), 8, false };
	uint16_t table_slot = vqb_indirect_chain(&f->b, &out, 1);

	vqb_set_desc(&f->b, 9, buf(f, 8, 0), 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, table_slot);
	vqb_publish(&f->b, 9);
	assert_broken(f);
}

static void test_buffer_straddles_ram_end(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s = { RAM_SIZE - 8, 16, true };

	vqb_publish(&f->b, vqb_chain(&f->b, &s, 1));
	assert_broken(f);
}

static void test_buffer_address_overflow(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s = { UINT64_MAX - 7, 16, false };

	vqb_publish(&f->b, vqb_chain(&f->b, &s, 1));
	assert_broken(f);
}

/* Lengths summing past 2^32 - 1 (§2.7.5.2), over a large reserved region that is never touched. */
static void test_total_length_overflow(void **state)
{
	struct fx *f = *state;
	const uint64_t big = GiB(4);
	const gpa_t base = GiB(1024);
	void *host = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct vqb_seg one = { base, UINT32_MAX, false };
	struct vqb_seg two[] = { { base, UINT32_MAX, false }, { base, 1, true } };

	assert_ptr_not_equal(host, MAP_FAILED);
	assert_int_equal(gmem_add_region(&f->b.mem, base, host, big), 0);
	vqb_publish(&f->b, vqb_chain(&f->b, &one, 1));
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->e.out_len, UINT32_MAX);
	vqb_publish(&f->b, vqb_chain(&f->b, two, 2));
	assert_int_equal(pop(f), -EBADMSG);
	assert_true(f->q.broken);
	munmap(host, big);
}

static void test_too_many_segments(void **state)
{
	struct fx *f = *state;
	struct vqb_seg s[] = {
		{ buf(f, 8, 0), 8, false }, { buf(f, 8, 0), 8, true }, { buf(f, 8, 0), 8, true },
	};

	vqb_publish(&f->b, vqb_chain(&f->b, s, 3));
	assert_int_equal(virtq_pop(&f->q, &f->e, f->iov, 2), -EBADMSG);
	assert_broken(f);
}

/* A broken queue stays broken even after good chains were taken before. */
static void test_broken_after_good(void **state)
{
	struct fx *f = *state;

	publish_simple(f);
	assert_int_equal(pop(f), 1);
	vqb_publish(&f->b, QSIZE + 4);
	assert_int_equal(pop(f), -EBADMSG);
	publish_simple(f);
	assert_int_equal(pop(f), -EBADMSG);
	assert_int_equal(vqb_used_idx(&f->b), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_EV(fn) cmocka_unit_test_setup_teardown(fn, setup_event_idx, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_sizes),
		T(test_init_alignment),
		T(test_init_outside_ram),
		T(test_init_overlapping_rings),
		cmocka_unit_test(test_unmapped_queue_ignores_the_device),
		cmocka_unit_test(test_init_misaligned_host),
		T(test_pop_empty),
		T(test_pop_out_only),
		T(test_pop_in_only),
		T(test_pop_out_then_in),
		T(test_zero_length_descriptors),
		T(test_indirect_chain),
		T(test_direct_then_indirect),
		T(test_indirect_table_of_size_entries),
		T(test_iov_cap_exact),
		T(test_full_ring),
		cmocka_unit_test_setup_teardown(test_index_wraparound, setup_tiny, teardown),
		T(test_push_used_ring),
		T(test_no_interrupt_flag),
		T_EV(test_event_idx_interrupts),
		T_EV(test_event_idx_wraps),
		T(test_kicks_flags),
		T_EV(test_kicks_event_idx),
		T(test_bad_head),
		T(test_bad_next),
		T(test_loop),
		T(test_self_loop_of_empty_descriptors),
		T(test_chain_longer_than_size),
		T(test_avail_idx_too_far),
		T(test_indirect_len_not_multiple),
		T(test_indirect_len_zero),
		T(test_indirect_too_long),
		T(test_indirect_outside_ram),
		T(test_indirect_next_out_of_table),
		T(test_indirect_loop),
		T(test_nested_indirect),
		T(test_indirect_with_next),
		T(test_write_then_read),
		T(test_write_then_indirect_read),
		T(test_buffer_straddles_ram_end),
		T(test_buffer_address_overflow),
		T(test_total_length_overflow),
		T(test_too_many_segments),
		T(test_broken_after_good),
	};

	return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
