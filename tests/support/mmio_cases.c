/* SPDX-License-Identifier: Apache-2.0 */
/* The hostile register sequences every device goes through behind the real transport; see mmio_cases.h. */
#include "support/mmio_cases.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/snap_image.h"
#include "virtio/mmio_snapshot.h"

/* --- set-up ------------------------------------------------------------------------------------ */

int mmio_case_setup(void **state, const struct mmio_case_device *desc)
{
	struct mmio_case *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->desc = desc;
	if (desc->create(c) != 0 || mmio_driver_init(&c->drv, c->dev, desc->ram_size) != 0)
		return -1;
	*state = c;
	return 0;
}

int mmio_case_teardown(void **state)
{
	struct mmio_case *c = *state;

	mmio_driver_stop_thread(&c->drv);
	c->desc->destroy(c);
	mmio_driver_destroy(&c->drv);
	free(c);
	return 0;
}

/* --- snapshots --------------------------------------------------------------------------------- */

void mmio_case_free(struct mmio_case *c)
{
	void *state = c;

	(void)mmio_case_teardown(&state);
}

void mmio_case_snapshot(struct mmio_case *c, struct snap_writer *w, struct snap_reader *img)
{
	snap_writer_init(w);
	mmio_driver_save(&c->drv, w);
	assert_int_equal(snap_image_read_back(w, img), 0);
}

int mmio_case_restore(struct mmio_case *c, const struct snap_reader *img, struct mmio_case **out, char *why,
		      size_t whylen)
{
	void *state;

	assert_int_equal(mmio_case_setup(&state, c->desc), 0);
	struct mmio_case *r = state;

	if (c->desc->carry)
		c->desc->carry(c, r);
	int rc = mmio_driver_restore(&r->drv, &c->drv, img, why, whylen);

	if (rc < 0) {
		mmio_driver_set_status(&r->drv, 0); /* what a failed restore's teardown does */
		mmio_case_free(r);
		return rc;
	}
	virtio_mmio_kick_all(&r->drv.m);
	mmio_driver_pump(&r->drv);
	*out = r;
	return 0;
}

int mmio_case_restore_damaged(struct mmio_case *c, const struct snap_reader *img, int delta, unsigned int at,
			      uint8_t x, char *why, size_t whylen)
{
	struct snap_writer w;
	struct snap_reader bad = { 0 };
	struct snap_cursor cur;
	struct mmio_case *r;

	assert_int_equal(snap_open_section(img, VIRTIO_SNAP_TAG, 0, &cur), 0);
	assert_true((int64_t)cur.len + delta >= 0 && at <= cur.len);
	size_t len = (size_t)((int64_t)cur.len + delta);
	uint8_t *buf = calloc(1, len > cur.len ? len : cur.len);

	assert_non_null(buf);
	memcpy(buf, cur.data, cur.len);
	if (at > 0)
		buf[cur.len - at] ^= x;
	assert_int_equal(snap_image_wrap(VIRTIO_SNAP_TAG, 0, buf, len, &w, &bad), 0);
	why[0] = '\0';
	int rc = mmio_case_restore(c, &bad, &r, why, whylen);

	if (rc == 0)
		mmio_case_free(r);
	snap_reader_close(&bad);
	snap_writer_free(&w);
	free(buf);
	return rc;
}

void mmio_case_snap_take(struct mmio_case *c, struct mmio_case_snap *s)
{
	memset(s, 0, sizeof(*s));
	mmio_case_snapshot(c, &s->w, &s->img);
}

struct mmio_case *mmio_case_snap_restore(struct mmio_case *c, const struct mmio_case_snap *s)
{
	struct mmio_case *r = NULL;
	char why[256] = "";
	int rc = mmio_case_restore(c, &s->img, &r, why, sizeof(why));

	if (rc != 0)
		fail_msg("restore: %d, \"%s\"", rc, why);
	return r;
}

void mmio_case_snap_free(struct mmio_case_snap *s)
{
	snap_reader_close(&s->img);
	snap_writer_free(&s->w);
}

void mmio_case_expect_refusals(struct mmio_case *c, const struct mmio_case_damage *cases, size_t n)
{
	struct mmio_case_snap s;
	char why[256];

	mmio_case_snap_take(c, &s);
	for (size_t i = 0; i < n; i++) {
		int rc = mmio_case_restore_damaged(c, &s.img, cases[i].delta, cases[i].at, cases[i].x, why,
						   sizeof(why));

		if (rc != cases[i].rc || strstr(why, cases[i].reason) == NULL || strchr(why, '\n') != NULL)
			fail_msg("%s: rc %d, \"%s\"", cases[i].what, rc, why);
	}
	mmio_case_snap_free(&s);
}

/* --- helpers ----------------------------------------------------------------------------------- */

/* Takes every pending interrupt, so that the next check sees only what comes after. */
static void mmio_case_quiet(struct mmio_case *c)
{
	(void)mmio_driver_take_interrupt(&c->drv);
	(void)mmio_driver_irqs(&c->drv);
}

void mmio_case_start(struct mmio_case *c)
{
	const struct mmio_case_device *d = c->desc;

	assert_int_equal(mmio_driver_start(&c->drv, d->features, d->num_queues, d->queue_size), MMIO_S_RUNNING);
	if (d->started)
		d->started(c);
}

/* NEEDS_RESET was set and the driver heard of it through a configuration interrupt (§2.1.2). */
static void mmio_case_expect_needs_reset(struct mmio_case *c)
{
	assert_true(mmio_driver_status(&c->drv) & MMIO_S_NEEDS_RESET);
	assert_true(mmio_driver_take_interrupt(&c->drv) & MMIO_INT_CONFIG);
	assert_true(mmio_driver_irqs(&c->drv) >= 1);
}

void mmio_case_expect_refused(struct mmio_case *c)
{
	assert_false(mmio_driver_status(&c->drv) & MMIO_S_DRIVER_OK);
	mmio_case_expect_needs_reset(c);
}

void mmio_case_recover(struct mmio_case *c)
{
	mmio_driver_set_status(&c->drv, 0);
	assert_int_equal(mmio_driver_status(&c->drv), 0);
	assert_int_equal(mmio_driver_read(&c->drv, MMIO_INTERRUPT_STATUS), 0);
	mmio_case_start(c);
	c->desc->good_request(c);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
}

/* Negotiates, sets up every queue, then gives queue q the registers given, and sets DRIVER_OK. */
static void mmio_case_start_with_queue(struct mmio_case *c, unsigned int q, uint32_t num, gpa_t desc,
				       gpa_t avail, gpa_t used)
{
	const struct mmio_case_device *d = c->desc;

	assert_int_equal(mmio_driver_negotiate(&c->drv, d->features), MMIO_S_NEGOTIATED);
	for (unsigned int i = 0; i < d->num_queues; i++)
		mmio_driver_setup_queue(&c->drv, i, d->queue_size);
	mmio_driver_queue_regs(&c->drv, q, num, desc, avail, used);
	mmio_case_quiet(c);
	mmio_driver_set_status(&c->drv, MMIO_S_RUNNING);
}

/* Queue q's rings as mmio_driver_setup_queue lays them out (it zeroes the queue's window). */
static void mmio_case_rings(struct mmio_case *c, unsigned int q, gpa_t *desc, gpa_t *avail, gpa_t *used)
{
	mmio_driver_setup_queue(&c->drv, q, c->desc->queue_size);
	*desc = c->drv.vq[q].desc;
	*avail = c->drv.vq[q].avail;
	*used = c->drv.vq[q].used;
}

/* DRIVER_OK with queue q's registers as given must be refused; then the device recovers. */
static void mmio_case_refuse_queue(struct mmio_case *c, unsigned int q, uint32_t num, gpa_t desc, gpa_t avail,
				   gpa_t used)
{
	mmio_case_start_with_queue(c, q, num, desc, avail, used);
	mmio_case_expect_refused(c);
	mmio_case_recover(c);
}

/* A copy of all guest RAM, to see that nothing wrote to it. */
struct mmio_case_ram {
	uint8_t *low, *high;
};

static struct mmio_case_ram mmio_case_ram_copy(const struct mmio_case *c)
{
	struct mmio_case_ram r = { malloc(c->drv.ram_size), malloc(MMIO_DRIVER_HIGH_SIZE) };

	assert_non_null(r.low);
	assert_non_null(r.high);
	memcpy(r.low, c->drv.ram, c->drv.ram_size);
	memcpy(r.high, c->drv.high, MMIO_DRIVER_HIGH_SIZE);
	return r;
}

static void mmio_case_ram_unchanged(const struct mmio_case *c, struct mmio_case_ram r)
{
	assert_memory_equal(r.low, c->drv.ram, c->drv.ram_size);
	assert_memory_equal(r.high, c->drv.high, MMIO_DRIVER_HIGH_SIZE);
	free(r.low);
	free(r.high);
}

/* The device's view of its queues: the same rings and positions as before, or not. */
static void mmio_case_queues_unchanged(const struct mmio_case *c, const struct virtq *before)
{
	for (unsigned int q = 0; q < c->dev->num_queues; q++) {
		const struct virtq *now = &c->dev->queues[q];

		assert_ptr_equal(now->desc, before[q].desc);
		assert_ptr_equal(now->avail, before[q].avail);
		assert_ptr_equal(now->used, before[q].used);
		assert_int_equal(now->size, before[q].size);
		assert_int_equal(now->next_avail, before[q].next_avail);
		assert_int_equal(now->next_used, before[q].next_used);
	}
}

/* Kicks every queue the driver set up (as ioeventfds and as exits) and runs the I/O side. */
static void mmio_case_kick_all(struct mmio_case *c)
{
	for (unsigned int q = 0; q < c->desc->num_queues; q++) {
		mmio_driver_kick(&c->drv, q);
		mmio_driver_notify_exit(&c->drv, q);
	}
	mmio_driver_pump(&c->drv);
}

/* --- the cases --------------------------------------------------------------------------------- */

void mmio_case_good_requests(void **state)
{
	struct mmio_case *c = *state;

	mmio_case_start(c);
	for (int i = 0; i < 3; i++)
		c->desc->good_request(c);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
	/* A second driver after a reset (a rebooted guest) gets the same service. */
	mmio_case_recover(c);
}

/* §2.1.2: the driver may only add bits. Removing any is refused with NEEDS_RESET; all stay set. */
void mmio_case_status_bits_removed(void **state)
{
	static const uint32_t removed[] = {
		MMIO_S_DRIVER_OK, MMIO_S_FEATURES_OK, MMIO_S_DRIVER, MMIO_S_ACKNOWLEDGE,
		MMIO_S_DRIVER_OK | MMIO_S_FEATURES_OK,
	};
	struct mmio_case *c = *state;

	for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++) {
		mmio_case_start(c);
		c->desc->good_request(c);
		mmio_case_quiet(c);
		mmio_driver_set_status(&c->drv, MMIO_S_RUNNING); /* the same value again: nothing */
		assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
		assert_int_equal(mmio_driver_read(&c->drv, MMIO_INTERRUPT_STATUS), 0);
		mmio_driver_set_status(&c->drv, MMIO_S_RUNNING & ~removed[i]);
		assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING | MMIO_S_NEEDS_RESET);
		mmio_case_expect_needs_reset(c);
		mmio_case_recover(c);
	}
}

/* Kicks reach the device only while it runs without NEEDS_RESET, and only for its queues. */
void mmio_case_kicks_ignored_while_needs_reset(void **state)
{
	struct mmio_case *c = *state;
	const struct mmio_case_device *d = c->desc;

	/* Before DRIVER_OK. */
	assert_int_equal(mmio_driver_negotiate(&c->drv, d->features), MMIO_S_NEGOTIATED);
	for (unsigned int q = 0; q < d->num_queues; q++)
		mmio_driver_setup_queue(&c->drv, q, d->queue_size);
	unsigned int q = d->post_request(c);
	uint16_t used = vqb_used_idx(mmio_driver_vq(&c->drv, q));

	mmio_case_kick_all(c);
	assert_int_equal(vqb_used_idx(mmio_driver_vq(&c->drv, q)), used);
	/* With NEEDS_RESET. */
	mmio_case_start(c);
	c->desc->good_request(c);
	mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
	q = d->post_request(c);
	used = vqb_used_idx(mmio_driver_vq(&c->drv, q));
	mmio_case_kick_all(c);
	assert_int_equal(vqb_used_idx(mmio_driver_vq(&c->drv, q)), used);
	/* Queues the device does not have: nothing at all. */
	for (uint32_t bad = c->dev->num_queues; bad < VIRTIO_MAX_QUEUES + 2; bad++)
		mmio_driver_kick(&c->drv, bad);
	mmio_driver_notify_exit(&c->drv, 0xffffffffu);
	mmio_driver_pump(&c->drv);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING | MMIO_S_NEEDS_RESET);
	mmio_case_recover(c);
}

/* DRIVER_OK written again while the device runs: nothing happens (no second activation). */
void mmio_case_driver_ok_twice(void **state)
{
	struct mmio_case *c = *state;
	struct virtq before[VIRTIO_MAX_QUEUES];

	mmio_case_start(c);
	c->desc->good_request(c);
	memcpy(before, c->dev->queues, sizeof(before));
	mmio_case_quiet(c);
	mmio_driver_set_status(&c->drv, MMIO_S_RUNNING);
	mmio_driver_set_status(&c->drv, MMIO_S_RUNNING);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
	assert_int_equal(mmio_driver_read(&c->drv, MMIO_INTERRUPT_STATUS), 0);
	mmio_case_queues_unchanged(c, before);
	c->desc->good_request(c);
	mmio_case_recover(c);
}

/* DRIVER_OK dropped, then set again without a reset: never a second activation of live queues. */
void mmio_case_driver_ok_again_after_removal(void **state)
{
	struct mmio_case *c = *state;
	struct virtq before[VIRTIO_MAX_QUEUES];

	mmio_case_start(c);
	c->desc->good_request(c);
	memcpy(before, c->dev->queues, sizeof(before));
	mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
	mmio_driver_set_status(&c->drv, MMIO_S_RUNNING);
	assert_true(mmio_driver_status(&c->drv) & MMIO_S_NEEDS_RESET);
	mmio_case_queues_unchanged(c, before);
	mmio_case_kick_all(c);
	mmio_case_recover(c);
}

/*
 * The device holds chains (or has requests posted); the driver resets it, with DRIVER_OK removed
 * first or not; then the host side sends the guest data and the guest kicks: nothing may be written
 * to guest memory, and nothing may crash (issue 10, defect 1: a push into a zeroed queue).
 */
static void mmio_case_reset_with_chains(struct mmio_case *c, bool remove_first)
{
	const struct mmio_case_device *d = c->desc;

	mmio_case_start(c);
	if (d->hold_chains)
		d->hold_chains(c);
	else
		c->desc->good_request(c);
	(void)d->post_request(c); /* published, never kicked before the reset */
	uint32_t removed = MMIO_S_NEEDS_RESET;

	if (remove_first) {
		mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
		removed = mmio_driver_status(&c->drv);
	}
	mmio_driver_set_status(&c->drv, 0);
	assert_int_equal(mmio_driver_status(&c->drv), 0);

	struct mmio_case_ram ram = mmio_case_ram_copy(c);

	if (d->host_input)
		d->host_input(c);
	mmio_driver_pump(&c->drv);
	mmio_case_kick_all(c);
	mmio_case_ram_unchanged(c, ram);
	assert_int_equal(mmio_driver_status(&c->drv), 0);
	/* Checked last, so that a transport that let the removal through shows what follows from it. */
	assert_true(removed & MMIO_S_NEEDS_RESET);
	mmio_case_recover(c);
}

void mmio_case_reset_after_bits_removed_with_held_chains(void **state)
{
	mmio_case_reset_with_chains(*state, true);
}

void mmio_case_reset_while_holding_chains(void **state)
{
	mmio_case_reset_with_chains(*state, false);
}

/* §4.2.3.2: queue registers are frozen while the queue is ready and once DRIVER_OK is set. */
void mmio_case_queue_registers_after_driver_ok(void **state)
{
	struct mmio_case *c = *state;
	const struct mmio_case_device *d = c->desc;
	struct virtq before[VIRTIO_MAX_QUEUES];

	/* While ready, before DRIVER_OK: moving the rings into the MMIO hole does not take. */
	assert_int_equal(mmio_driver_negotiate(&c->drv, d->features), MMIO_S_NEGOTIATED);
	for (unsigned int q = 0; q < d->num_queues; q++)
		mmio_driver_setup_queue(&c->drv, q, d->queue_size);
	mmio_driver_write(&c->drv, MMIO_QUEUE_SEL, 0);
	mmio_driver_write(&c->drv, MMIO_QUEUE_DESC_LOW, (uint32_t)MMIO_DRIVER_BASE);
	mmio_driver_write(&c->drv, MMIO_QUEUE_NUM, d->queue_size / 2);
	mmio_driver_set_status(&c->drv, MMIO_S_RUNNING);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
	if (d->started)
		d->started(c);
	c->desc->good_request(c);

	/* After DRIVER_OK: every queue register, of every queue. */
	memcpy(before, c->dev->queues, sizeof(before));
	for (unsigned int q = 0; q < c->dev->num_queues; q++) {
		mmio_driver_write(&c->drv, MMIO_QUEUE_SEL, q);
		mmio_driver_write(&c->drv, MMIO_QUEUE_READY, 0);
		mmio_driver_write(&c->drv, MMIO_QUEUE_NUM, 1);
		mmio_driver_write(&c->drv, MMIO_QUEUE_DESC_LOW, (uint32_t)MMIO_DRIVER_BASE);
		mmio_driver_write(&c->drv, MMIO_QUEUE_DESC_HIGH, 1);
		mmio_driver_write(&c->drv, MMIO_QUEUE_DRIVER_LOW, 0);
		mmio_driver_write(&c->drv, MMIO_QUEUE_DEVICE_LOW, 0);
		mmio_driver_write(&c->drv, MMIO_QUEUE_READY, 1);
		assert_int_equal(mmio_driver_read(&c->drv, MMIO_QUEUE_READY), q < d->num_queues ? 1 : 0);
	}
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
	mmio_case_queues_unchanged(c, before);
	mmio_case_kick_all(c);
	c->desc->good_request(c);
	mmio_case_recover(c);
}

/* Features are fixed at FEATURES_OK (§3.1.1 step 5): later DriverFeatures writes change nothing. */
void mmio_case_features_after_features_ok(void **state)
{
	struct mmio_case *c = *state;
	const struct mmio_case_device *d = c->desc;
	uint64_t negotiated = d->features | (1ull << VIRTIO_F_VERSION_1);

	assert_int_equal(mmio_driver_negotiate(&c->drv, d->features), MMIO_S_NEGOTIATED);
	mmio_driver_write_features(&c->drv, ~0ull);
	for (unsigned int q = 0; q < d->num_queues; q++)
		mmio_driver_setup_queue(&c->drv, q, d->queue_size);
	mmio_driver_write_features(&c->drv, 0);
	mmio_driver_set_status(&c->drv, MMIO_S_RUNNING);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
	assert_int_equal(c->dev->driver_features, negotiated);
	if (d->started)
		d->started(c);
	c->desc->good_request(c);
	mmio_driver_write_features(&c->drv, ~0ull);
	assert_int_equal(c->dev->driver_features, negotiated);
	c->desc->good_request(c);
	mmio_case_recover(c);
}

/* FEATURES_OK does not stick without VERSION_1 or with bits never offered; DRIVER_OK then is refused. */
void mmio_case_unoffered_features_refused(void **state)
{
	struct mmio_case *c = *state;
	const struct mmio_case_device *d = c->desc;
	uint64_t offered = mmio_driver_device_features(&c->drv);
	unsigned int extra = 0;

	while (extra < 64 && ((offered >> extra) & 1))
		extra++;
	assert_true(extra < 64);
	assert_int_equal(mmio_driver_negotiate(&c->drv, d->features | (1ull << extra)),
			 MMIO_S_ACKNOWLEDGE | MMIO_S_DRIVER);
	for (unsigned int q = 0; q < d->num_queues; q++)
		mmio_driver_setup_queue(&c->drv, q, d->queue_size);
	mmio_case_quiet(c);
	mmio_driver_set_status(&c->drv, MMIO_S_ACKNOWLEDGE | MMIO_S_DRIVER | MMIO_S_DRIVER_OK);
	mmio_case_expect_refused(c);
	mmio_case_recover(c);

	/* Without VERSION_1: a legacy driver, which this device is not for (§4.2.2 Version 2). */
	mmio_driver_set_status(&c->drv, 0);
	mmio_driver_set_status(&c->drv, MMIO_S_ACKNOWLEDGE | MMIO_S_DRIVER);
	mmio_driver_write_features(&c->drv, d->features);
	mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_ACKNOWLEDGE | MMIO_S_DRIVER);
	mmio_case_recover(c);
}

/* The rings of a queue, and of different queues, must not overlap (the device writes one while
 * parsing the others). */
void mmio_case_rings_overlapping(void **state)
{
	struct mmio_case *c = *state;
	uint16_t n = c->desc->queue_size;
	gpa_t desc, avail, used, desc1, avail1, used1;

	mmio_case_rings(c, 0, &desc, &avail, &used);
	mmio_case_rings(c, 1, &desc1, &avail1, &used1);
	mmio_case_refuse_queue(c, 0, n, desc, desc, used);               /* avail on desc */
	mmio_case_refuse_queue(c, 0, n, desc, desc + 16u * n - 2, used); /* avail on desc's tail */
	mmio_case_refuse_queue(c, 0, n, desc, avail, avail + 4);         /* used on avail */
	mmio_case_refuse_queue(c, 0, n, used - 16u * n + 16, avail, used); /* desc's tail on used */
	mmio_case_refuse_queue(c, 0, n, desc, avail, desc + 8u * n);     /* used inside desc */
	if (c->desc->num_queues > 1) {
		mmio_case_refuse_queue(c, 0, n, desc1, avail, used);     /* queue 0's desc is queue 1's */
		mmio_case_refuse_queue(c, 0, n, desc, avail, used1 + 8); /* the used rings overlap */
	}
}

/* Rings must lie in guest RAM: not in the MMIO hole, not across its edges, no wrap-around. */
void mmio_case_rings_in_the_mmio_hole(void **state)
{
	struct mmio_case *c = *state;
	uint16_t n = c->desc->queue_size;
	gpa_t desc, avail, used;
	const gpa_t low_end = c->drv.ram_size, high_end = MMIO_DRIVER_HIGH_RAM + MMIO_DRIVER_HIGH_SIZE;

	mmio_case_rings(c, 0, &desc, &avail, &used);
	mmio_case_refuse_queue(c, 0, n, MMIO_DRIVER_BASE, avail, used);       /* on the device's registers */
	mmio_case_refuse_queue(c, 0, n, desc, MMIO_DRIVER_BASE + 0x100, used);
	mmio_case_refuse_queue(c, 0, n, desc, avail, low_end);                /* the hole's first byte */
	mmio_case_refuse_queue(c, 0, n, desc, low_end - 4, used);             /* across low RAM's end */
	mmio_case_refuse_queue(c, 0, n, MMIO_DRIVER_HIGH_RAM - 16, avail, used); /* across into high RAM */
	mmio_case_refuse_queue(c, 0, n, desc, avail, high_end - 8);           /* across high RAM's end */
	mmio_case_refuse_queue(c, 0, n, 0xfffffffffffffff0ull, avail, used);  /* wraps around */

	/* All three rings in high RAM, above the hole: that is RAM, and accepted. */
	gpa_t hd = MMIO_DRIVER_HIGH_RAM, ha = hd + 16u * n, hu = ALIGN_UP(ha + 6 + 2u * n, 4);

	assert_true(hu + 6 + 8u * n <= high_end);
	mmio_case_start_with_queue(c, 0, n, hd, ha, hu);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
	mmio_case_recover(c);
}

/* §2.7: desc 16-byte, avail 2-byte, used 4-byte aligned. */
void mmio_case_rings_misaligned(void **state)
{
	struct mmio_case *c = *state;
	uint16_t n = c->desc->queue_size;
	gpa_t desc, avail, used;

	mmio_case_rings(c, 0, &desc, &avail, &used);
	mmio_case_refuse_queue(c, 0, n, desc + 8, avail, used);
	mmio_case_refuse_queue(c, 0, n, desc, avail + 1, used);
	mmio_case_refuse_queue(c, 0, n, desc, avail, used + 2);
}

/* §2.7: Queue Size is a power of two, from 1 to QueueNumMax; 0 is no queue at all. */
void mmio_case_queue_size_not_power_of_two(void **state)
{
	struct mmio_case *c = *state;
	uint16_t n = c->desc->queue_size;
	const uint32_t sizes[] = { 3, 12, n - 1u, 0, c->dev->queue_max_size + 1u, 2u * c->dev->queue_max_size,
				   0x10000u + n };
	gpa_t desc, avail, used;

	mmio_driver_write(&c->drv, MMIO_QUEUE_SEL, 0);
	assert_int_equal(mmio_driver_read(&c->drv, MMIO_QUEUE_NUM_MAX), c->dev->queue_max_size);
	mmio_case_rings(c, 0, &desc, &avail, &used);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		mmio_case_refuse_queue(c, 0, sizes[i], desc, avail, used);
	/* The smallest queue is one entry (a power of two: 2^0). */
	mmio_case_start_with_queue(c, 0, 1, desc, avail, used);
	assert_int_equal(mmio_driver_status(&c->drv), MMIO_S_RUNNING);
	mmio_case_recover(c);
}
