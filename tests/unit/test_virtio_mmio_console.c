/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console behind the real virtio-mmio transport, its input and output on pipes, the driver
 * without MULTIPORT (port 0 only: input flows from DRIVER_OK on): output reaches the out fd, input
 * reaches the guest; then the hostile sequences of support/mmio_cases.h.
 */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/mmio_cases.h"
#include "virtio/console.h"

#define QSIZE 32
#define RX_BUF 256
#define RX_POSTED 4

struct console_test {
	struct virtio_console *con;
	int in[2];  /* console input: the device reads in[0], the host writes in[1] */
	int out[2]; /* console output: the device writes out[1], the host reads out[0] */
	unsigned int seq;
	uint16_t rx_seen;    /* receive used entries read so far */
	gpa_t rx_buf[QSIZE]; /* each posted receive chain's buffer, by head */
};

static int console_create(struct mmio_case *c)
{
	struct console_test *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	c->priv = t;
	t->in[0] = t->in[1] = t->out[0] = t->out[1] = -1;
	if (pipe2(t->in, O_CLOEXEC) < 0 || pipe2(t->out, O_CLOEXEC) < 0 ||
	    fcntl(t->out[0], F_SETFL, O_NONBLOCK) < 0 || virtio_console_create(t->in[0], t->out[1], &t->con) < 0)
		return -1;
	c->dev = virtio_console_dev(t->con);
	return 0;
}

static void console_destroy(struct mmio_case *c)
{
	struct console_test *t = c->priv;

	virtio_console_destroy(t->con);
	for (int i = 0; i < 2; i++) {
		close(t->in[i]);
		close(t->out[i]);
	}
	free(t);
}

/* The driver posts n receive buffers and kicks the receiveq. */
static void post_rx(struct mmio_case *c, unsigned int n)
{
	struct console_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_CONSOLE_RECEIVEQ);

	for (unsigned int i = 0; i < n; i++) {
		struct vqb_seg seg = { vqb_alloc(vq, RX_BUF), RX_BUF, true };
		uint16_t head = vqb_chain(vq, &seg, 1);

		t->rx_buf[head] = seg.addr;
		vqb_publish(vq, head);
	}
	mmio_driver_kick(&c->drv, VIRTIO_CONSOLE_RECEIVEQ);
}

/* What the guest received since the last call, concatenated into buf (NUL-terminated). */
static size_t guest_input(struct mmio_case *c, char *buf, size_t cap)
{
	struct console_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_CONSOLE_RECEIVEQ);
	size_t len = 0;
	unsigned int taken = 0;

	for (; t->rx_seen != vqb_used_idx(vq); t->rx_seen++, taken++) {
		struct virtq_used_elem e = vqb_used(vq, t->rx_seen);

		assert_true(e.len <= RX_BUF && len + e.len < cap);
		memcpy(buf + len, vqb_host(vq, t->rx_buf[e.id]), e.len);
		len += e.len;
	}
	buf[len] = '\0';
	if (taken > 0)
		post_rx(c, taken); /* the driver gives the buffers back */
	return len;
}

static void console_started(struct mmio_case *c)
{
	struct console_test *t = c->priv;
	char drop[RX_BUF * RX_POSTED + 1];

	t->rx_seen = 0; /* a new ring */
	post_rx(c, RX_POSTED);
	mmio_driver_pump(&c->drv);
	(void)guest_input(c, drop, sizeof(drop)); /* input that waited in the pipe across a reset */
	mmio_driver_pump(&c->drv);
}

/* Publishes "out <seq>\n" on the transmitq; returns its length, the text in text. */
static size_t publish_output(struct mmio_case *c, char *text, size_t cap)
{
	struct console_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_CONSOLE_TRANSMITQ);
	size_t len = (size_t)snprintf(text, cap, "out %u\n", t->seq++);
	struct vqb_seg seg = { vqb_alloc(vq, len), (uint32_t)len, false };

	memcpy(vqb_host(vq, seg.addr), text, len);
	vqb_publish(vq, vqb_chain(vq, &seg, 1));
	return len;
}

static unsigned int console_post_request(struct mmio_case *c)
{
	char text[32];

	(void)publish_output(c, text, sizeof(text));
	return VIRTIO_CONSOLE_TRANSMITQ;
}

/* Guest output reaches the out fd, whole, and the chain comes back. */
static void console_output(struct mmio_case *c)
{
	struct console_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_CONSOLE_TRANSMITQ);
	uint16_t used = vqb_used_idx(vq);
	char text[32], got[64];
	size_t len = publish_output(c, text, sizeof(text));

	mmio_driver_kick(&c->drv, VIRTIO_CONSOLE_TRANSMITQ);
	mmio_driver_pump(&c->drv);
	assert_int_equal(vqb_used_idx(vq), (uint16_t)(used + 1));
	assert_int_equal(read(t->out[0], got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, text, len);
}

/* Host input reaches the guest's receive buffers, with an interrupt. */
static void console_input(struct mmio_case *c)
{
	struct console_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_CONSOLE_RECEIVEQ);
	char text[32], got[RX_BUF * RX_POSTED + 1];
	int len = snprintf(text, sizeof(text), "in %u\n", t->seq++);

	vqb_set_used_event(vq, t->rx_seen); /* EVENT_IDX: interrupt at the next used entry */
	(void)mmio_driver_irqs(&c->drv);
	assert_int_equal(write(t->in[1], text, (size_t)len), len);
	mmio_driver_pump(&c->drv);
	assert_true(mmio_driver_irqs(&c->drv) >= 1);
	assert_true(mmio_driver_take_interrupt(&c->drv) & MMIO_INT_USED);
	assert_int_equal(guest_input(c, got, sizeof(got)), len);
	assert_string_equal(got, text);
	mmio_driver_pump(&c->drv);
}

static void console_good_request(struct mmio_case *c)
{
	console_output(c);
	console_input(c);
}

static void console_host_input(struct mmio_case *c)
{
	struct console_test *t = c->priv;

	assert_int_equal(write(t->in[1], "typed during a reset\n", 21), 21);
}

static const struct mmio_case_device console_device = {
	.features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX), /* no MULTIPORT */
	.num_queues = 2,
	.queue_size = QSIZE,
	.ram_size = MiB(1),
	.create = console_create,
	.destroy = console_destroy,
	.started = console_started,
	.good_request = console_good_request,
	.post_request = console_post_request,
	.host_input = console_host_input,
};

static int setup(void **state)
{
	return mmio_case_setup(state, &console_device);
}

/* Input typed while the device was reset waits in the pipe and reaches the next driver. */
static void input_waits_across_a_reset(void **state)
{
	struct mmio_case *c = *state;
	struct console_test *t = c->priv;
	char got[RX_BUF * RX_POSTED + 1];

	mmio_case_start(c);
	mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
	mmio_driver_set_status(&c->drv, 0);
	console_host_input(c);
	mmio_driver_pump(&c->drv);
	assert_int_equal(mmio_driver_start(&c->drv, console_device.features, 2, QSIZE), MMIO_S_RUNNING);
	t->rx_seen = 0;
	post_rx(c, RX_POSTED);
	mmio_driver_pump(&c->drv);
	assert_int_equal(guest_input(c, got, sizeof(got)), 21);
	assert_string_equal(got, "typed during a reset\n");
	console_good_request(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MMIO_CASES(setup),
		MMIO_CASE(input_waits_across_a_reset, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
