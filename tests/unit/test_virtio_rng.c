/* SPDX-License-Identifier: Apache-2.0 */
/* virtio/rng.c (virtio 1.2 §5.4): entropy requests through a test driver's ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/fake_transport.h"
#include "support/virtq_builder.h"
#include "virtio/rng.h"

#define RAM_SIZE MiB(1)
#define QSIZE 16

struct fx {
	struct virtio_rng *rng;
	struct virtio_dev *dev;
	struct virtq_builder vqb;
	struct fake_transport t;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || virtio_rng_create(&f->rng) < 0)
		return -1;
	f->dev = virtio_rng_dev(f->rng);
	vqb_init(&f->vqb, QSIZE, RAM_SIZE);
	f->dev->mem = &f->vqb.mem;
	if (vqb_queue(&f->vqb, &f->dev->queues[0], false) != 0)
		return -1;
	f->dev->driver_features = f->dev->device_features;
	fake_transport_attach(&f->t, f->dev);
	if (f->dev->ops->activate(f->dev) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_rng_destroy(f->rng);
	vqb_free(&f->vqb);
	free(f);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void request(struct fx *f, const struct vqb_seg *segs, unsigned int n)
{
	vqb_publish(&f->vqb, vqb_chain(&f->vqb, segs, n));
	f->dev->ops->queue_notify(f->dev, 0);
}

static void fills_64k_request(void **state)
{
	struct fx *f = *state;
	gpa_t buf = vqb_alloc(&f->vqb, KiB(64));
	struct vqb_seg segs[] = { { buf, KiB(16), true }, { buf + KiB(16), KiB(48), true } };

	request(f, segs, 2);
	assert_int_equal(vqb_used_idx(&f->vqb), 1);
	assert_int_equal(vqb_used(&f->vqb, 0).len, KiB(64));
	assert_false(all_zero(vqb_host(&f->vqb, buf), KiB(16)));
	assert_false(all_zero(vqb_host(&f->vqb, buf + KiB(16)), KiB(48)));
	assert_int_equal(f->t.used[0], 1);
}

static void large_request_gets_the_limit(void **state)
{
	struct fx *f = *state;
	gpa_t buf = vqb_alloc(&f->vqb, KiB(128));
	struct vqb_seg seg = { buf, KiB(128), true };

	request(f, &seg, 1);
	assert_int_equal(vqb_used(&f->vqb, 0).len, VIRTIO_RNG_MAX_PER_REQUEST);
	assert_false(all_zero(vqb_host(&f->vqb, buf), VIRTIO_RNG_MAX_PER_REQUEST));
	assert_true(all_zero(vqb_host(&f->vqb, buf + VIRTIO_RNG_MAX_PER_REQUEST),
			     KiB(128) - VIRTIO_RNG_MAX_PER_REQUEST));
}

static void readable_buffer_gets_nothing(void **state)
{
	struct fx *f = *state;
	gpa_t in = vqb_alloc(&f->vqb, 16);
	gpa_t out = vqb_alloc(&f->vqb, 64);
	struct vqb_seg segs[] = { { in, 16, false }, { out, 64, true } };

	request(f, segs, 2);
	assert_int_equal(vqb_used_idx(&f->vqb), 1);
	assert_int_equal(vqb_used(&f->vqb, 0).len, 0);
	assert_true(all_zero(vqb_host(&f->vqb, out), 64));
	assert_int_equal(f->t.needs_reset, 0);
}

static void several_requests_one_kick(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 3; i++) {
		struct vqb_seg seg = { vqb_alloc(&f->vqb, 32), 32, true };

		vqb_publish(&f->vqb, vqb_chain(&f->vqb, &seg, 1));
	}
	f->dev->ops->queue_notify(f->dev, 0);
	assert_int_equal(vqb_used_idx(&f->vqb), 3);
	assert_int_equal(vqb_used(&f->vqb, 2).len, 32);
	assert_int_equal(f->t.used[0], 1); /* one completion call for the batch */
}

static void broken_ring_needs_reset(void **state)
{
	struct fx *f = *state;

	vqb_set_desc(&f->vqb, 0, 0, 64, VIRTQ_DESC_F_NEXT, QSIZE); /* next out of range */
	vqb_publish(&f->vqb, 0);
	f->dev->ops->queue_notify(f->dev, 0);
	assert_int_equal(f->t.needs_reset, 1);
	assert_int_equal(vqb_used_idx(&f->vqb), 0);
}

static void reset_stops_serving(void **state)
{
	struct fx *f = *state;
	struct vqb_seg seg = { vqb_alloc(&f->vqb, 32), 32, true };

	f->dev->ops->reset(f->dev);
	request(f, &seg, 1);
	assert_int_equal(vqb_used_idx(&f->vqb), 0);
	assert_int_equal(f->dev->device_id, VIRTIO_ID_ENTROPY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fills_64k_request, setup, teardown),
		cmocka_unit_test_setup_teardown(large_request_gets_the_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(readable_buffer_gets_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(several_requests_one_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(broken_ring_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_stops_serving, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
