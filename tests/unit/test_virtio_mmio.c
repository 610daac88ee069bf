/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio/mmio.c: the register window a driver sees (virtio 1.2 §4.2.2), driven through the MMIO
 * bus as a vCPU would: identity, feature and status negotiation (§3.1.1), queue set-up and
 * activation, interrupt status and acknowledge, reset, kicks, and accesses the spec forbids.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/bus.h"
#include "io/loop.h"
#include "mem/gmem.h"
#include "virtio/mmio.h"

#define BASE 0xd0000000ull
#define GSI 5
#define RAM_SIZE 0x10000
#define QUEUE_MAX 8
#define DEVICE_FEATURE_BIT 5 /* any device-specific feature the fake device offers */

/* Registers, §4.2.2. */
enum {
	MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00c,
	DEVICE_FEATURES = 0x010, DEVICE_FEATURES_SEL = 0x014,
	DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024,
	QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038, QUEUE_READY = 0x044,
	QUEUE_NOTIFY = 0x050, INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064, STATUS = 0x070,
	QUEUE_DESC_LOW = 0x080, QUEUE_DRIVER_LOW = 0x090, QUEUE_DEVICE_LOW = 0x0a0,
	CONFIG_GENERATION = 0x0fc, CONFIG = 0x100,
};

/* Status bits, §2.1. */
enum { ACKNOWLEDGE = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8, NEEDS_RESET = 64 };

struct fx {
	uint8_t *ram;
	struct gmem mem;
	struct bus bus;
	struct io_loop loop;
	struct virtio_dev dev;
	struct virtio_mmio m;
	unsigned int activations, resets, ioeventfds;
	uint32_t irq_gsi;
	uint8_t config[4];
};

static int fake_add_ioeventfd(void *opaque, uint64_t addr, uint64_t datamatch, int fd)
{
	struct fx *f = opaque;

	(void)fd;
	/* §4.2.2: each queue's kick is its index written to QueueNotify. */
	if (addr != BASE + QUEUE_NOTIFY || datamatch != f->ioeventfds)
		return -1;
	f->ioeventfds++;
	return 0;
}

static int fake_add_irqfd(void *opaque, uint32_t gsi, int fd)
{
	struct fx *f = opaque;

	(void)fd;
	f->irq_gsi = gsi;
	return 0;
}

static struct fx *fx_of(struct virtio_dev *d)
{
	return (struct fx *)((uint8_t *)d - offsetof(struct fx, dev));
}

static void fake_config_read(struct virtio_dev *d, uint64_t offset, void *data, unsigned int len)
{
	struct fx *f = fx_of(d);

	if (offset < sizeof(f->config))
		memcpy(data, f->config + offset, len < sizeof(f->config) - offset ? len : sizeof(f->config) - offset);
}

static int fake_activate(struct virtio_dev *d)
{
	fx_of(d)->activations++;
	return 0;
}

static void fake_reset(struct virtio_dev *d)
{
	fx_of(d)->resets++;
}

static void fake_queue_notify(struct virtio_dev *d, unsigned int q)
{
	(void)d;
	(void)q;
}

static const struct virtio_dev_ops fake_ops = {
	.config_read = fake_config_read,
	.activate = fake_activate,
	.reset = fake_reset,
	.queue_notify = fake_queue_notify,
};

static uint32_t rd(struct fx *f, uint64_t reg)
{
	uint32_t v = 0xdeadbeef;

	assert_true(bus_access(&f->bus, BASE + reg, &v, 4, false));
	return v;
}

static void wr(struct fx *f, uint64_t reg, uint32_t v)
{
	assert_true(bus_access(&f->bus, BASE + reg, &v, 4, true));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const struct virtio_mmio_host host = {
		.add_ioeventfd = fake_add_ioeventfd, .add_irqfd = fake_add_irqfd, .opaque = f
	};

	if (f == NULL || (f->ram = calloc(1, RAM_SIZE)) == NULL)
		return -1;
	if (gmem_add_region(&f->mem, 0, f->ram, RAM_SIZE) != 0 || io_loop_init(&f->loop) != 0)
		return -1;
	bus_init(&f->bus, "mmio", 0xff);
	memcpy(f->config, "\x11\x22\x33\x44", sizeof(f->config));
	f->dev = (struct virtio_dev){ .ops = &fake_ops, .name = "fake", .device_id = 42,
				      .device_features = 1ull << DEVICE_FEATURE_BIT, .num_queues = 2,
				      .queue_max_size = QUEUE_MAX };
	if (virtio_mmio_init(&f->m, &f->dev, &f->bus, BASE, GSI, &f->mem, &f->loop, &host) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_mmio_destroy(&f->m);
	bus_free(&f->bus);
	io_loop_destroy(&f->loop);
	free(f->ram);
	free(f);
	return 0;
}

/* Sets up queue q with rings at desc (then avail, then used, each in RAM unless moved out). */
static void setup_queue(struct fx *f, uint32_t q, uint32_t desc)
{
	wr(f, QUEUE_SEL, q);
	wr(f, QUEUE_NUM, QUEUE_MAX);
	wr(f, QUEUE_DESC_LOW, desc);
	wr(f, QUEUE_DRIVER_LOW, desc + 0x1000);
	wr(f, QUEUE_DEVICE_LOW, desc + 0x2000);
	wr(f, QUEUE_READY, 1);
}

/* §3.1.1 steps 1-6 with VERSION_1 and the device's feature accepted. */
static void negotiate(struct fx *f)
{
	wr(f, STATUS, ACKNOWLEDGE | DRIVER);
	wr(f, DRIVER_FEATURES_SEL, 0);
	wr(f, DRIVER_FEATURES, 1u << DEVICE_FEATURE_BIT);
	wr(f, DRIVER_FEATURES_SEL, 1);
	wr(f, DRIVER_FEATURES, 1); /* VIRTIO_F_VERSION_1 is bit 32 */
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER | FEATURES_OK);
}

static uint64_t eventfd_count(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void test_identity_and_wiring(void **state)
{
	struct fx *f = *state;

	assert_int_equal(rd(f, MAGIC), 0x74726976); /* "virt" */
	assert_int_equal(rd(f, VERSION), 2);        /* modern interface only */
	assert_int_equal(rd(f, DEVICE_ID), 42);
	assert_int_equal(rd(f, VENDOR_ID), 0x4e4c494b); /* "KILN" */
	assert_int_equal(f->ioeventfds, 2);             /* one kick per queue */
	assert_int_equal(f->irq_gsi, GSI);
}

static void test_features_are_offered_by_halves(void **state)
{
	struct fx *f = *state;

	wr(f, DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(f, DEVICE_FEATURES), 1u << DEVICE_FEATURE_BIT);
	wr(f, DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(f, DEVICE_FEATURES), 1); /* VERSION_1, added by the transport */
	wr(f, DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(f, DEVICE_FEATURES), 0);
}

static void test_features_ok_needs_version_1(void **state)
{
	struct fx *f = *state;

	wr(f, STATUS, ACKNOWLEDGE | DRIVER);
	wr(f, DRIVER_FEATURES, 1u << DEVICE_FEATURE_BIT);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
	/* §3.1.1 step 6: the driver reads the status back and sees it did not stick. */
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER);
}

static void test_features_ok_refuses_unoffered_features(void **state)
{
	struct fx *f = *state;

	wr(f, STATUS, ACKNOWLEDGE | DRIVER);
	wr(f, DRIVER_FEATURES, (1u << DEVICE_FEATURE_BIT) | (1u << 6));
	wr(f, DRIVER_FEATURES_SEL, 1);
	wr(f, DRIVER_FEATURES, 1);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER);
}

static void test_driver_ok_activates_with_rings_in_ram(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	wr(f, QUEUE_SEL, 0);
	assert_int_equal(rd(f, QUEUE_NUM_MAX), QUEUE_MAX);
	setup_queue(f, 0, 0x1000);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_int_equal(f->activations, 1);
	assert_false(f->dev.queues[0].broken);
	assert_true(f->dev.queues[1].broken); /* left unused: every pop on it fails */
	/* §4.2.3.2: queue registers are frozen once the driver runs. */
	wr(f, QUEUE_SEL, 1);
	wr(f, QUEUE_NUM, 4);
	wr(f, QUEUE_READY, 1);
	assert_int_equal(rd(f, QUEUE_READY), 0);
}

static void test_rings_outside_ram_need_reset(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	setup_queue(f, 0, RAM_SIZE - 0x1000); /* avail and used rings beyond guest RAM */
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER | FEATURES_OK | NEEDS_RESET);
	assert_int_equal(f->activations, 0);
}

static void test_queue_size_beyond_max_is_refused(void **state)
{
	struct fx *f = *state;

	wr(f, QUEUE_SEL, 0);
	wr(f, QUEUE_NUM, QUEUE_MAX * 2);
	negotiate(f);
	wr(f, QUEUE_DESC_LOW, 0x1000);
	wr(f, QUEUE_DRIVER_LOW, 0x2000);
	wr(f, QUEUE_DEVICE_LOW, 0x3000);
	wr(f, QUEUE_READY, 1);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_true(rd(f, STATUS) & NEEDS_RESET); /* size 0 is no queue (§2.7) */
	assert_int_equal(f->activations, 0);
}

static void test_interrupt_status_and_ack(void **state)
{
	struct fx *f = *state;
	uint32_t generation = rd(f, CONFIG_GENERATION);

	f->dev.transport->config_changed(&f->dev);
	assert_int_equal(rd(f, INTERRUPT_STATUS), 2); /* configuration change (§4.2.2) */
	assert_int_equal(rd(f, CONFIG_GENERATION), generation + 1);
	assert_int_equal(eventfd_count(f->m.irq_fd), 1);
	wr(f, INTERRUPT_ACK, 1); /* acking a bit that is not set leaves the others */
	assert_int_equal(rd(f, INTERRUPT_STATUS), 2);
	wr(f, INTERRUPT_ACK, 2);
	assert_int_equal(rd(f, INTERRUPT_STATUS), 0);
}

static void test_needs_reset_interrupts_the_driver(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	setup_queue(f, 0, 0x1000);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	f->dev.transport->needs_reset(&f->dev);
	assert_true(rd(f, STATUS) & NEEDS_RESET);
	assert_int_equal(rd(f, INTERRUPT_STATUS), 2);
	assert_int_equal(eventfd_count(f->m.irq_fd), 1);
}

static void test_reset_clears_everything(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	setup_queue(f, 0, 0x1000);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	f->dev.transport->config_changed(&f->dev);
	wr(f, STATUS, 0);
	assert_int_equal(f->resets, 1);
	assert_int_equal(rd(f, STATUS), 0);
	assert_int_equal(rd(f, INTERRUPT_STATUS), 0);
	assert_int_equal(rd(f, QUEUE_READY), 0);
	assert_true(f->dev.queues[0].broken);
}

static void test_notify_by_exit_reaches_the_kick(void **state)
{
	struct fx *f = *state;

	wr(f, QUEUE_NOTIFY, 1);
	assert_int_equal(eventfd_count(f->m.kicks[1].fd), 1);
	wr(f, QUEUE_NOTIFY, 7); /* no such queue: nothing, no crash */
	assert_int_equal(eventfd_count(f->m.kicks[0].fd), 0);
	assert_int_equal(eventfd_count(f->m.kicks[1].fd), 0);
}

static void test_forbidden_accesses(void **state)
{
	struct fx *f = *state;
	uint16_t half = 0xbeef;
	uint32_t word = 0xdeadbeef;

	/* §4.2.2: registers are 32-bit, aligned; anything else reads 0 and writes nothing. */
	assert_true(bus_access(&f->bus, BASE + MAGIC, &half, 2, false));
	assert_int_equal(half, 0);
	assert_true(bus_access(&f->bus, BASE + MAGIC + 1, &word, 4, false));
	assert_int_equal(word, 0);
	half = ACKNOWLEDGE;
	assert_true(bus_access(&f->bus, BASE + STATUS, &half, 2, true));
	assert_int_equal(rd(f, STATUS), 0);
	/* A queue that does not exist has no registers. */
	wr(f, QUEUE_SEL, 5);
	assert_int_equal(rd(f, QUEUE_NUM_MAX), 0);
	wr(f, QUEUE_READY, 1);
	assert_int_equal(rd(f, QUEUE_READY), 0);
}

/* Negotiates, sets queue 0 up at 0x1000 and starts the device. */
static void start(struct fx *f)
{
	negotiate(f);
	setup_queue(f, 0, 0x1000);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_int_equal(f->activations, 1);
}

/* The confirmed crash: DRIVER_OK dropped, then 0. The device must still be reset. */
static void test_cleared_status_bits_are_refused(void **state)
{
	struct fx *f = *state;

	start(f);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
	/* §2.1.2: the driver must not clear a bit; the device keeps them and asks for a reset. */
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK | NEEDS_RESET);
	assert_int_equal(rd(f, INTERRUPT_STATUS), 2);
	wr(f, STATUS, 0);
	assert_int_equal(f->resets, 1);
	assert_int_equal(rd(f, STATUS), 0);
}

static void test_driver_ok_twice_activates_once(void **state)
{
	struct fx *f = *state;

	start(f);
	f->dev.queues[0].next_avail = 3; /* what the I/O thread has taken so far */
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_int_equal(f->activations, 1);
	assert_int_equal(f->dev.queues[0].next_avail, 3); /* the queue was not set up again */
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	/* Dropping DRIVER_OK and setting it again is no way around it either. */
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_int_equal(f->activations, 1);
	assert_int_equal(f->dev.queues[0].next_avail, 3);
}

static void test_driver_ok_without_features_ok_needs_reset(void **state)
{
	struct fx *f = *state;

	wr(f, STATUS, ACKNOWLEDGE | DRIVER);
	setup_queue(f, 0, 0x1000);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | DRIVER_OK);
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER | NEEDS_RESET);
	assert_int_equal(f->activations, 0);
}

static void test_no_activation_once_needs_reset(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	setup_queue(f, 0, 0x1000);
	f->dev.transport->needs_reset(&f->dev);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_int_equal(f->activations, 0);
	assert_false(rd(f, STATUS) & DRIVER_OK);
	wr(f, STATUS, 0);
	assert_int_equal(f->resets, 0); /* never activated: nothing to undo */
}

/* A device whose activate failed half-way is still reset, so nothing it started keeps running. */
static int failing_activate(struct virtio_dev *d)
{
	fx_of(d)->activations++;
	return -EIO;
}

static void test_failed_activation_is_reset(void **state)
{
	struct fx *f = *state;
	struct virtio_dev_ops ops = fake_ops;

	ops.activate = failing_activate;
	f->dev.ops = &ops;
	negotiate(f);
	setup_queue(f, 0, 0x1000);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER | FEATURES_OK | NEEDS_RESET);
	wr(f, STATUS, 0);
	assert_int_equal(f->resets, 1);
	f->dev.ops = &fake_ops;
}

/* Status writes add bits atomically: a backend's NEEDS_RESET between them survives. */
static void test_needs_reset_survives_status_writes(void **state)
{
	struct fx *f = *state;

	wr(f, STATUS, ACKNOWLEDGE);
	f->dev.transport->needs_reset(&f->dev);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER);
	assert_int_equal(rd(f, STATUS), ACKNOWLEDGE | DRIVER | NEEDS_RESET);
}

static void test_overlapping_rings_need_reset(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	wr(f, QUEUE_SEL, 0);
	wr(f, QUEUE_NUM, QUEUE_MAX);
	wr(f, QUEUE_DESC_LOW, 0x1000);
	wr(f, QUEUE_DRIVER_LOW, 0x2000);
	wr(f, QUEUE_DEVICE_LOW, 0x1000 + 16); /* the used ring over the descriptor table */
	wr(f, QUEUE_READY, 1);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_true(rd(f, STATUS) & NEEDS_RESET);
	assert_int_equal(f->activations, 0);
}

static void test_queue_size_not_a_power_of_two_needs_reset(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	setup_queue(f, 0, 0x1000);
	wr(f, QUEUE_READY, 0);
	wr(f, QUEUE_NUM, 6);
	wr(f, QUEUE_READY, 1);
	wr(f, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
	assert_true(rd(f, STATUS) & NEEDS_RESET);
	assert_int_equal(f->activations, 0);
}

static void test_features_frozen_after_features_ok(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	wr(f, DRIVER_FEATURES_SEL, 0);
	wr(f, DRIVER_FEATURES, 0);
	assert_int_equal(f->m.driver_features, (1ull << 32) | (1u << DEVICE_FEATURE_BIT));
}

static void test_config_space_comes_from_the_device(void **state)
{
	struct fx *f = *state;
	uint8_t b = 0;

	assert_int_equal(rd(f, CONFIG), 0x44332211);
	assert_true(bus_access(&f->bus, BASE + CONFIG + 2, &b, 1, false));
	assert_int_equal(b, 0x33);
	assert_int_equal(rd(f, CONFIG + 4), 0); /* beyond the device's config: zeros */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_wiring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_are_offered_by_halves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_ok_needs_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_ok_refuses_unoffered_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_ok_activates_with_rings_in_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rings_outside_ram_need_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_size_beyond_max_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_status_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_reset_interrupts_the_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_clears_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_by_exit_reaches_the_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_space_comes_from_the_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleared_status_bits_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_ok_twice_activates_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_ok_without_features_ok_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_activation_once_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_activation_is_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_reset_survives_status_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlapping_rings_need_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_size_not_a_power_of_two_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_frozen_after_features_ok, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
