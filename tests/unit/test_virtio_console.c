/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio/console.c (virtio 1.2 §5.3): pipes play the host's terminal; the test drives the I/O loop
 * by hand, dispatching whatever epoll reports to its handler.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/loop.h"
#include "support/fake_transport.h"
#include "support/virtq_builder.h"
#include "virtio/console.h"

#define RAM_SIZE KiB(256)
#define QSIZE 16

struct fx {
	int in[2];  /* the host types into in[1] */
	int out[2]; /* the host reads the guest's output from out[0] */
	struct io_loop loop;
	struct virtio_console *con;
	struct virtio_dev *dev;
	struct virtq_builder rx, tx;
	struct fake_transport t;
	bool event_idx;
};

static int start(void **state, int in_fd, int out_fd, struct fx *f)
{
	if (io_loop_init(&f->loop) < 0 || virtio_console_create(in_fd, out_fd, &f->con) < 0)
		return -1;
	f->dev = virtio_console_dev(f->con);
	vqb_init(&f->rx, QSIZE, RAM_SIZE);
	vqb_init(&f->tx, QSIZE, RAM_SIZE);
	f->dev->mem = &f->rx.mem;
	f->dev->io = &f->loop;
	if (vqb_queue(&f->rx, &f->dev->queues[VIRTIO_CONSOLE_RECEIVEQ], f->event_idx) != 0 ||
	    vqb_queue(&f->tx, &f->dev->queues[VIRTIO_CONSOLE_TRANSMITQ], f->event_idx) != 0)
		return -1;
	f->dev->driver_features = f->dev->device_features;
	fake_transport_attach(&f->t, f->dev);
	if (f->dev->ops->activate(f->dev) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup_pipes(void **state, bool event_idx)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || pipe2(f->in, O_CLOEXEC) < 0 || pipe2(f->out, O_CLOEXEC) < 0)
		return -1;
	f->event_idx = event_idx;
	return start(state, f->in[0], f->out[1], f);
}

static int setup(void **state)
{
	return setup_pipes(state, false);
}

static int setup_event_idx(void **state)
{
	return setup_pipes(state, true);
}

/* Input that epoll cannot watch, and output discarded. */
static int setup_dev_null(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	f->in[1] = f->out[0] = f->out[1] = -1;
	return f->in[0] < 0 ? -1 : start(state, f->in[0], -1, f);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_console_destroy(f->con);
	io_loop_destroy(&f->loop);
	vqb_free(&f->rx);
	vqb_free(&f->tx);
	for (int i = 0; i < 2; i++) {
		if (f->in[i] >= 0)
			close(f->in[i]);
		if (f->out[i] >= 0)
			close(f->out[i]);
	}
	free(f);
	return 0;
}

/* One round of the I/O loop, by hand: dispatches what epoll reports now; returns how many. */
static int pump(struct fx *f)
{
	struct epoll_event ev[4];
	int n = epoll_wait(f->loop.epoll_fd, ev, 4, 0);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		struct ev_handler *h = ev[i].data.ptr;

		assert_non_null(h);
		h->ready(h, ev[i].events);
	}
	return n;
}

/* The guest posts a receive buffer of two writable parts; returns its address. */
static gpa_t post_receive_buffer(struct fx *f, uint32_t first, uint32_t second)
{
	gpa_t buf = vqb_alloc(&f->rx, first + second);
	struct vqb_seg segs[] = { { buf, first, true }, { buf + first, second, true } };

	vqb_publish(&f->rx, vqb_chain(&f->rx, segs, 2));
	return buf;
}

static void host_types(struct fx *f, const char *s)
{
	assert_int_equal(write(f->in[1], s, strlen(s)), (ssize_t)strlen(s));
}

static uint32_t last_rx_len(struct fx *f)
{
	return vqb_used(&f->rx, (uint16_t)(vqb_used_idx(&f->rx) - 1)).len;
}

static void transmit(struct fx *f, const char *a, const char *b)
{
	gpa_t ga = vqb_alloc(&f->tx, strlen(a));
	gpa_t gb = vqb_alloc(&f->tx, strlen(b));
	struct vqb_seg segs[] = { { ga, (uint32_t)strlen(a), false }, { gb, (uint32_t)strlen(b), false } };

	memcpy(vqb_host(&f->tx, ga), a, strlen(a));
	memcpy(vqb_host(&f->tx, gb), b, strlen(b));
	vqb_publish(&f->tx, vqb_chain(&f->tx, segs, 2));
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_TRANSMITQ);
}

static void guest_output_reaches_host(void **state)
{
	struct fx *f = *state;
	char got[32] = { 0 };

	transmit(f, "hello, ", "host\n");
	assert_int_equal(read(f->out[0], got, sizeof(got)), 12);
	assert_string_equal(got, "hello, host\n");
	assert_int_equal(vqb_used_idx(&f->tx), 1);
	assert_int_equal(vqb_used(&f->tx, 0).len, 0);
	assert_int_equal(f->t.used[VIRTIO_CONSOLE_TRANSMITQ], 1);
}

static void host_input_lands_in_receive_buffer(void **state)
{
	struct fx *f = *state;
	gpa_t buf = post_receive_buffer(f, 3, 61);

	host_types(f, "abcdef");
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 1);
	assert_int_equal(last_rx_len(f), 6);
	assert_memory_equal(vqb_host(&f->rx, buf), "abcdef", 6);
	assert_int_equal(f->t.used[VIRTIO_CONSOLE_RECEIVEQ], 1);
}

static void input_waits_for_a_receive_buffer(void **state)
{
	struct fx *f = *state;

	host_types(f, "wait");
	assert_int_equal(pump(f), 1); /* no buffer: in_fd leaves the loop */
	assert_int_equal(pump(f), 0);
	assert_int_equal(vqb_used_idx(&f->rx), 0);

	gpa_t buf = post_receive_buffer(f, 16, 16);

	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	assert_int_equal(pump(f), 1);
	assert_int_equal(last_rx_len(f), 4);
	assert_memory_equal(vqb_host(&f->rx, buf), "wait", 4);
	assert_int_equal(f->t.needs_reset, 0);
}

/* With EVENT_IDX, running out of buffers asks the driver to kick on its next one (§2.7.10). */
static void out_of_buffers_asks_for_a_kick(void **state)
{
	struct fx *f = *state;

	post_receive_buffer(f, 4, 4);
	host_types(f, "one");
	assert_int_equal(pump(f), 1);
	host_types(f, "two");
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_avail_event(&f->rx), 1);
	assert_int_equal(pump(f), 0);

	gpa_t buf = post_receive_buffer(f, 4, 4);

	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	assert_int_equal(pump(f), 1);
	assert_memory_equal(vqb_host(&f->rx, buf), "two", 3);
}

static void end_of_input_is_final(void **state)
{
	struct fx *f = *state;

	post_receive_buffer(f, 8, 8);
	close(f->in[1]);
	f->in[1] = -1;
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 1);
	assert_int_equal(last_rx_len(f), 0);

	post_receive_buffer(f, 8, 8);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	assert_int_equal(pump(f), 0);
	assert_int_equal(vqb_used_idx(&f->rx), 1);
}

static void reset_stops_input(void **state)
{
	struct fx *f = *state;

	post_receive_buffer(f, 8, 8);
	f->dev->ops->reset(f->dev);
	host_types(f, "x");
	assert_int_equal(pump(f), 0);
	assert_int_equal(vqb_used_idx(&f->rx), 0);
}

static void broken_output_is_dropped(void **state)
{
	struct fx *f = *state;

	signal(SIGPIPE, SIG_IGN);
	close(f->out[0]);
	f->out[0] = -1;
	transmit(f, "nobody ", "listens");
	assert_int_equal(vqb_used_idx(&f->tx), 1); /* EPIPE: dropped, the chain still returns */
	assert_int_equal(f->t.needs_reset, 0);
}

static void unwatchable_input_and_no_output(void **state)
{
	struct fx *f = *state;
	uint8_t cfg[12];

	memset(cfg, 0, sizeof(cfg));
	assert_int_equal(pump(f), 0); /* /dev/null: activate succeeded, nothing watched */
	transmit(f, "into ", "the void");
	assert_int_equal(vqb_used_idx(&f->tx), 1);
	f->dev->ops->config_read(f->dev, 0, cfg, sizeof(cfg)); /* cols, rows 0: no SIZE feature */
	assert_memory_equal(cfg, (uint8_t[12]){ 0 }, sizeof(cfg));
	assert_int_equal(f->dev->device_id, VIRTIO_ID_CONSOLE);
	assert_int_equal(f->dev->num_queues, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(guest_output_reaches_host, setup, teardown),
		cmocka_unit_test_setup_teardown(host_input_lands_in_receive_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(input_waits_for_a_receive_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(out_of_buffers_asks_for_a_kick, setup_event_idx, teardown),
		cmocka_unit_test_setup_teardown(end_of_input_is_final, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_stops_input, setup, teardown),
		cmocka_unit_test_setup_teardown(broken_output_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(unwatchable_input_and_no_output, setup_dev_null, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
