/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console (virtio 1.2 §5.3), a single port without MULTIPORT, SIZE or EMERG_WRITE.
 *
 * Transmit: each transmitq chain's readable bytes are written to out_fd; what cannot be written
 * (EAGAIN, EPIPE, an error) is dropped with a rate-limited warning, so a stuck host reader never
 * stalls the guest for good.
 * Receive: in_fd sits in the I/O loop while the guest has receive buffers. When it is readable, one
 * read goes straight into the next receiveq chain (one read per readiness: in_fd may be blocking,
 * and kiln does not change the flags of an fd it shares with its caller). With no buffer left,
 * in_fd leaves the loop (backpressure: the bytes wait in the host's pipe or tty) and comes back
 * when the guest kicks the receiveq. At EOF or a read error it leaves for good.
 */
#include "virtio/console.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "virtio/iov.h"

#define VIRTIO_CONSOLE_QUEUE_SIZE 256

struct virtio_console {
	struct virtio_dev dev;
	pthread_mutex_t lock; /* everything below, and the queues while they are served */
	bool active;
	int in_fd;
	int out_fd;
	bool in_watched; /* in_fd is in the I/O loop */
	bool in_ended;   /* no more input: EOF, a read error, or an fd epoll cannot watch */
	struct ev_handler in_ready;
	struct iovec iov[VIRTIO_CONSOLE_QUEUE_SIZE];
};

static struct virtio_console *virtio_console_of(struct virtio_dev *d)
{
	return container_of(d, struct virtio_console, dev);
}

/* --- input: host -> guest ---------------------------------------------------------------------- */

static int virtio_console_watch_input(struct virtio_console *c)
{
	if (c->in_fd < 0 || c->in_ended || c->in_watched)
		return 0;
	int rc = io_loop_add(c->dev.io, c->in_fd, EPOLLIN, &c->in_ready);

	if (rc == -EPERM) { /* a regular file or /dev/null: there is nothing to wait for */
		c->in_ended = true;
		return 0;
	}
	if (rc < 0)
		return rc;
	c->in_watched = true;
	return 0;
}

static void virtio_console_unwatch_input(struct virtio_console *c)
{
	if (!c->in_watched)
		return;
	io_loop_remove(c->dev.io, c->in_fd);
	c->in_watched = false;
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

/* Fills the next receive buffer with one read of in_fd. -EBADMSG when the receiveq broke. */
static int virtio_console_receive(struct virtio_console *c, bool *pushed)
{
	struct virtq *q = &c->dev.queues[VIRTIO_CONSOLE_RECEIVEQ];
	struct virtq_elem e;
	ssize_t n = 0;
	int rc;

	do {
		rc = virtq_pop(q, &e, c->iov, ARRAY_SIZE(c->iov));
	} while (rc == 0 && virtq_enable_kicks(q));
	if (rc < 0)
		return rc;
	if (rc == 0) { /* no buffer: the input waits for the guest's next receiveq kick */
		virtio_console_unwatch_input(c);
		return 0;
	}
	if (e.in_len > 0)
		n = virtio_console_readv(c->in_fd, c->iov + e.out_num, e.in_num);
	else
		log_guest(LOG_DEBUG, "virtio-console", "a receive buffer with no writable bytes");
	if (n == 0 && e.in_len > 0) {
		virtio_console_unwatch_input(c);
		c->in_ended = true;
	} else if (n < 0 && n != -EAGAIN) {
		log_warn("virtio-console", "reading console input: %s; no more input", strerror((int)-n));
		virtio_console_unwatch_input(c);
		c->in_ended = true;
	}
	virtq_push(q, e.head, n > 0 ? (uint32_t)n : 0);
	*pushed = true;
	return 0;
}

/* I/O thread: in_fd is readable (or hung up). */
static void virtio_console_input_ready(struct ev_handler *h, uint32_t events)
{
	struct virtio_console *c = container_of(h, struct virtio_console, in_ready);
	bool pushed = false;
	int rc = 0;

	(void)events; /* a hang-up or an error shows up as the read's result */
	pthread_mutex_lock(&c->lock);
	if (c->active && c->in_watched)
		rc = virtio_console_receive(c, &pushed);
	/* Under the lock: a reset on a vCPU thread must not clear the queue while the transport reads it. */
	if (pushed)
		c->dev.transport->used(&c->dev, VIRTIO_CONSOLE_RECEIVEQ);
	if (rc < 0)
		c->dev.transport->needs_reset(&c->dev);
	pthread_mutex_unlock(&c->lock);
}

/* --- output: guest -> host --------------------------------------------------------------------- */

/* Writes iov[0..n) (consumed) to out_fd; what cannot be written is dropped with a warning. */
static void virtio_console_write_out(struct virtio_console *c, struct iovec *iov, unsigned int n,
				     uint64_t len)
{
	while (len > 0) {
		ssize_t r = writev(c->out_fd, iov, (int)n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			log_guest(LOG_WARN, "virtio-console", "console output: %llu bytes dropped: %s",
				  (unsigned long long)len, r < 0 ? strerror(errno) : "nothing written");
			return;
		}
		len -= (uint64_t)r;
		iov_consume(&iov, &n, (size_t)r);
	}
}

/* Writes out every transmitq chain (§5.3.6); -EBADMSG when the queue broke. */
static int virtio_console_transmit(struct virtio_console *c, bool *pushed)
{
	struct virtq *q = &c->dev.queues[VIRTIO_CONSOLE_TRANSMITQ];

	do {
		virtq_disable_kicks(q);
		for (;;) {
			struct virtq_elem e;
			int rc = virtq_pop(q, &e, c->iov, ARRAY_SIZE(c->iov));

			if (rc < 0)
				return rc;
			if (rc == 0)
				break;
			if (c->out_fd >= 0)
				virtio_console_write_out(c, c->iov, e.out_num, e.out_len);
			virtq_push(q, e.head, 0); /* the device wrote nothing into the chain */
			*pushed = true;
		}
	} while (virtq_enable_kicks(q));
	return 0;
}

/* --- device ops -------------------------------------------------------------------------------- */

static void virtio_console_queue_notify(struct virtio_dev *d, unsigned int q)
{
	struct virtio_console *c = virtio_console_of(d);
	bool pushed = false;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->active && q == VIRTIO_CONSOLE_RECEIVEQ) {
		/* New receive buffers: let the input flow again. */
		int err = virtio_console_watch_input(c);

		if (err < 0)
			log_guest(LOG_WARN, "virtio-console", "watching console input: %s", strerror(-err));
	} else if (c->active && q == VIRTIO_CONSOLE_TRANSMITQ) {
		rc = virtio_console_transmit(c, &pushed);
	}
	if (pushed)
		d->transport->used(d, VIRTIO_CONSOLE_TRANSMITQ);
	if (rc < 0)
		d->transport->needs_reset(d);
	pthread_mutex_unlock(&c->lock);
}

/*
 * §5.3.4: cols and rows are 0 without VIRTIO_CONSOLE_F_SIZE, and the other fields need features
 * kiln does not offer, so the transport's zero fill is the whole config space.
 */
static void virtio_console_config_read(struct virtio_dev *d, uint64_t offset, void *data, unsigned int len)
{
	(void)d;
	(void)offset;
	(void)data;
	(void)len;
}

static int virtio_console_activate(struct virtio_dev *d)
{
	struct virtio_console *c = virtio_console_of(d);

	pthread_mutex_lock(&c->lock);
	int rc = virtio_console_watch_input(c);

	c->active = rc == 0;
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		log_error("virtio-console", "watching console input: %s", strerror(-rc));
	return rc;
}

static void virtio_console_reset(struct virtio_dev *d)
{
	struct virtio_console *c = virtio_console_of(d);

	pthread_mutex_lock(&c->lock);
	c->active = false;
	virtio_console_unwatch_input(c);
	pthread_mutex_unlock(&c->lock);
}

static const struct virtio_dev_ops virtio_console_ops = {
	.config_read = virtio_console_config_read,
	.activate = virtio_console_activate,
	.reset = virtio_console_reset,
	.queue_notify = virtio_console_queue_notify,
};

/* --- create / destroy -------------------------------------------------------------------------- */

int virtio_console_create(int in_fd, int out_fd, struct virtio_console **out)
{
	struct virtio_console *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->in_ready.ready = virtio_console_input_ready;
	c->dev = (struct virtio_dev){
		.ops = &virtio_console_ops,
		.name = "virtio-console",
		.device_id = VIRTIO_ID_CONSOLE,
		.device_features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
		.num_queues = 2,
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
	pthread_mutex_destroy(&c->lock);
	free(c);
}
