/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile guest's virtio-mmio driver side: see virtio.h. Each device's area holds, per queue
 * q, its rings at area + q * 8 KiB (desc at +0, avail at +0x1000, used at +0x1400, all aligned as
 * virtio 1.2 §2.7 asks) and its NBUF buffers at area + 64 KiB + q * NBUF * BUF_SIZE. Descriptor i
 * uses buffer i % NBUF: a game has far fewer than NBUF descriptors in flight whose bytes matter.
 */
#include "virtio.h"

#define RING_STRIDE 0x2000u
#define AVAIL_OFF 0x1000u
#define USED_OFF 0x1400u
#define BUFS_OFF 0x10000u

_Static_assert(16 * QSZ <= AVAIL_OFF && AVAIL_OFF + 6 + 2 * QSZ <= USED_OFF &&
	       USED_OFF + 6 + 8 * QSZ <= RING_STRIDE, "a queue's rings fit its stride, apart");
_Static_assert(MAX_QUEUES * RING_STRIDE <= BUFS_OFF, "rings come before buffers");
_Static_assert(BUFS_OFF + MAX_QUEUES * NBUF * BUF_SIZE <= DEV_AREA_SIZE, "a device's area holds its buffers");

uint32_t reg_read(const struct vdev *d, uint32_t off)
{
	return mmio_read(d->base + off, 4);
}

void reg_write(const struct vdev *d, uint32_t off, uint32_t v)
{
	mmio_write(d->base + off, v, 4);
}

uint32_t dev_status(const struct vdev *d)
{
	return reg_read(d, REG_STATUS);
}

void dev_set_status(const struct vdev *d, uint32_t v)
{
	reg_write(d, REG_STATUS, v);
}

static const struct dev_kind *kind_of(uint32_t id)
{
	for (unsigned int i = 0; i < dev_kinds_count; i++)
		if (dev_kinds[i].id == id)
			return &dev_kinds[i];
	return NULL;
}

struct vdev *dev_find(struct vdev *devs, unsigned int n, uint32_t id)
{
	for (unsigned int i = 0; i < n; i++)
		if (devs[i].kind->id == id)
			return &devs[i];
	return NULL;
}

/* kiln gives windows in order from VIRTIO_MMIO_BASE; an unclaimed window reads 0. */
unsigned int dev_scan(struct vdev *devs, unsigned int count)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < 16 && n < count; w++) {
		struct vdev *d = &devs[n];

		memset(d, 0, sizeof(*d));
		d->base = VIRTIO_MMIO_BASE + w * VIRTIO_MMIO_WINDOW;
		if (reg_read(d, REG_MAGIC) != VIRTIO_MMIO_MAGIC || reg_read(d, REG_VERSION) != 2)
			continue;
		d->kind = kind_of(reg_read(d, REG_DEVICE_ID));
		if (d->kind == NULL) {
			gprintf("# window %u: device id %u, unknown to this guest\n", w,
				reg_read(d, REG_DEVICE_ID));
			continue;
		}
		d->area = GUEST_AREA_BASE + n * DEV_AREA_SIZE;
		while (d->nq < MAX_QUEUES) {
			uint32_t max;

			reg_write(d, REG_QUEUE_SEL, d->nq);
			max = reg_read(d, REG_QUEUE_NUM_MAX);
			if (max == 0)
				break;
			check(max >= QSZ, "%s: queue %u takes %u entries (QueueNumMax %u)", d->kind->name, d->nq,
			      QSZ, max);
			d->nq++;
		}
		n++;
	}
	return n;
}

struct vring_desc *vq_desc(const struct vdev *d, unsigned int q)
{
	return (struct vring_desc *)(d->area + q * RING_STRIDE);
}

static volatile uint16_t *vq_avail(const struct vdev *d, unsigned int q)
{
	return (volatile uint16_t *)(d->area + q * RING_STRIDE + AVAIL_OFF);
}

static volatile uint16_t *vq_used_hdr(const struct vdev *d, unsigned int q)
{
	return (volatile uint16_t *)(d->area + q * RING_STRIDE + USED_OFF);
}

static const volatile struct vring_used_elem *vq_used_ring(const struct vdev *d, unsigned int q)
{
	return (const volatile struct vring_used_elem *)(d->area + q * RING_STRIDE + USED_OFF + 4);
}

void vq_suppress_interrupts(const struct vdev *d, unsigned int q)
{
	vq_avail(d, q)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
}

uint16_t *vq_avail_event(const struct vdev *d, unsigned int q)
{
	return (uint16_t *)(d->area + q * RING_STRIDE + USED_OFF + 4 + 8 * QSZ);
}

uint32_t vq_buf(const struct vdev *d, unsigned int q, unsigned int desc_index)
{
	return d->area + BUFS_OFF + (q * NBUF + desc_index % NBUF) * BUF_SIZE;
}

void dev_reset(struct vdev *d)
{
	dev_set_status(d, 0);
	for (unsigned int q = 0; q < d->nq; q++) {
		/* Ring entries are written before they are published: the headers are all that matter. */
		memset((void *)(d->area + q * RING_STRIDE + AVAIL_OFF), 0, 4);
		memset((void *)(d->area + q * RING_STRIDE + USED_OFF), 0, 4);
		d->q[q] = (struct vq){
			.num = QSZ,
			.desc = d->area + q * RING_STRIDE,
			.avail = d->area + q * RING_STRIDE + AVAIL_OFF,
			.used = d->area + q * RING_STRIDE + USED_OFF,
			.ready = true,
		};
	}
}

void dev_begin(struct vdev *d)
{
	dev_reset(d);
	dev_set_status(d, S_ACK);
	dev_set_status(d, S_ACK | S_DRIVER);
	reg_write(d, REG_DEVICE_FEATURES_SEL, 0);
	d->offered = reg_read(d, REG_DEVICE_FEATURES);
	reg_write(d, REG_DEVICE_FEATURES_SEL, 1);
	d->offered |= (uint64_t)reg_read(d, REG_DEVICE_FEATURES) << 32;
}

void dev_features(const struct vdev *d, uint32_t lo, uint32_t hi)
{
	reg_write(d, REG_DRIVER_FEATURES_SEL, 0);
	reg_write(d, REG_DRIVER_FEATURES, lo);
	reg_write(d, REG_DRIVER_FEATURES_SEL, 1);
	reg_write(d, REG_DRIVER_FEATURES, hi);
}

uint32_t dev_good_features_lo(const struct vdev *d)
{
	return (uint32_t)d->offered & (1u << F_INDIRECT_DESC);
}

void queue_program(struct vdev *d, unsigned int q)
{
	const struct vq *v = &d->q[q];

	reg_write(d, REG_QUEUE_SEL, q);
	reg_write(d, REG_QUEUE_NUM, v->num);
	reg_write(d, REG_QUEUE_DESC_LOW, (uint32_t)v->desc);
	reg_write(d, REG_QUEUE_DESC_HIGH, (uint32_t)(v->desc >> 32));
	reg_write(d, REG_QUEUE_DRIVER_LOW, (uint32_t)v->avail);
	reg_write(d, REG_QUEUE_DRIVER_HIGH, (uint32_t)(v->avail >> 32));
	reg_write(d, REG_QUEUE_DEVICE_LOW, (uint32_t)v->used);
	reg_write(d, REG_QUEUE_DEVICE_HIGH, (uint32_t)(v->used >> 32));
	reg_write(d, REG_QUEUE_READY, v->ready);
}

uint32_t dev_features_ok(struct vdev *d, uint32_t extra_lo)
{
	dev_begin(d);
	dev_features(d, dev_good_features_lo(d) | extra_lo, F_HI_VERSION_1);
	dev_set_status(d, S_UP);
	return dev_status(d);
}

uint32_t dev_up(struct vdev *d, uint32_t extra_lo)
{
	uint32_t s = dev_features_ok(d, extra_lo);

	for (unsigned int q = 0; q < d->nq; q++)
		queue_program(d, q);
	return s;
}

bool dev_activate(struct vdev *d, uint32_t extra_lo)
{
	if (dev_up(d, extra_lo) != S_UP)
		return false;
	dev_set_status(d, S_LIVE);
	return dev_status(d) == S_LIVE;
}

void avail_publish(struct vdev *d, unsigned int q, uint16_t head)
{
	struct vq *v = &d->q[q];
	volatile uint16_t *avail = vq_avail(d, q);

	avail[2 + v->avail_idx % QSZ] = head;
	barrier(); /* x86 keeps stores in order: the entry is visible before idx (§2.7.13) */
	avail[1] = ++v->avail_idx;
}

uint8_t *next_buf(const struct vdev *d, unsigned int q, unsigned int i)
{
	return (uint8_t *)vq_buf(d, q, d->q[q].next_desc + i);
}

uint16_t chain_post(struct vdev *d, unsigned int q, const struct seg *segs, unsigned int n)
{
	struct vq *v = &d->q[q];
	struct vring_desc *table = vq_desc(d, q);
	uint16_t head = v->next_desc % QSZ;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSZ);
		struct vring_desc *desc = &table[idx];

		desc->addr = segs[i].addr ? segs[i].addr : vq_buf(d, q, idx);
		desc->len = segs[i].len;
		desc->flags = (uint16_t)((segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		desc->next = (uint16_t)((idx + 1) % QSZ);
	}
	v->next_desc = (uint16_t)((head + n) % QSZ);
	avail_publish(d, q, head);
	return head;
}

void kick(const struct vdev *d, uint32_t q)
{
	mb(); /* avail idx before the notification, and before the device reads its flags (§2.7.13.4) */
	reg_write(d, REG_QUEUE_NOTIFY, q);
}

bool used_wait(struct vdev *d, unsigned int q, struct vring_used_elem *e)
{
	struct vq *v = &d->q[q];
	volatile uint16_t *used = vq_used_hdr(d, q);

	for (unsigned int i = 0; i < WAIT_POLLS; i++) {
		if (used[1] != v->used_seen) {
			const volatile struct vring_used_elem *u = &vq_used_ring(d, q)[v->used_seen++ % QSZ];

			barrier(); /* the entry after the idx that published it (§2.7.14) */
			e->id = u->id;
			e->len = u->len;
			return true;
		}
		poll_pause();
	}
	return false;
}

unsigned int ring_cycle(struct vdev *d, unsigned int q, const struct seg *s, unsigned int rounds)
{
	struct vq *v = &d->q[q];
	struct vring_desc *table = vq_desc(d, q);
	volatile uint16_t *avail = vq_avail(d, q), *used = vq_used_hdr(d, q);
	unsigned int round, i;

	for (i = 0; i < QSZ; i++) {
		table[i] = (struct vring_desc){ .addr = s->addr ? s->addr : vq_buf(d, q, i), .len = s->len,
						.flags = s->write ? VIRTQ_DESC_F_WRITE : 0 };
		avail[2 + i] = (uint16_t)i;
	}
	for (round = 0; round < rounds; round++) {
		v->avail_idx = (uint16_t)(v->avail_idx + QSZ);
		barrier();
		avail[1] = v->avail_idx;
		kick(d, q);
		for (i = 0; i < WAIT_POLLS && used[1] != v->avail_idx; i++)
			poll_pause();
		if (i == WAIT_POLLS)
			break;
		v->used_seen = v->avail_idx;
	}
	return round;
}

uint32_t status_wait(const struct vdev *d, uint32_t mask)
{
	uint32_t s = dev_status(d);

	for (unsigned int i = 0; i < WAIT_POLLS && (s & mask) != mask; i++) {
		poll_pause();
		s = dev_status(d);
	}
	return s;
}

void dev_good_request_post_kick(struct vdev *d)
{
	d->kind->post(d);
	kick(d, d->kind->kick_queue);
}

bool dev_good_request(struct vdev *d)
{
	dev_good_request_post_kick(d);
	return d->kind->done(d);
}
