/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng (virtio 1.2 §5.4): one request queue; each chain's writable buffers are filled from
 * getrandom(2), at most VIRTIO_RNG_MAX_PER_REQUEST bytes per chain so one request cannot hold the
 * I/O thread for long (§5.4.6.2: the device MAY use less than the whole buffer).
 *
 * A chain with device-readable buffers breaks §5.4.6.1; it is returned with 0 bytes used (and a
 * rate-limited warning) rather than breaking the queue: the driver sees it got nothing.
 */
#include "virtio/rng.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>

#include "log.h"

#define VIRTIO_RNG_QUEUE_SIZE 256

struct virtio_rng {
	struct virtio_dev dev;
	pthread_mutex_t lock; /* active, and the queue while it is served */
	bool active;
	struct iovec iov[VIRTIO_RNG_QUEUE_SIZE];
};

static struct virtio_rng *virtio_rng_of(struct virtio_dev *d)
{
	return container_of(d, struct virtio_rng, dev);
}

/* Fills buf[0..len) from getrandom; returns the bytes filled (len unless getrandom failed). */
static size_t virtio_rng_fill(uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = getrandom(buf + done, len - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			log_guest(LOG_WARN, "virtio-rng", "getrandom: %s", strerror(errno));
			break;
		}
		done += (size_t)r;
	}
	return done;
}

/* Fills the writable buffers iov[0..n), up to the per-request limit; returns the bytes filled. */
static uint32_t virtio_rng_fill_iov(const struct iovec *iov, unsigned int n)
{
	size_t budget = VIRTIO_RNG_MAX_PER_REQUEST;
	size_t total = 0;

	for (unsigned int i = 0; i < n && budget > 0; i++) {
		size_t want = iov[i].iov_len < budget ? iov[i].iov_len : budget;
		size_t got = virtio_rng_fill(iov[i].iov_base, want);

		total += got;
		budget -= want;
		if (got < want)
			break;
	}
	return (uint32_t)total;
}

static uint32_t virtio_rng_serve(struct virtio_rng *r, const struct virtq_elem *e)
{
	if (e->out_num > 0) {
		log_guest(LOG_WARN, "virtio-rng", "a request with device-readable buffers: refused");
		return 0;
	}
	return virtio_rng_fill_iov(r->iov, e->in_num);
}

/* Serves chains until the ring stays empty with kicks enabled; -EBADMSG when the queue broke. */
static int virtio_rng_drain(struct virtio_rng *r, struct virtq *q, bool *pushed)
{
	do {
		virtq_disable_kicks(q);
		for (;;) {
			struct virtq_elem e;
			int rc = virtq_pop(q, &e, r->iov, ARRAY_SIZE(r->iov));

			if (rc < 0)
				return rc;
			if (rc == 0)
				break;
			virtq_push(q, e.head, virtio_rng_serve(r, &e));
			*pushed = true;
		}
	} while (virtq_enable_kicks(q));
	return 0;
}

static void virtio_rng_queue_notify(struct virtio_dev *d, unsigned int q)
{
	struct virtio_rng *r = virtio_rng_of(d);
	bool pushed = false;
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	if (r->active && q == 0)
		rc = virtio_rng_drain(r, &d->queues[0], &pushed);
	if (pushed)
		d->transport->used(d, 0);
	if (rc < 0)
		d->transport->needs_reset(d);
	pthread_mutex_unlock(&r->lock);
}

/* §5.4.4: no config space; the transport has zero-filled the read. */
static void virtio_rng_config_read(struct virtio_dev *d, uint64_t offset, void *data, unsigned int len)
{
	(void)d;
	(void)offset;
	(void)data;
	(void)len;
}

static int virtio_rng_activate(struct virtio_dev *d)
{
	struct virtio_rng *r = virtio_rng_of(d);

	pthread_mutex_lock(&r->lock);
	r->active = true;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void virtio_rng_reset(struct virtio_dev *d)
{
	struct virtio_rng *r = virtio_rng_of(d);

	pthread_mutex_lock(&r->lock);
	r->active = false;
	pthread_mutex_unlock(&r->lock);
}

/* Snapshots: each request is served whole when kicked, so the transport's state is all there is. */
static void virtio_rng_save(struct virtio_dev *d, struct snap_writer *w)
{
	(void)d;
	(void)w;
}

static int virtio_rng_load(struct virtio_dev *d, struct snap_cursor *c, char *why, size_t whylen)
{
	(void)d;
	(void)c;
	(void)why;
	(void)whylen;
	return 0;
}

static const struct virtio_dev_ops virtio_rng_ops = {
	.config_read = virtio_rng_config_read,
	.activate = virtio_rng_activate,
	.reset = virtio_rng_reset,
	.queue_notify = virtio_rng_queue_notify,
	.save = virtio_rng_save,
	.load = virtio_rng_load,
};

int virtio_rng_create(struct virtio_rng **out)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->dev = (struct virtio_dev){
		.ops = &virtio_rng_ops,
		.name = "virtio-rng",
		.device_id = VIRTIO_ID_ENTROPY,
		.device_features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
		.num_queues = 1,
		.queue_max_size = VIRTIO_RNG_QUEUE_SIZE,
	};
	*out = r;
	return 0;
}

struct virtio_dev *virtio_rng_dev(struct virtio_rng *r)
{
	return &r->dev;
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}
