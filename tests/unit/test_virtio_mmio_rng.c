/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng behind the real virtio-mmio transport: entropy reaches the guest; the hostile sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/mmio_cases.h"
#include "virtio/rng.h"

#define QSIZE 16
#define REQ_BYTES 256

static int rng_create(struct mmio_case *c)
{
	struct virtio_rng *r;

	if (virtio_rng_create(&r) < 0)
		return -1;
	c->priv = r;
	c->dev = virtio_rng_dev(r);
	return 0;
}

static void rng_destroy(struct mmio_case *c)
{
	virtio_rng_destroy(c->priv);
}

/* Publishes one request for REQ_BYTES of entropy; returns its buffer. */
static gpa_t rng_publish(struct mmio_case *c)
{
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, 0);
	struct vqb_seg seg = { vqb_alloc(vq, REQ_BYTES), REQ_BYTES, true };

	vqb_publish(vq, vqb_chain(vq, &seg, 1));
	return seg.addr;
}

static unsigned int rng_post_request(struct mmio_case *c)
{
	(void)rng_publish(c);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* §5.4.6: the buffer comes back full of random bytes, with an interrupt. */
static void rng_good_request(struct mmio_case *c)
{
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, 0);
	uint16_t used = vqb_used_idx(vq);
	gpa_t buf = rng_publish(c);

	vqb_set_used_event(vq, used); /* EVENT_IDX: interrupt me at the next used entry (§2.7.10) */
	(void)mmio_driver_irqs(&c->drv);
	mmio_driver_kick(&c->drv, 0);
	mmio_driver_pump(&c->drv);
	assert_int_equal(vqb_used_idx(vq), (uint16_t)(used + 1));
	assert_int_equal(vqb_used(vq, used).len, REQ_BYTES);
	assert_false(all_zero(vqb_host(vq, buf), REQ_BYTES)); /* 2^-2048: not a flake */
	assert_true(mmio_driver_irqs(&c->drv) >= 1);
	assert_true(mmio_driver_take_interrupt(&c->drv) & MMIO_INT_USED);
}

static const struct mmio_case_device rng_device = {
	.features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
	.num_queues = 1,
	.queue_size = QSIZE,
	.ram_size = MiB(1),
	.create = rng_create,
	.destroy = rng_destroy,
	.good_request = rng_good_request,
	.post_request = rng_post_request,
};

static int setup(void **state)
{
	return mmio_case_setup(state, &rng_device);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MMIO_CASES(setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
