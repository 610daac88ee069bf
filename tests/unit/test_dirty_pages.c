/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dirty page tracking of kiln's own writes into guest RAM (mem/gmem.c) and where the virtqueue
 * records them (virtio/queue.c): the bitmap's marks, takes and give-backs, no mark lost to a
 * concurrent take, and the used ring and device-writable buffers marked, readable ones not.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem/gmem.h"
#include "support/virtq_builder.h"
#include "virtio/queue.h"

#define PAGE GMEM_PAGE_SIZE
#define LOW_PAGES 300  /* not a multiple of 64: the last word is partial */
#define HIGH_PAGES 64

/* Two regions, as the x86 memory map has below and above the 32-bit hole. */
struct two_regions {
	struct gmem m;
	uint8_t *low, *high;
};

static void regions_init(struct two_regions *t)
{
	memset(t, 0, sizeof(*t));
	t->low = calloc(LOW_PAGES, PAGE);
	t->high = calloc(HIGH_PAGES, PAGE);
	assert_non_null(t->low);
	assert_non_null(t->high);
	assert_int_equal(gmem_add_region(&t->m, 0, t->low, LOW_PAGES * PAGE), 0);
	assert_int_equal(gmem_add_region(&t->m, GiB(4), t->high, HIGH_PAGES * PAGE), 0);
}

static void regions_free(struct two_regions *t)
{
	gmem_dirty_stop(&t->m);
	free(t->low);
	free(t->high);
}

/* Takes region i into a fresh bitmap; the caller frees it. */
static uint64_t *take(struct two_regions *t, unsigned int i)
{
	uint64_t *bits = calloc(gmem_dirty_words(t->m.regions[i].size), sizeof(*bits));

	assert_non_null(bits);
	gmem_dirty_take(&t->m, i, bits);
	return bits;
}

/* The set bits of bits (words words) are exactly pages[0..n). */
static void assert_pages(const uint64_t *bits, uint64_t words, const uint64_t *pages, size_t n)
{
	size_t seen = 0;

	for (uint64_t p = 0; p < words * 64; p++) {
		if (!((bits[p / 64] >> (p % 64)) & 1))
			continue;
		if (seen == n || pages[seen] != p)
			fail_msg("page %llu is marked, the next expected is %lld", (unsigned long long)p,
				 seen < n ? (long long)pages[seen] : -1LL);
		seen++;
	}
	if (seen != n)
		fail_msg("%zu pages marked, expected %zu", seen, n);
}

static void test_words(void **state)
{
	(void)state;
	assert_int_equal(gmem_dirty_words(0), 0);
	assert_int_equal(gmem_dirty_words(1), 1);
	assert_int_equal(gmem_dirty_words(64 * PAGE), 1);
	assert_int_equal(gmem_dirty_words(64 * PAGE + 1), 2);
	assert_int_equal(gmem_dirty_words(GiB(4)), GiB(4) / PAGE / 64);
}

/* Without gmem_dirty_start nothing is recorded, and writes still work. */
static void test_not_tracking(void **state)
{
	struct two_regions t;
	uint32_t v = 7;

	(void)state;
	regions_init(&t);
	gmem_mark_dirty(&t.m, 0, PAGE);
	assert_int_equal(gmem_write(&t.m, PAGE, &v, sizeof(v)), 0);
	assert_false(t.m.tracking);
	assert_null(t.m.regions[0].dirty);
	uint64_t *bits = take(&t, 0);
	assert_pages(bits, gmem_dirty_words(LOW_PAGES * PAGE), NULL, 0);
	free(bits);
	regions_free(&t);
}

static void test_marks(void **state)
{
	struct two_regions t;
	uint64_t v = 0x1122334455667788ull;

	(void)state;
	regions_init(&t);
	assert_int_equal(gmem_dirty_start(&t.m), 0);
	gmem_mark_dirty(&t.m, 2 * PAGE - 1, 1);         /* the last byte of page 1 */
	gmem_mark_dirty(&t.m, 3 * PAGE - 1, 2);         /* straddles pages 2 and 3 */
	gmem_mark_dirty(&t.m, 63 * PAGE, 2 * PAGE);     /* pages 63 and 64: two words */
	gmem_mark_dirty(&t.m, 10 * PAGE, 0);            /* nothing */
	gmem_mark_dirty(&t.m, (LOW_PAGES - 1) * PAGE, 2 * PAGE); /* past the region's end: ignored */
	gmem_mark_dirty(&t.m, UINT64_MAX - 1, 8);       /* wraps: ignored */
	assert_int_equal(gmem_write(&t.m, 100 * PAGE + 4090, &v, sizeof(v)), 0); /* pages 100, 101 */
	assert_int_equal(gmem_write(&t.m, LOW_PAGES * PAGE, &v, 1), -EFAULT);     /* no RAM, no mark */
	gmem_mark_dirty(&t.m, (LOW_PAGES - 1) * PAGE, PAGE); /* the last page */
	gmem_mark_dirty(&t.m, GiB(4) + (HIGH_PAGES - 1) * PAGE, 1);

	static const uint64_t low[] = { 1, 2, 3, 63, 64, 100, 101, LOW_PAGES - 1 };
	static const uint64_t high[] = { HIGH_PAGES - 1 };
	uint64_t *bits = take(&t, 0);
	assert_pages(bits, gmem_dirty_words(LOW_PAGES * PAGE), low, ARRAY_SIZE(low));
	free(bits);
	bits = take(&t, 1);
	assert_pages(bits, gmem_dirty_words(HIGH_PAGES * PAGE), high, ARRAY_SIZE(high));
	free(bits);
	/* A take clears: the next one has nothing. */
	bits = take(&t, 0);
	assert_pages(bits, gmem_dirty_words(LOW_PAGES * PAGE), NULL, 0);
	free(bits);
	regions_free(&t);
}

/* A take ORs into what the caller has; a give-back returns pages for the next take. */
static void test_take_ors_and_give_back(void **state)
{
	struct two_regions t;
	uint64_t words = gmem_dirty_words(LOW_PAGES * PAGE);

	(void)state;
	regions_init(&t);
	assert_int_equal(gmem_dirty_start(&t.m), 0);
	gmem_mark_dirty(&t.m, 5 * PAGE, 1);
	uint64_t *bits = calloc(words, sizeof(*bits));
	assert_non_null(bits);
	bits[0] = 1ull << 9; /* already there, e.g. from KVM's log */
	gmem_dirty_take(&t.m, 0, bits);
	static const uint64_t both[] = { 5, 9 };
	assert_pages(bits, words, both, 2);
	gmem_mark_dirty(&t.m, 200 * PAGE, 1);
	gmem_dirty_give_back(&t.m, 0, bits);
	uint64_t *again = take(&t, 0);
	static const uint64_t three[] = { 5, 9, 200 };
	assert_pages(again, words, three, 3);
	free(again);
	free(bits);
	regions_free(&t);
}

struct marker {
	struct gmem *m;
	uint64_t pages;
};

static void *mark_each_page(void *arg)
{
	struct marker *mk = arg;

	for (uint64_t p = 0; p < mk->pages; p++)
		gmem_mark_dirty(mk->m, p * PAGE, 1);
	return NULL;
}

/* Takes racing with marks lose none: every page is in one take or the last. */
static void test_no_mark_lost_to_a_take(void **state)
{
	struct two_regions t;
	uint64_t words = gmem_dirty_words(LOW_PAGES * PAGE);
	struct marker mk = { .m = NULL, .pages = LOW_PAGES };
	uint64_t *all = calloc(words, sizeof(*all));
	pthread_t th;

	(void)state;
	regions_init(&t);
	assert_non_null(all);
	assert_int_equal(gmem_dirty_start(&t.m), 0);
	mk.m = &t.m;
	for (int round = 0; round < 50; round++) {
		memset(all, 0, words * sizeof(*all));
		assert_int_equal(pthread_create(&th, NULL, mark_each_page, &mk), 0);
		for (int i = 0; i < 20; i++)
			gmem_dirty_take(&t.m, 0, all);
		assert_int_equal(pthread_join(th, NULL), 0);
		gmem_dirty_take(&t.m, 0, all);
		for (uint64_t p = 0; p < LOW_PAGES; p++)
			if (!((all[p / 64] >> (p % 64)) & 1))
				fail_msg("round %d: page %llu was lost", round, (unsigned long long)p);
	}
	free(all);
	regions_free(&t);
}

/* --- the virtqueue's marks --------------------------------------------------------------------- */

#define QSIZE 16

struct vq {
	struct virtq_builder b;
	struct virtq q;
	struct virtq_elem e;
	struct iovec iov[8];
};

static void vq_init(struct vq *v, bool event_idx)
{
	memset(v, 0, sizeof(*v));
	vqb_init(&v->b, QSIZE, MiB(1));
	assert_int_equal(gmem_dirty_start(&v->b.mem), 0);
	assert_int_equal(vqb_queue(&v->b, &v->q, event_idx), 0);
}

static void vq_free(struct vq *v)
{
	gmem_dirty_stop(&v->b.mem);
	vqb_free(&v->b);
}

/* The pages of the builder's RAM marked since the last call. */
static uint64_t *vq_take(struct vq *v)
{
	uint64_t *bits = calloc(gmem_dirty_words(MiB(1)), sizeof(*bits));

	assert_non_null(bits);
	gmem_dirty_take(&v->b.mem, 0, bits);
	return bits;
}

static void assert_vq_pages(struct vq *v, const uint64_t *pages, size_t n)
{
	uint64_t *bits = vq_take(v);

	assert_pages(bits, gmem_dirty_words(MiB(1)), pages, n);
	free(bits);
}

/* A chain with a readable buffer on a page of its own and a writable one across pages w, w + 1. */
static uint16_t publish_rw(struct vq *v, uint64_t *w)
{
	gpa_t out = vqb_alloc(&v->b, PAGE);
	gpa_t in = vqb_alloc(&v->b, 2 * PAGE);
	struct vqb_seg segs[] = { { out, 16, false }, { in + PAGE - 8, 16, true } };
	uint16_t head = vqb_chain(&v->b, segs, 2);

	*w = (in + PAGE - 8) / PAGE;
	vqb_publish(&v->b, head);
	return head;
}

static void test_virtq_marks_writable_buffers_and_used_ring(void **state)
{
	struct vq v;
	uint64_t w;

	(void)state;
	vq_init(&v, false);
	uint16_t head = publish_rw(&v, &w);
	assert_vq_pages(&v, NULL, 0); /* the driver's writes are KVM's to log, not kiln's */
	assert_int_equal(virtq_pop(&v.q, &v.e, v.iov, 8), 1);
	const uint64_t writable[] = { w, w + 1 }; /* not the readable buffer's page */
	assert_vq_pages(&v, writable, 2);
	virtq_push(&v.q, head, 16);
	const uint64_t used[] = { v.b.used / PAGE };
	assert_vq_pages(&v, used, 1);
	virtq_disable_kicks(&v.q);
	assert_vq_pages(&v, used, 1);
	assert_false(virtq_enable_kicks(&v.q));
	assert_vq_pages(&v, used, 1);
	vq_free(&v);
}

/* With EVENT_IDX, avail_event at the used ring's end is the device's write. */
static void test_virtq_marks_avail_event(void **state)
{
	struct vq v;

	(void)state;
	vq_init(&v, true);
	assert_false(virtq_enable_kicks(&v.q));
	gpa_t avail_event = v.b.used + 4 + 8 * QSIZE;
	const uint64_t page[] = { avail_event / PAGE };
	assert_vq_pages(&v, page, 1);
	vq_free(&v);
}

/* A device holding chains after a take: virtq_mark_taken marks their writable buffers again. */
static void test_virtq_mark_taken(void **state)
{
	struct vq v;
	uint64_t w1, w2;

	(void)state;
	vq_init(&v, false);
	publish_rw(&v, &w1);
	publish_rw(&v, &w2);
	assert_int_equal(virtq_pop(&v.q, &v.e, v.iov, 8), 1);
	assert_int_equal(virtq_pop(&v.q, &v.e, v.iov, 8), 1);
	free(vq_take(&v)); /* a snapshot's take */
	virtq_mark_taken(&v.q, 1); /* the device holds the last chain */
	const uint64_t last[] = { w2, w2 + 1 };
	assert_vq_pages(&v, last, 2);
	virtq_mark_taken(&v.q, 2);
	const uint64_t both[] = { w1, w1 + 1, w2, w2 + 1 };
	assert_vq_pages(&v, both, 4);
	/* Nothing held, or more than the queue can hold: nothing marked, nothing taken. */
	virtq_mark_taken(&v.q, 0);
	virtq_mark_taken(&v.q, QSIZE + 1);
	assert_vq_pages(&v, NULL, 0);
	assert_false(virtq_has_avail(&v.q));
	/* A driver that rewrote a held chain into garbage gets no marks, and the queue stays whole. */
	vqb_set_desc(&v.b, 2, MiB(4), 16, VIRTQ_DESC_F_WRITE, 0);
	virtq_mark_taken(&v.q, 1);
	assert_vq_pages(&v, NULL, 0);
	assert_false(v.q.broken);
	vq_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_not_tracking),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_take_ors_and_give_back),
		cmocka_unit_test(test_no_mark_lost_to_a_take),
		cmocka_unit_test(test_virtq_marks_writable_buffers_and_used_ring),
		cmocka_unit_test(test_virtq_marks_avail_event),
		cmocka_unit_test(test_virtq_mark_taken),
	};
	return cmocka_run_group_tests_name("dirty_pages", tests, NULL, NULL);
}
