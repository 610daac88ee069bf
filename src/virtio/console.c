/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console (virtio 1.2 §5.3): port 0, the console, with or without MULTIPORT (the driver
 * chooses); console_ctrl.c runs the control protocol.
 *
 * Transmit: each transmitq chain's readable bytes go to a console_out (io/console_out.h), which
 * never blocks the I/O thread: what a stalled host reader leaves no room for is dropped and counted
 * (bytes_dropped), and every chain goes back to the driver at once. Holding chains instead would
 * stall the guest: Linux's hvc console spins, locks held, until its chain comes back.
 * Receive: input flows only once the driver's port is open: with MULTIPORT, from its PORT_OPEN(0, 1)
 * to a PORT_OPEN(0, 0) (Linux drops input that reaches a port it has not opened); without, from
 * DRIVER_OK on. activate() runs on a vCPU thread, whose seccomp allowlist has no read of in_fd: it
 * only wakes the I/O thread (start_fd), which starts the input as a receiveq kick would. Then an
 * in_fd that epoll can watch sits in the I/O loop while the guest has receive buffers: when it is
 * readable, one read goes straight into the next receiveq chain (one read per readiness: in_fd may
 * be blocking, and kiln does not change the flags of an fd it shares with its caller). With no
 * buffer left, in_fd leaves the loop (backpressure: the bytes wait in the host's pipe or tty) and
 * comes back when the guest kicks the receiveq. An fd epoll refuses (a regular file, /dev/null) is
 * always readable: it is read into every buffer the guest has posted, then again at the guest's
 * next receiveq kick, so the ring alone bounds what is read. At EOF or a read error the input ends
 * for good.
 */
#include "virtio/console.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io/console_out.h"
#include "log.h"
#include "virtio/console_ctrl.h"

#define VIRTIO_CONSOLE_QUEUE_SIZE 256
/* How long a snapshot waits for the console's reader to take what kiln still holds for it. */
#define VIRTIO_CONSOLE_SNAPSHOT_WAIT_MS 1000

struct virtio_console {
	struct virtio_dev dev;
	pthread_mutex_t lock; /* everything below, and the queues while they are served */
	bool active;
	int in_fd;
	struct console_out *out; /* NULL: output discarded */
	int start_fd;         /* eventfd: activate() hands the start of the input to the I/O thread */
	bool start_watched;   /* start_fd is in the I/O loop (from the first activate() on) */
	bool in_watched;      /* in_fd is in the I/O loop */
	bool in_always_ready; /* epoll refused in_fd: read it whenever there are receive buffers */
	bool in_ended;        /* no more input: EOF, a read error, or in_fd could not be watched */
	struct console_ctrl ctrl;
	struct ev_handler in_ready, start_ready;
	struct iovec iov[VIRTIO_CONSOLE_QUEUE_SIZE];
};

static struct virtio_console *virtio_console_of(struct virtio_dev *d)
{
	return container_of(d, struct virtio_console, dev);
}

static bool virtio_console_multiport(const struct virtio_console *c)
{
	return virtio_has_feature(&c->dev, VIRTIO_CONSOLE_F_MULTIPORT);
}

/* --- input: host -> guest ---------------------------------------------------------------------- */

static void virtio_console_unwatch_input(struct virtio_console *c)
{
	if (!c->in_watched)
		return;
	io_loop_remove(c->dev.io, c->in_fd);
	c->in_watched = false;
}

/* No more input, for good. */
static void virtio_console_end_input(struct virtio_console *c)
{
	virtio_console_unwatch_input(c);
	c->in_ended = true;
}

/* Bytes read into iov[0..n), 0 at EOF, or -errno. */
static ssize_t virtio_console_readv(int fd, const struct iovec *iov, unsigned int n)
{
	ssize_t r;

	do {
		r = readv(fd, iov, (int)n);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/*
 * Fills the next receive buffer with one read of in_fd: 1 when a buffer went back to the driver,
 * 0 when it has none (it kicks the receiveq on its next one), -EBADMSG when the receiveq broke.
 */
static int virtio_console_receive(struct virtio_console *c)
{
	struct virtq *q = &c->dev.queues[VIRTIO_CONSOLE_RECEIVEQ];
	struct virtq_elem e;
	ssize_t n = 0;
	int rc;

	do {
		rc = virtq_pop(q, &e, c->iov, ARRAY_SIZE(c->iov));
	} while (rc == 0 && virtq_enable_kicks(q));
	if (rc <= 0)
		return rc;
	if (e.in_len > 0)
		n = virtio_console_readv(c->in_fd, c->iov + e.out_num, e.in_num);
	else
		log_guest(LOG_DEBUG, "virtio-console", "a receive buffer with no writable bytes");
	if (n == 0 && e.in_len > 0) {
		virtio_console_end_input(c);
	} else if (n < 0 && n != -EAGAIN) {
		log_warn("virtio-console", "reading console input: %s; no more input", strerror((int)-n));
		virtio_console_end_input(c);
	}
	virtq_push(q, e.head, n > 0 ? (uint32_t)n : 0);
	if (n > 0)
		virtio_stat_add(&c->dev.stats.bytes_to_guest, (unsigned long long)n);
	return 1;
}

/* in_fd is always readable: reads it into every posted buffer, until none is left or input ends. */
static int virtio_console_fill(struct virtio_console *c)
{
	bool pushed = false;
	int rc;

	do {
		rc = virtio_console_receive(c);
		pushed |= rc > 0;
	} while (rc > 0 && !c->in_ended);
	if (pushed)
		c->dev.transport->used(&c->dev, VIRTIO_CONSOLE_RECEIVEQ);
	return rc < 0 ? rc : 0;
}

/*
 * There may be new receive buffers, or the port just opened: lets the input flow. 0, or -EBADMSG
 * when the receiveq broke. A host-side failure to watch in_fd ends the input, with a warning.
 */
static int virtio_console_resume_input(struct virtio_console *c)
{
	bool port_open = !virtio_console_multiport(c) || c->ctrl.port_open;

	if (c->in_fd < 0 || c->in_ended || c->in_watched || !port_open)
		return 0;
	if (!c->in_always_ready) {
		int rc = io_loop_add(c->dev.io, c->in_fd, EPOLLIN, &c->in_ready);

		if (rc == 0) {
			c->in_watched = true;
			return 0;
		}
		if (rc != -EPERM) {
			log_warn("virtio-console", "watching console input: %s; no more input", strerror(-rc));
			c->in_ended = true;
			return 0;
		}
		c->in_always_ready = true; /* a regular file or /dev/null: nothing to wait for */
	}
	return virtio_console_fill(c);
}

/* I/O thread: in_fd is readable (or hung up). */
static void virtio_console_input_ready(struct ev_handler *h, uint32_t events)
{
	struct virtio_console *c = container_of(h, struct virtio_console, in_ready);
	int rc = 0;

	(void)events; /* a hang-up or an error shows up as the read's result */
	pthread_mutex_lock(&c->lock);
	if (c->active && c->in_watched)
		rc = virtio_console_receive(c);
	/* No buffer: the input waits for the guest's next receiveq kick. A broken receiveq: it waits
	 * for the reset, or the unread input would wake this thread again and again. */
	if (rc <= 0)
		virtio_console_unwatch_input(c);
	/* Under the lock: a reset on a vCPU thread must not clear the queue while the transport reads it. */
	if (rc > 0)
		c->dev.transport->used(&c->dev, VIRTIO_CONSOLE_RECEIVEQ);
	if (rc < 0)
		c->dev.transport->needs_reset(&c->dev);
	pthread_mutex_unlock(&c->lock);
}

/* --- output: guest -> host --------------------------------------------------------------------- */

/* Hands every transmitq chain to the output (§5.3.6); -EBADMSG when the queue broke. */
static int virtio_console_transmit(struct virtio_console *c)
{
	struct virtq *q = &c->dev.queues[VIRTIO_CONSOLE_TRANSMITQ];
	bool pushed = false;
	int rc = 0;

	do {
		virtq_disable_kicks(q);
		for (;;) {
			struct virtq_elem e;

			rc = virtq_pop(q, &e, c->iov, ARRAY_SIZE(c->iov));
			if (rc <= 0)
				break;
			if (c->out)
				console_out_writev(c->out, c->iov, e.out_num);
			virtio_stat_add(&c->dev.stats.requests, 1);
			virtio_stat_add(&c->dev.stats.bytes_from_guest, e.out_len);
			virtq_push(q, e.head, 0); /* the device wrote nothing into the chain */
			pushed = true;
		}
	} while (rc == 0 && virtq_enable_kicks(q));
	if (pushed)
		c->dev.transport->used(&c->dev, VIRTIO_CONSOLE_TRANSMITQ);
	return rc;
}

/* --- device ops -------------------------------------------------------------------------------- */

/* The driver's control messages; the port opening or closing starts or stops the input. */
static int virtio_console_control(struct virtio_console *c)
{
	int rc = console_ctrl_receive(&c->ctrl, &c->dev, c->iov, ARRAY_SIZE(c->iov));

	if (rc < 0)
		return rc;
	if (!c->ctrl.port_open) {
		virtio_console_unwatch_input(c);
		return 0;
	}
	return virtio_console_resume_input(c);
}

/* The driver kicked queue q: 0, or -EBADMSG when a queue broke. */
static int virtio_console_serve(struct virtio_console *c, unsigned int q)
{
	bool multiport = virtio_console_multiport(c);

	switch (q) {
	case VIRTIO_CONSOLE_RECEIVEQ: /* new receive buffers: let the input flow again */
		return virtio_console_resume_input(c);
	case VIRTIO_CONSOLE_TRANSMITQ:
		return virtio_console_transmit(c);
	case VIRTIO_CONSOLE_CTRL_RECEIVEQ:
		return multiport ? console_ctrl_send_owed(&c->ctrl, &c->dev, c->iov, ARRAY_SIZE(c->iov)) : 0;
	case VIRTIO_CONSOLE_CTRL_TRANSMITQ:
		return multiport ? virtio_console_control(c) : 0;
	default:
		return 0;
	}
}

static void virtio_console_queue_notify(struct virtio_dev *d, unsigned int q)
{
	struct virtio_console *c = virtio_console_of(d);

	pthread_mutex_lock(&c->lock);
	if (c->active && virtio_console_serve(c, q) < 0)
		d->transport->needs_reset(d);
	pthread_mutex_unlock(&c->lock);
}

/*
 * §5.3.4: cols and rows are 0 without VIRTIO_CONSOLE_F_SIZE; max_nr_ports is 1 for MULTIPORT
 * (port 0 only); emerg_wr does not exist without EMERG_WRITE. The transport zero-fills data.
 */
static void virtio_console_config_read(struct virtio_dev *d, uint64_t offset, void *data, unsigned int len)
{
	const struct {
		uint16_t cols;
		uint16_t rows;
		uint32_t max_nr_ports;
	} __attribute__((packed)) config = { .max_nr_ports = htole32(1) };

	(void)d;
	if (offset >= sizeof(config))
		return;
	memcpy(data, (const uint8_t *)&config + offset,
	       len < sizeof(config) - offset ? len : sizeof(config) - offset);
}

/*
 * A vCPU thread: no backend I/O here (its allowlist has no readv). Without MULTIPORT the port is
 * open from now on: the I/O thread starts the input (virtio_console_start). The device learns its
 * loop from the transport (d->io): start_fd joins it here, and the output drains on it.
 */
static int virtio_console_activate(struct virtio_dev *d)
{
	struct virtio_console *c = virtio_console_of(d);
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->start_fd >= 0 && !c->start_watched) {
		rc = io_loop_add(d->io, c->start_fd, EPOLLIN, &c->start_ready);
		c->start_watched = rc == 0;
	}
	if (rc == 0) {
		console_ctrl_reset(&c->ctrl);
		if (c->out)
			console_out_set_loop(c->out, d->io);
		c->active = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		return rc;
	if (c->start_fd >= 0 && eventfd_write(c->start_fd, 1) < 0)
		log_error("virtio-console", "starting the input: %s", strerror(errno));
	return 0;
}

/* I/O thread: the driver set DRIVER_OK (maybe reset since): the input may start, as at a receiveq kick. */
static void virtio_console_start(struct ev_handler *h, uint32_t events)
{
	struct virtio_console *c = container_of(h, struct virtio_console, start_ready);
	eventfd_t count;

	(void)events;
	if (eventfd_read(c->start_fd, &count) < 0 && errno != EAGAIN)
		log_error("virtio-console", "starting the input: %s", strerror(errno));
	virtio_console_queue_notify(&c->dev, VIRTIO_CONSOLE_RECEIVEQ);
}

static void virtio_console_reset(struct virtio_dev *d)
{
	struct virtio_console *c = virtio_console_of(d);

	pthread_mutex_lock(&c->lock);
	c->active = false;
	virtio_console_unwatch_input(c);
	console_ctrl_reset(&c->ctrl);
	pthread_mutex_unlock(&c->lock);
}

/*
 * Snapshots. Saved: the control handshake (console_ctrl_save), with MULTIPORT, so that the restored
 * driver's port stays open and takes input with no new handshake; without MULTIPORT there is none.
 * The device holds no chain and no data: each transmit chain is used as soon as its bytes are
 * queued for the output, and input is read straight into a receive buffer that goes back at once.
 * The restored device reads its own in_fd (the restore's console input) from the start: whether
 * the snapshotted process's input had ended is not carried over.
 *
 * Output the guest handed over before the snapshot but kiln's ring still holds is flushed here,
 * before the state is saved: the restored guest prints only what it writes afterwards, and a
 * snapshotted process killed at once has lost none of it. What a stalled reader has not taken
 * within VIRTIO_CONSOLE_SNAPSHOT_WAIT_MS stays queued in the snapshotted process (written if it
 * runs on, lost if it is killed), with a warning saying how much.
 */
static void virtio_console_save(struct virtio_dev *d, struct snap_writer *w)
{
	struct virtio_console *c = virtio_console_of(d);

	pthread_mutex_lock(&c->lock);
	if (c->out) {
		size_t left = console_out_sync(c->out, VIRTIO_CONSOLE_SNAPSHOT_WAIT_MS);

		if (left > 0)
			log_warn("virtio-console", "a snapshot: %zu bytes of the guest's output still wait for "
				 "their reader, and are not in the snapshot", left);
	}
	console_ctrl_save(&c->ctrl, w);
	pthread_mutex_unlock(&c->lock);
}

static int virtio_console_load(struct virtio_dev *d, struct snap_cursor *cur, char *why, size_t whylen)
{
	struct virtio_console *c = virtio_console_of(d);
	struct console_ctrl ctl = { 0 };
	int rc;

	pthread_mutex_lock(&c->lock);
	/* A device the driver has not started has no handshake: as if MULTIPORT were not taken. */
	rc = console_ctrl_load(&ctl, cur, c->active && virtio_console_multiport(c), d->name, why, whylen);
	if (rc == 0 && cur->err == 0)
		c->ctrl = ctl; /* the input starts at the receiveq kick every queue gets after a restore */
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static const struct virtio_dev_ops virtio_console_ops = {
	.config_read = virtio_console_config_read,
	.activate = virtio_console_activate,
	.reset = virtio_console_reset,
	.queue_notify = virtio_console_queue_notify,
	.save = virtio_console_save,
	.load = virtio_console_load,
};

/* --- create / destroy -------------------------------------------------------------------------- */

int virtio_console_create(int in_fd, int out_fd, struct virtio_console **out)
{
	struct virtio_console *c = calloc(1, sizeof(*c));
	int rc = 0;

	if (c == NULL)
		return -ENOMEM;
	c->in_fd = in_fd;
	c->start_fd = -1;
	c->in_ready.ready = virtio_console_input_ready;
	c->start_ready.ready = virtio_console_start;
	if (in_fd >= 0 && (c->start_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		rc = -errno;
	if (rc == 0 && out_fd >= 0)
		rc = console_out_create(out_fd, NULL, &c->dev.stats.bytes_dropped, &c->out);
	if (rc < 0) {
		if (c->start_fd >= 0)
			close(c->start_fd);
		free(c);
		return rc;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->dev = (struct virtio_dev){
		.ops = &virtio_console_ops,
		.name = "virtio-console",
		.device_id = VIRTIO_ID_CONSOLE,
		.device_features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX) |
				   (1ull << VIRTIO_CONSOLE_F_MULTIPORT),
		.num_queues = 4, /* §5.3.2: port 0's pair and the control pair */
		.queue_max_size = VIRTIO_CONSOLE_QUEUE_SIZE,
	};
	*out = c;
	return 0;
}

struct virtio_dev *virtio_console_dev(struct virtio_console *c)
{
	return &c->dev;
}

void virtio_console_destroy(struct virtio_console *c)
{
	if (c == NULL)
		return;
	virtio_console_unwatch_input(c);
	if (c->start_watched)
		io_loop_remove(c->dev.io, c->start_fd);
	if (c->start_fd >= 0)
		close(c->start_fd);
	console_out_destroy(c->out);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
