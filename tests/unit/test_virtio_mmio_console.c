/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console behind the real virtio-mmio transport, its input and output on pipes, the driver
 * without MULTIPORT (port 0 only: input flows from DRIVER_OK on): output reaches the out fd, input
 * reaches the guest; then the hostile sequences of support/mmio_cases.h. Then snapshots, with and
 * without MULTIPORT: the device saved and restored into a new one (its own pipes) through the
 * transport; the restored port works on without a new handshake, a handshake caught midway goes
 * on, output kiln still held at the snapshot reaches the snapshotted device's reader first (and
 * never the restored one's), and damaged device sections are refused. alarm() only ends a test
 * that would hang.
 */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
#include "virtio/mmio_snapshot.h"

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
	uint16_t ctrl_seen;  /* control receive used entries read so far (MULTIPORT) */
	gpa_t ctrl_buf[QSIZE];
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

	mmio_driver_post_writable(&c->drv, VIRTIO_CONSOLE_RECEIVEQ, RX_BUF, n, t->rx_buf);
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

	t->rx_seen = t->ctrl_seen = 0; /* new rings */
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

/* The restored case's driver knows what c's had posted. */
static void console_carry(const struct mmio_case *from, struct mmio_case *to)
{
	const struct console_test *t = from->priv;
	struct console_test *rt = to->priv;

	rt->seq = t->seq;
	rt->rx_seen = t->rx_seen;
	rt->ctrl_seen = t->ctrl_seen;
	memcpy(rt->rx_buf, t->rx_buf, sizeof(rt->rx_buf));
	memcpy(rt->ctrl_buf, t->ctrl_buf, sizeof(rt->ctrl_buf));
}

/* What the device's two descriptions below share. */
#define CONSOLE_DEVICE_COMMON                        \
	.queue_size = QSIZE,                         \
	.ram_size = MiB(1),                          \
	.create = console_create,                    \
	.destroy = console_destroy,                  \
	.started = console_started,                  \
	.good_request = console_good_request,        \
	.post_request = console_post_request,        \
	.host_input = console_host_input,            \
	.carry = console_carry

static const struct mmio_case_device console_device = {
	.features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX), /* no MULTIPORT */
	.num_queues = 2,
	CONSOLE_DEVICE_COMMON,
};

/* The same device, its driver taking MULTIPORT: four queues, the control pair too. */
static const struct mmio_case_device console_multiport_device = {
	.features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX) |
		    (1ull << VIRTIO_CONSOLE_F_MULTIPORT),
	.num_queues = 4,
	CONSOLE_DEVICE_COMMON,
};

static int setup(void **state)
{
	return mmio_case_setup(state, &console_device);
}

static int setup_multiport(void **state)
{
	return mmio_case_setup(state, &console_multiport_device);
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

/* --- snapshots --------------------------------------------------------------------------------- */

#define CTRL_LEN sizeof(struct virtio_console_control)

/* The driver posts n control receive buffers and kicks the control receiveq. */
static void post_ctrl_rx(struct mmio_case *c, unsigned int n)
{
	struct console_test *t = c->priv;

	mmio_driver_post_writable(&c->drv, VIRTIO_CONSOLE_CTRL_RECEIVEQ, CTRL_LEN, n, t->ctrl_buf);
	mmio_driver_pump(&c->drv);
}

/* The driver sends a control message (as Linux: id ~0 for DEVICE_READY) and the device runs. */
static void ctrl_send(struct mmio_case *c, uint16_t event, uint16_t value)
{
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_CONSOLE_CTRL_TRANSMITQ);
	const struct virtio_console_control msg = {
		.id = htole32(event == VIRTIO_CONSOLE_DEVICE_READY ? UINT32_MAX : 0),
		.event = htole16(event),
		.value = htole16(value),
	};
	struct vqb_seg seg = { vqb_alloc(vq, CTRL_LEN), CTRL_LEN, false };

	memcpy(vqb_host(vq, seg.addr), &msg, CTRL_LEN);
	vqb_publish(vq, vqb_chain(vq, &seg, 1));
	mmio_driver_kick(&c->drv, VIRTIO_CONSOLE_CTRL_TRANSMITQ);
	mmio_driver_pump(&c->drv);
}

/* The control messages the device sent since the last call, "event:value" each, space-separated. */
static const char *ctrl_received(struct mmio_case *c, char *out, size_t cap)
{
	struct console_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_CONSOLE_CTRL_RECEIVEQ);
	size_t len = 0;

	out[0] = '\0';
	for (; t->ctrl_seen != vqb_used_idx(vq); t->ctrl_seen++) {
		struct virtq_used_elem e = vqb_used(vq, t->ctrl_seen);
		struct virtio_console_control msg;

		assert_int_equal(e.len, CTRL_LEN);
		memcpy(&msg, vqb_host(vq, t->ctrl_buf[e.id]), CTRL_LEN);
		assert_int_equal(le32toh(msg.id), 0);
		len += (size_t)snprintf(out + len, cap - len, "%s%u:%u", len ? " " : "", le16toh(msg.event),
					le16toh(msg.value));
		assert_true(len < cap);
	}
	return out;
}

/* Linux's handshake (console_ctrl.c) up to the driver's PORT_OPEN: input flows from then on. */
static void handshake(struct mmio_case *c)
{
	char got[64];

	post_ctrl_rx(c, 4);
	ctrl_send(c, VIRTIO_CONSOLE_DEVICE_READY, 1);
	assert_string_equal(ctrl_received(c, got, sizeof(got)), "1:0");
	ctrl_send(c, VIRTIO_CONSOLE_PORT_READY, 1);
	assert_string_equal(ctrl_received(c, got, sizeof(got)), "4:1 6:1");
	ctrl_send(c, VIRTIO_CONSOLE_PORT_OPEN, 1);
}

/* Restored, the driver's open port takes input and gives output with no handshake of its own. */
static void restore_keeps_the_open_port(void **state)
{
	struct mmio_case *c = *state, *r;
	struct mmio_case_snap s;
	char got[64];

	mmio_case_start(c);
	handshake(c);
	console_good_request(c);
	mmio_case_snap_take(c, &s);
	r = mmio_case_snap_restore(c, &s);
	assert_int_equal(mmio_driver_status(&r->drv), MMIO_S_RUNNING);
	post_ctrl_rx(r, 2);
	assert_string_equal(ctrl_received(r, got, sizeof(got)), ""); /* nothing new to tell */
	console_input(r);
	console_output(r);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
}

/* A handshake caught midway (DEVICE_ADD owed, no control buffer to send it in) goes on after the restore. */
static void restore_midway_through_the_handshake(void **state)
{
	struct mmio_case *c = *state, *r;
	struct console_test *rt;
	struct mmio_case_snap s;
	char got[64], in[RX_BUF * RX_POSTED + 1];

	mmio_case_start(c);
	ctrl_send(c, VIRTIO_CONSOLE_DEVICE_READY, 1);
	mmio_case_snap_take(c, &s);
	r = mmio_case_snap_restore(c, &s);
	rt = r->priv;
	assert_int_equal(write(rt->in[1], "early\n", 6), 6); /* waits for the port to open */
	mmio_driver_pump(&r->drv);
	assert_int_equal(guest_input(r, in, sizeof(in)), 0);
	post_ctrl_rx(r, 4);
	assert_string_equal(ctrl_received(r, got, sizeof(got)), "1:0");
	ctrl_send(r, VIRTIO_CONSOLE_PORT_READY, 1);
	assert_string_equal(ctrl_received(r, got, sizeof(got)), "4:1 6:1");
	ctrl_send(r, VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_int_equal(guest_input(r, in, sizeof(in)), 6);
	assert_string_equal(in, "early\n");
	console_good_request(r);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
}

/* Without MULTIPORT the port is open from DRIVER_OK: so it is after a restore. */
static void restore_without_multiport(void **state)
{
	struct mmio_case *c = *state, *r;
	struct mmio_case_snap s;

	mmio_case_start(c);
	console_good_request(c);
	mmio_case_snap_take(c, &s);
	r = mmio_case_snap_restore(c, &s);
	assert_int_equal(mmio_driver_status(&r->drv), MMIO_S_RUNNING);
	console_good_request(r);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
}

#define STALLED_BYTES (3 * 4096) /* three times the pipe: kiln's ring holds the rest */

struct reader {
	int fd;
	char buf[STALLED_BYTES + 1];
	size_t len;
};

/* The host's reader, slow to start: reads until it has STALLED_BYTES (or the pipe ends). */
static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct pollfd p = { .fd = rd->fd, .events = POLLIN };

	while (rd->len < STALLED_BYTES && poll(&p, 1, -1) == 1) {
		ssize_t n = read(rd->fd, rd->buf + rd->len, sizeof(rd->buf) - rd->len);

		if (n <= 0 && !(n < 0 && errno == EAGAIN))
			break;
		rd->len += n > 0 ? (size_t)n : 0;
	}
	return NULL;
}

/*
 * Output the guest handed over but the host's reader had no room for yet sits in kiln's ring: the
 * snapshot writes it out before it saves (the I/O loop is not run here, as a snapshot holds it), so
 * the snapshotted device's reader gets all of it, none is dropped, and the restored one's gets none.
 */
static void output_held_at_a_snapshot_is_written_first(void **state)
{
	struct mmio_case *c = *state, *r;
	struct console_test *t = c->priv;
	struct virtq_builder *vq;
	struct reader rd = { .fd = t->out[0] };
	struct mmio_case_snap s;
	pthread_t reader;
	char pattern[STALLED_BYTES];

	alarm(20);
	assert_int_equal(fcntl(t->out[1], F_SETPIPE_SZ, 4096), 4096);
	mmio_case_start(c);
	vq = mmio_driver_vq(&c->drv, VIRTIO_CONSOLE_TRANSMITQ);
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	for (size_t off = 0; off < sizeof(pattern); off += 4096) {
		struct vqb_seg seg = { vqb_alloc(vq, 4096), 4096, false };

		memcpy(vqb_host(vq, seg.addr), pattern + off, 4096);
		vqb_publish(vq, vqb_chain(vq, &seg, 1));
	}
	mmio_driver_kick(&c->drv, VIRTIO_CONSOLE_TRANSMITQ);
	mmio_driver_pump(&c->drv);
	assert_int_equal(vqb_used_idx(vq), 3);
	assert_int_equal(pthread_create(&reader, NULL, reader_main, &rd), 0);
	mmio_case_snap_take(c, &s);
	pthread_join(reader, NULL);
	assert_int_equal(rd.len, STALLED_BYTES);
	assert_memory_equal(rd.buf, pattern, STALLED_BYTES);
	assert_int_equal(atomic_load(&c->dev->stats.bytes_dropped), 0);

	r = mmio_case_snap_restore(c, &s);
	char none;
	assert_int_equal(read(((struct console_test *)r->priv)->out[0], &none, 1), -1);
	assert_int_equal(errno, EAGAIN);
	console_good_request(r);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
	alarm(0);
}

/*
 * Damaged device parts (u32 messages owed, bool port open) of a good section: each refused with
 * a one-line reason, nothing of the restored device left. Without MULTIPORT, any control state.
 */
static void damaged_device_sections_refused(void **state)
{
	static const struct mmio_case_damage cases[] = {
		{ "a message owed", 0, 5, 0x01, -EINVAL, "a MULTIPORT control state, for a driver that did not" },
		{ "the port open", 0, 1, 0x01, -EINVAL, "a MULTIPORT control state, for a driver that did not" },
		{ "a message unknown", 0, 5, 0x08, -EBADMSG, "its device state is malformed" },
		{ "a bool that is 2", 0, 1, 0x02, -EBADMSG, "its device state is malformed" },
		{ "cut short", -1, 0, 0, -EBADMSG, "its device state is malformed" },
		{ "a byte too many", 1, 0, 0, -EBADMSG, "its device state is malformed" },
	};

	mmio_case_start(*state);
	mmio_case_expect_refusals(*state, cases, ARRAY_SIZE(cases));
}

/* With MULTIPORT, the state a driver can reach loads; a message kiln does not know does not. */
static void damaged_multiport_sections_refused(void **state)
{
	static const struct mmio_case_damage cases[] = {
		{ "a message unknown", 0, 5, 0x08, -EBADMSG, "its device state is malformed" },
		{ "every bit owed", 0, 2, 0xff, -EBADMSG, "its device state is malformed" },
	};
	struct mmio_case *c = *state;

	mmio_case_start(c);
	handshake(c);
	mmio_case_expect_refusals(c, cases, ARRAY_SIZE(cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MMIO_CASES(setup),
		MMIO_CASE(input_waits_across_a_reset, setup),
		MMIO_CASE(restore_keeps_the_open_port, setup_multiport),
		MMIO_CASE(restore_midway_through_the_handshake, setup_multiport),
		MMIO_CASE(restore_without_multiport, setup),
		MMIO_CASE(output_held_at_a_snapshot_is_written_first, setup),
		MMIO_CASE(damaged_device_sections_refused, setup),
		MMIO_CASE(damaged_multiport_sections_refused, setup_multiport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
