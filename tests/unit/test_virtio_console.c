/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio/console.c and console_ctrl.c (virtio 1.2 §5.3): pipes (or a regular file) play the host's
 * terminal; the test drives the I/O loop by hand, dispatching whatever epoll reports to its handler,
 * and plays a driver that declines MULTIPORT or one that runs the control protocol (§5.3.6.2).
 * activate() runs as on a vCPU thread: once under that thread's seccomp filter, in a child.
 */
#define _GNU_SOURCE /* pipe2, mkostemp, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/loop.h"
#include "io/seccomp.h"
#include "support/fake_transport.h"
#include "support/virtq_builder.h"
#include "virtio/console.h"

#define RAM_SIZE KiB(256)
#define QSIZE 16
#define FILE_INPUT "0123456789abcdefghij" /* 20 bytes */

struct fx {
	int in[2];  /* the host types into in[1] */
	int out[2]; /* the host reads the guest's output from out[0] */
	struct io_loop loop;
	struct virtio_console *con;
	struct virtio_dev *dev;
	struct virtq_builder rx, tx, crx, ctx; /* port 0's queues, then the control queues */
	gpa_t crx_buf[QSIZE];                  /* control receive buffer of each descriptor head */
	struct fake_transport t;
	bool event_idx;
	bool multiport; /* the driver accepts VIRTIO_CONSOLE_F_MULTIPORT */
	bool inactive;  /* setup leaves DRIVER_OK to the test */
};

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

/* DRIVER_OK, then the I/O thread's turn: activate() hands the start of the input to it. */
static void activate(struct fx *f)
{
	assert_int_equal(f->dev->ops->activate(f->dev), 0);
	assert_int_equal(pump(f), 1);
}

static int start(void **state, int in_fd, int out_fd, struct fx *f)
{
	struct virtq_builder *b[] = { &f->rx, &f->tx, &f->crx, &f->ctx };
	unsigned int nq = f->multiport ? 4 : 2;

	if (io_loop_init(&f->loop) < 0 || virtio_console_create(in_fd, out_fd, &f->con) < 0)
		return -1;
	f->dev = virtio_console_dev(f->con);
	f->dev->io = &f->loop; /* as the transport sets it */
	for (unsigned int i = 0; i < 4; i++)
		vqb_init(b[i], QSIZE, RAM_SIZE);
	f->dev->mem = &f->rx.mem;
	for (unsigned int i = 0; i < 4; i++) {
		if (i >= nq) /* as the transport leaves a queue the driver did not set up */
			f->dev->queues[i] = (struct virtq){ .broken = true };
		else if (vqb_queue(b[i], &f->dev->queues[i], f->event_idx) != 0)
			return -1;
	}
	f->dev->driver_features = f->dev->device_features;
	if (!f->multiport)
		f->dev->driver_features &= ~(1ull << VIRTIO_CONSOLE_F_MULTIPORT);
	fake_transport_attach(&f->t, f->dev);
	*state = f;
	if (!f->inactive)
		activate(f);
	return 0;
}

static int setup_pipes(void **state, bool event_idx, bool multiport)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || pipe2(f->in, O_CLOEXEC) < 0 || pipe2(f->out, O_CLOEXEC) < 0)
		return -1;
	f->event_idx = event_idx;
	f->multiport = multiport;
	return start(state, f->in[0], f->out[1], f);
}

/* A driver that declines MULTIPORT: the single-port device. */
static int setup(void **state)
{
	return setup_pipes(state, false, false);
}

static int setup_event_idx(void **state)
{
	return setup_pipes(state, true, false);
}

static int setup_multiport(void **state)
{
	return setup_pipes(state, false, true);
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

/* Input from a regular file holding FILE_INPUT (epoll refuses it). */
static int setup_file(void **state, bool multiport, bool inactive)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[] = "/tmp/kiln-console-XXXXXX";

	if (f == NULL)
		return -1;
	f->in[0] = mkostemp(path, O_CLOEXEC);
	f->in[1] = f->out[0] = f->out[1] = -1;
	if (f->in[0] < 0)
		return -1;
	unlink(path);
	if (write(f->in[0], FILE_INPUT, strlen(FILE_INPUT)) != (ssize_t)strlen(FILE_INPUT) ||
	    lseek(f->in[0], 0, SEEK_SET) != 0)
		return -1;
	f->multiport = multiport;
	f->inactive = inactive;
	return start(state, f->in[0], -1, f);
}

static int setup_file_multiport(void **state)
{
	return setup_file(state, true, false);
}

/* A driver without MULTIPORT, DRIVER_OK not yet set. */
static int setup_file_inactive(void **state)
{
	return setup_file(state, false, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_console_destroy(f->con);
	io_loop_destroy(&f->loop);
	vqb_free(&f->rx);
	vqb_free(&f->tx);
	vqb_free(&f->crx);
	vqb_free(&f->ctx);
	for (int i = 0; i < 2; i++) {
		if (f->in[i] >= 0)
			close(f->in[i]);
		if (f->out[i] >= 0)
			close(f->out[i]);
	}
	free(f);
	return 0;
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

/* A receiveq the driver broke: the input leaves the I/O loop until the reset (no busy loop). */
static void broken_receiveq_stops_input(void **state)
{
	struct fx *f = *state;
	gpa_t buf = vqb_alloc(&f->rx, 16);
	struct vqb_seg segs[] = { { buf, 8, true }, { buf + 8, 8, false } }; /* readable after writable */

	vqb_publish(&f->rx, vqb_chain(&f->rx, segs, 2));
	host_types(f, "x");
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->t.needs_reset, 1);
	assert_int_equal(pump(f), 0); /* the unread input no longer wakes the loop */
	assert_int_equal(f->t.needs_reset, 1);
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

/*
 * A host reader that stops: every chain still goes back to the driver at once (Linux's hvc spins
 * until it does), what the pipe and the output's buffer cannot hold is dropped and counted in
 * bytes_dropped; when the reader reads again, the I/O loop (the one DRIVER_OK gave the output)
 * writes out the rest, the first bytes in order (issue 10, defect 4).
 */
static void stalled_reader_drops_and_counts(void **state)
{
	struct fx *f = *state;
	enum { CHUNK = 16384, CHAINS = 10 };
	static char got[CHUNK * CHAINS];
	gpa_t buf = vqb_alloc(&f->tx, CHUNK);
	size_t len = 0;
	ssize_t n;

	assert_true(fcntl(f->out[0], F_SETPIPE_SZ, 4096) > 0);
	for (unsigned int k = 0; k < CHAINS; k++) {
		struct vqb_seg seg = { buf, CHUNK, false };

		for (unsigned int i = 0; i < CHUNK; i++)
			((char *)vqb_host(&f->tx, buf))[i] = (char)('a' + (k * CHUNK + i) % 26);
		vqb_publish(&f->tx, vqb_chain(&f->tx, &seg, 1));
		f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_TRANSMITQ);
		assert_int_equal(vqb_used_idx(&f->tx), k + 1);
	}
	unsigned long long dropped = atomic_load(&f->dev->stats.bytes_dropped);
	assert_true(dropped > 0);
	assert_int_equal(atomic_load(&f->dev->stats.bytes_from_guest), CHUNK * CHAINS);

	assert_int_equal(fcntl(f->out[0], F_SETFL, O_NONBLOCK), 0);
	do {
		while ((n = read(f->out[0], got + len, sizeof(got) - len)) > 0)
			len += (size_t)n;
	} while (pump(f) > 0);
	assert_int_equal(len + dropped, CHUNK * CHAINS);
	assert_true(len > CHUNK * CHAINS / 2); /* the buffer went out too, not only the pipe's share */
	for (size_t i = 0; i < len; i++)
		assert_int_equal(got[i], 'a' + i % 26);
}

/* /dev/null: epoll refuses it; it is read when there is a buffer, and ends the input at once. */
static void unwatchable_input_and_no_output(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pump(f), 0); /* activate succeeded, nothing watched */
	transmit(f, "into ", "the void");
	assert_int_equal(vqb_used_idx(&f->tx), 1);
	post_receive_buffer(f, 8, 8);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	assert_int_equal(vqb_used_idx(&f->rx), 1);
	assert_int_equal(last_rx_len(f), 0); /* EOF */
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->t.needs_reset, 0);
}

/* §5.3.4: cols and rows 0 (no SIZE), max_nr_ports 1 (MULTIPORT, port 0 only); nothing beyond. */
static void config_space(void **state)
{
	struct fx *f = *state;
	uint8_t cfg[12], want[12] = { [4] = 1 };
	uint32_t ports;

	memset(cfg, 0, sizeof(cfg));
	f->dev->ops->config_read(f->dev, 0, cfg, sizeof(cfg));
	assert_memory_equal(cfg, want, sizeof(cfg));
	f->dev->ops->config_read(f->dev, 4, &ports, sizeof(ports));
	assert_int_equal(le32toh(ports), 1);
	f->dev->ops->config_read(f->dev, UINT64_MAX, cfg, sizeof(cfg)); /* far outside: untouched */
	assert_memory_equal(cfg, want, sizeof(cfg));
	assert_int_equal(f->dev->device_id, VIRTIO_ID_CONSOLE);
	assert_int_equal(f->dev->num_queues, 4);
	assert_true(f->dev->device_features & (1ull << VIRTIO_CONSOLE_F_MULTIPORT));
}

/* --- MULTIPORT control protocol (§5.3.6.2) ------------------------------------------------------ */

/* The driver posts n control receive buffers of size bytes each. */
static void post_ctrl_buffers(struct fx *f, unsigned int n, uint32_t size)
{
	for (unsigned int i = 0; i < n; i++) {
		gpa_t buf = vqb_alloc(&f->crx, size);
		struct vqb_seg seg = { buf, size, true };
		uint16_t head = vqb_chain(&f->crx, &seg, 1);

		f->crx_buf[head] = buf;
		vqb_publish(&f->crx, head);
	}
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_CTRL_RECEIVEQ);
}

/* The driver sends len raw bytes on the control transmitq and kicks it. */
static void ctrl_send_raw(struct fx *f, const void *msg, uint32_t len)
{
	gpa_t buf = vqb_alloc(&f->ctx, len);
	struct vqb_seg seg = { buf, len, false };

	memcpy(vqb_host(&f->ctx, buf), msg, len);
	vqb_publish(&f->ctx, vqb_chain(&f->ctx, &seg, 1));
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_CTRL_TRANSMITQ);
}

static void ctrl_send(struct fx *f, uint32_t id, uint16_t event, uint16_t value)
{
	struct virtio_console_control msg = { htole32(id), htole16(event), htole16(value) };

	ctrl_send_raw(f, &msg, sizeof(msg));
}

/* Checks control message i that the device put in the control receiveq. */
static void assert_ctrl_got(struct fx *f, uint16_t i, uint16_t event, uint16_t value)
{
	struct virtq_used_elem u = vqb_used(&f->crx, i);
	struct virtio_console_control msg;

	assert_true(u.id < QSIZE);
	assert_int_equal(u.len, sizeof(msg));
	memcpy(&msg, vqb_host(&f->crx, f->crx_buf[u.id]), sizeof(msg));
	assert_int_equal(le32toh(msg.id), 0);
	assert_int_equal(le16toh(msg.event), event);
	assert_int_equal(le16toh(msg.value), value);
}

/* The whole handshake, as Linux's driver runs it (§5.3.6.2). */
static void handshake(struct fx *f)
{
	post_ctrl_buffers(f, 4, 64);
	ctrl_send(f, UINT32_MAX, VIRTIO_CONSOLE_DEVICE_READY, 1); /* Linux sends id ~0 here */
	ctrl_send(f, 0, VIRTIO_CONSOLE_PORT_READY, 1);
	ctrl_send(f, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
}

static void control_handshake_and_input_held_until_port_open(void **state)
{
	struct fx *f = *state;

	host_types(f, "early\n"); /* waiting in the pipe before the driver runs */
	post_ctrl_buffers(f, 4, 64);
	gpa_t buf = post_receive_buffer(f, 16, 16);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	assert_int_equal(pump(f), 0); /* the port is not open: in_fd is not even watched */

	ctrl_send(f, UINT32_MAX, VIRTIO_CONSOLE_DEVICE_READY, 1);
	assert_int_equal(vqb_used_idx(&f->ctx), 1); /* the message went back to the driver */
	assert_int_equal(vqb_used_idx(&f->crx), 1);
	assert_ctrl_got(f, 0, VIRTIO_CONSOLE_DEVICE_ADD, 0);
	assert_true(f->t.used[VIRTIO_CONSOLE_CTRL_RECEIVEQ] >= 1);
	assert_true(f->t.used[VIRTIO_CONSOLE_CTRL_TRANSMITQ] >= 1);

	ctrl_send(f, 0, VIRTIO_CONSOLE_PORT_READY, 1);
	assert_int_equal(vqb_used_idx(&f->crx), 3);
	assert_ctrl_got(f, 1, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
	assert_ctrl_got(f, 2, VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_int_equal(pump(f), 0); /* the host end is open, the driver's not yet */
	assert_int_equal(vqb_used_idx(&f->rx), 0);

	ctrl_send(f, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_int_equal(vqb_used_idx(&f->ctx), 3);
	assert_int_equal(vqb_used_idx(&f->crx), 3); /* nothing owed for the driver's PORT_OPEN */
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 1);
	assert_int_equal(last_rx_len(f), 6);
	assert_memory_equal(vqb_host(&f->rx, buf), "early\n", 6);
	assert_int_equal(f->t.needs_reset, 0);
}

static void input_stops_while_port_closed(void **state)
{
	struct fx *f = *state;

	handshake(f);
	post_receive_buffer(f, 8, 8);
	ctrl_send(f, 0, VIRTIO_CONSOLE_PORT_OPEN, 0);
	host_types(f, "later");
	assert_int_equal(pump(f), 0);
	assert_int_equal(vqb_used_idx(&f->rx), 0);

	ctrl_send(f, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_int_equal(pump(f), 1);
	assert_int_equal(last_rx_len(f), 5);
}

/* With no control receive buffer, replies wait; one too small to hold a message goes back empty. */
static void replies_wait_for_control_buffers(void **state)
{
	struct fx *f = *state;

	ctrl_send(f, UINT32_MAX, VIRTIO_CONSOLE_DEVICE_READY, 1);
	assert_int_equal(vqb_used_idx(&f->ctx), 1);
	assert_int_equal(vqb_used_idx(&f->crx), 0);
	ctrl_send(f, UINT32_MAX, VIRTIO_CONSOLE_DEVICE_READY, 1); /* owed once, not twice */

	post_ctrl_buffers(f, 1, 4);
	assert_int_equal(vqb_used_idx(&f->crx), 1);
	assert_int_equal(vqb_used(&f->crx, 0).len, 0);
	post_ctrl_buffers(f, 2, 8);
	assert_int_equal(vqb_used_idx(&f->crx), 2);
	assert_ctrl_got(f, 1, VIRTIO_CONSOLE_DEVICE_ADD, 0);
	assert_int_equal(f->t.needs_reset, 0);
}

/* Messages the driver may not send are ignored; a broken control ring breaks the device. */
static void malformed_control_messages(void **state)
{
	struct fx *f = *state;
	const uint8_t short_msg[4] = { 0, 0, 0, 0 };

	post_ctrl_buffers(f, 8, 64);
	post_receive_buffer(f, 8, 8);
	host_types(f, "x");

	ctrl_send_raw(f, short_msg, sizeof(short_msg));          /* shorter than a message */
	ctrl_send(f, 0, 99, 1);                                   /* no such event */
	ctrl_send(f, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1);            /* the device's event */
	ctrl_send(f, 1, VIRTIO_CONSOLE_PORT_READY, 1);            /* no port 1 */
	ctrl_send(f, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ctrl_send(f, UINT32_MAX, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ctrl_send(f, UINT32_MAX, VIRTIO_CONSOLE_DEVICE_READY, 0); /* the driver failed */
	ctrl_send(f, 0, VIRTIO_CONSOLE_PORT_READY, 0);
	assert_int_equal(vqb_used_idx(&f->ctx), 8); /* each went back to the driver */
	assert_int_equal(vqb_used_idx(&f->crx), 0); /* no reply */
	assert_int_equal(pump(f), 0);                /* the port never opened */
	assert_int_equal(vqb_used_idx(&f->rx), 0);
	assert_int_equal(f->t.needs_reset, 0);

	/* A descriptor pointing outside guest RAM: the queue breaks, kiln does not. */
	vqb_set_desc(&f->ctx, 0, RAM_SIZE - 4, 8, 0, 0);
	vqb_publish(&f->ctx, 0);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_CTRL_TRANSMITQ);
	assert_int_equal(f->t.needs_reset, 1);
}

/* A driver without MULTIPORT: kicks on the control queues it never set up change nothing. */
static void control_queues_unused_without_multiport(void **state)
{
	struct fx *f = *state;

	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_CTRL_TRANSMITQ);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_CTRL_RECEIVEQ);
	assert_int_equal(f->t.needs_reset, 0);
}

/*
 * A regular file (epoll refuses it) is always readable: read into every posted buffer once the port
 * opens, then only at the driver's next receiveq kick (the ring is the backpressure), through EOF.
 */
static void regular_file_input(void **state)
{
	struct fx *f = *state;
	gpa_t b[5];

	for (int i = 0; i < 3; i++)
		b[i] = post_receive_buffer(f, 2, 2);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	assert_int_equal(vqb_used_idx(&f->rx), 0); /* held until PORT_OPEN */
	handshake(f);
	assert_int_equal(vqb_used_idx(&f->rx), 3);
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(vqb_used(&f->rx, i).len, 4);
		assert_memory_equal(vqb_host(&f->rx, b[i]), FILE_INPUT + 4 * i, 4);
	}
	assert_true(f->t.used[VIRTIO_CONSOLE_RECEIVEQ] >= 1);
	assert_int_equal(pump(f), 0); /* nothing in the I/O loop, nothing read without buffers */
	assert_int_equal(vqb_used_idx(&f->rx), 3);

	b[3] = post_receive_buffer(f, 3, 5);
	b[4] = post_receive_buffer(f, 3, 5);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	assert_int_equal(vqb_used_idx(&f->rx), 5);
	assert_int_equal(vqb_used(&f->rx, 3).len, 8);
	assert_memory_equal(vqb_host(&f->rx, b[3]), FILE_INPUT + 12, 8);
	assert_int_equal(vqb_used(&f->rx, 4).len, 0); /* EOF */

	post_receive_buffer(f, 8, 8);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	assert_int_equal(vqb_used_idx(&f->rx), 5); /* the input ended: the buffer stays the driver's */
	assert_int_equal(f->t.needs_reset, 0);
}

/* The guest posts three receive buffers of 2 + 2 bytes and notifies: what drivers do before DRIVER_OK. */
static void post_three_buffers(struct fx *f, gpa_t b[3])
{
	for (int i = 0; i < 3; i++)
		b[i] = post_receive_buffer(f, 2, 2);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ); /* not active yet: ignored */
}

/*
 * Without MULTIPORT the port is open at DRIVER_OK, and the buffers the driver posted before it wait
 * to be filled. activate() (a vCPU thread) reads nothing itself: the I/O thread does, at its turn.
 */
static void activate_leaves_the_reading_to_the_io_thread(void **state)
{
	struct fx *f = *state;
	gpa_t b[3];

	post_three_buffers(f, b);
	assert_int_equal(f->dev->ops->activate(f->dev), 0);
	assert_int_equal(vqb_used_idx(&f->rx), 0);
	assert_int_equal(lseek(f->in[0], 0, SEEK_CUR), 0); /* in_fd untouched */
	assert_int_equal(pump(f), 1);                       /* the I/O thread's turn */
	assert_int_equal(vqb_used_idx(&f->rx), 3);
	for (uint16_t i = 0; i < 3; i++)
		assert_memory_equal(vqb_host(&f->rx, b[i]), FILE_INPUT + 4 * i, 4);
	assert_int_equal(f->t.needs_reset, 0);
}

/*
 * activate() under the vCPU threads' seccomp filter, in a child (the filter is for good): it must
 * return, not die with SIGSYS on a read of in_fd (issue 10, defect 2).
 */
static void activate_under_the_vcpu_filter(void **state)
{
	struct fx *f = *state;
	gpa_t b[3];
	int status;

	post_three_buffers(f, b);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (seccomp_install(SECCOMP_THREAD_VCPU) < 0)
			_exit(77);
		syscall(SYS_exit, f->dev->ops->activate(f->dev) == 0 ? 0 : 1); /* exit: on the list */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		skip(); /* no seccomp here */
	if (WIFSIGNALED(status))
		fail_msg("activate() on a vCPU thread died of signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A reset forgets the handshake: the port must open again before input flows. */
static void reset_forgets_the_handshake(void **state)
{
	struct fx *f = *state;

	handshake(f);
	f->dev->ops->reset(f->dev);
	activate(f);
	post_receive_buffer(f, 8, 8);
	f->dev->ops->queue_notify(f->dev, VIRTIO_CONSOLE_RECEIVEQ);
	host_types(f, "x");
	assert_int_equal(pump(f), 0);
	assert_int_equal(vqb_used_idx(&f->rx), 0);
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
		cmocka_unit_test_setup_teardown(broken_receiveq_stops_input, setup, teardown),
		cmocka_unit_test_setup_teardown(broken_output_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(stalled_reader_drops_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(unwatchable_input_and_no_output, setup_dev_null, teardown),
		cmocka_unit_test_setup_teardown(config_space, setup_multiport, teardown),
		cmocka_unit_test_setup_teardown(control_handshake_and_input_held_until_port_open,
						setup_multiport, teardown),
		cmocka_unit_test_setup_teardown(input_stops_while_port_closed, setup_multiport, teardown),
		cmocka_unit_test_setup_teardown(replies_wait_for_control_buffers, setup_multiport, teardown),
		cmocka_unit_test_setup_teardown(malformed_control_messages, setup_multiport, teardown),
		cmocka_unit_test_setup_teardown(control_queues_unused_without_multiport, setup, teardown),
		cmocka_unit_test_setup_teardown(regular_file_input, setup_file_multiport, teardown),
		cmocka_unit_test_setup_teardown(reset_forgets_the_handshake, setup_multiport, teardown),
		cmocka_unit_test_setup_teardown(activate_leaves_the_reading_to_the_io_thread, setup_file_inactive,
						teardown),
		cmocka_unit_test_setup_teardown(activate_under_the_vcpu_filter, setup_file_inactive, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
