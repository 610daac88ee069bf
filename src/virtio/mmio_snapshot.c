/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio-mmio device in a snapshot: section VIRT/<index> holds the device id, the driver's view
 * of the transport (status, features, selectors, interrupt status, config generation), each
 * queue's registers and position, then what the device saves of its own.
 *
 * A restore replays the driver: it writes the saved registers through the transport's own register
 * path (virtio_mmio_driver_write), in the order of virtio 1.2 §3.1.1, so a state file meets the
 * same checks as a guest (features offered, rings in RAM and apart, DRIVER_OK starting the device
 * through its activate). Only then are the queue positions and interrupt state set.
 *
 * Layout: u32 device id, u32 status, u64 driver features, u32 device/driver features selectors,
 * u32 queue selector, u32 interrupt status, u32 config generation, u32 queue count; per queue
 * u16 size, bool ready, u64 desc/driver/device addresses, u16 next avail, u16 next used,
 * u16 signalled used, bool signalled used valid, bool broken; then the device's own part.
 */
#include "virtio/mmio_snapshot.h"

#include <string.h>

#include "virtio/mmio_regs.h"

#define STATUS_ALL (STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK | STATUS_FEATURES_OK | \
		    STATUS_NEEDS_RESET | STATUS_FAILED)

bool virtio_mmio_can_snapshot(const struct virtio_mmio *m)
{
	return m->dev->ops->save != NULL && m->dev->ops->load != NULL;
}

static void put_queue(struct snap_writer *w, const struct virtio_mmio_queue_regs *r, const struct virtq *q,
		      unsigned int held)
{
	snap_put_u16(w, r->num);
	snap_put_bool(w, r->ready);
	snap_put_u64(w, r->desc);
	snap_put_u64(w, r->driver);
	snap_put_u64(w, r->device);
	/* The chains the device holds unused are taken again after a restore (device.h). */
	snap_put_u16(w, (uint16_t)(q->next_avail - held));
	snap_put_u16(w, q->next_used);
	snap_put_u16(w, q->signalled_used);
	snap_put_bool(w, q->signalled_used_valid);
	snap_put_bool(w, q->broken);
}

void virtio_mmio_save(struct virtio_mmio *m, uint32_t index, struct snap_writer *w)
{
	struct virtio_dev *d = m->dev;

	pthread_mutex_lock(&m->lock);
	snap_begin(w, VIRTIO_SNAP_TAG, index);
	snap_put_u32(w, d->device_id);
	snap_put_u32(w, atomic_load(&m->status));
	snap_put_u64(w, m->driver_features);
	snap_put_u32(w, m->device_features_sel);
	snap_put_u32(w, m->driver_features_sel);
	snap_put_u32(w, m->queue_sel);
	snap_put_u32(w, atomic_load(&m->interrupt_status));
	snap_put_u32(w, atomic_load(&m->config_generation));
	snap_put_u32(w, d->num_queues);
	for (unsigned int q = 0; q < d->num_queues; q++) {
		unsigned int held = m->activated && d->ops->chains_held ? d->ops->chains_held(d, q) : 0;

		put_queue(w, &m->queue_regs[q], &d->queues[q], held);
	}
	d->ops->save(d, w);
	snap_end(w);
	pthread_mutex_unlock(&m->lock);
}

void virtio_mmio_mark_held(struct virtio_mmio *m)
{
	struct virtio_dev *d = m->dev;

	pthread_mutex_lock(&m->lock);
	for (unsigned int q = 0; m->activated && d->ops->chains_held && q < d->num_queues; q++)
		virtq_mark_taken(&d->queues[q], d->ops->chains_held(d, q));
	pthread_mutex_unlock(&m->lock);
}

/* What the file says of one queue. */
struct saved_queue {
	uint16_t num;
	bool ready;
	uint64_t desc, driver, device;
	uint16_t next_avail, next_used, signalled_used;
	bool signalled_used_valid, broken;
};

struct saved_transport {
	uint32_t status;
	uint64_t driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t interrupt_status, config_generation;
	struct saved_queue queues[VIRTIO_MAX_QUEUES];
};

static void get_transport(struct snap_cursor *c, const struct virtio_dev *d, struct saved_transport *t)
{
	t->status = snap_get_u32(c);
	t->driver_features = snap_get_u64(c);
	t->device_features_sel = snap_get_u32(c);
	t->driver_features_sel = snap_get_u32(c);
	t->queue_sel = snap_get_u32(c);
	t->interrupt_status = snap_get_u32_in(c, 0, INT_USED_BUFFER | INT_CONFIG_CHANGE);
	t->config_generation = snap_get_u32(c);
	snap_get_u32_in(c, d->num_queues, d->num_queues);
	for (unsigned int q = 0; q < d->num_queues; q++) {
		struct saved_queue *s = &t->queues[q];

		s->num = snap_get_u16(c);
		s->ready = snap_get_bool(c);
		s->desc = snap_get_u64(c);
		s->driver = snap_get_u64(c);
		s->device = snap_get_u64(c);
		s->next_avail = snap_get_u16(c);
		s->next_used = snap_get_u16(c);
		s->signalled_used = snap_get_u16(c);
		s->signalled_used_valid = snap_get_bool(c);
		s->broken = snap_get_bool(c);
	}
}

static void write_u64_regs(struct virtio_mmio *m, uint64_t low_reg, uint64_t value)
{
	virtio_mmio_driver_write(m, low_reg, (uint32_t)value);
	virtio_mmio_driver_write(m, low_reg + 4, (uint32_t)(value >> 32));
}

/* §3.1.1 steps 1-4 and 7: status bits one by one, features, then each queue's registers. */
static void replay_driver(struct virtio_mmio *m, const struct saved_transport *t)
{
	uint32_t status = 0;

	for (uint32_t bit = STATUS_ACKNOWLEDGE; bit <= STATUS_DRIVER; bit <<= 1)
		if (t->status & bit)
			virtio_mmio_driver_write(m, REG_STATUS, status |= bit);
	for (uint32_t half = 0; half < 2; half++) {
		virtio_mmio_driver_write(m, REG_DRIVER_FEATURES_SEL, half);
		virtio_mmio_driver_write(m, REG_DRIVER_FEATURES, (uint32_t)(t->driver_features >> (32 * half)));
	}
	if (t->status & STATUS_FEATURES_OK)
		virtio_mmio_driver_write(m, REG_STATUS, status |= STATUS_FEATURES_OK);
	for (unsigned int q = 0; q < m->dev->num_queues; q++) {
		const struct saved_queue *s = &t->queues[q];

		virtio_mmio_driver_write(m, REG_QUEUE_SEL, q);
		virtio_mmio_driver_write(m, REG_QUEUE_NUM, s->num);
		write_u64_regs(m, REG_QUEUE_DESC_LOW, s->desc);
		write_u64_regs(m, REG_QUEUE_DRIVER_LOW, s->driver);
		write_u64_regs(m, REG_QUEUE_DEVICE_LOW, s->device);
		virtio_mmio_driver_write(m, REG_QUEUE_READY, s->ready);
	}
	if (t->status & STATUS_DRIVER_OK)
		virtio_mmio_driver_write(m, REG_STATUS, status |= STATUS_DRIVER_OK);
	if (t->status & STATUS_FAILED)
		virtio_mmio_driver_write(m, REG_STATUS, status |= STATUS_FAILED);
}

/* The positions and interrupt state the replay cannot give; under the lock, as a kick would read them. */
static void set_positions(struct virtio_mmio *m, const struct saved_transport *t)
{
	struct virtio_dev *d = m->dev;

	pthread_mutex_lock(&m->lock);
	for (unsigned int q = 0; m->activated && q < d->num_queues; q++) {
		const struct saved_queue *s = &t->queues[q];
		struct virtq *vq = &d->queues[q];

		if (!s->ready)
			continue;
		vq->next_avail = s->next_avail;
		vq->next_used = s->next_used;
		vq->signalled_used = s->signalled_used;
		vq->signalled_used_valid = s->signalled_used_valid;
		vq->broken = vq->broken || s->broken;
	}
	if (t->status & STATUS_NEEDS_RESET)
		atomic_fetch_or(&m->status, STATUS_NEEDS_RESET);
	m->device_features_sel = t->device_features_sel;
	m->driver_features_sel = t->driver_features_sel;
	m->queue_sel = t->queue_sel;
	atomic_store(&m->interrupt_status, t->interrupt_status);
	atomic_store(&m->config_generation, t->config_generation);
	pthread_mutex_unlock(&m->lock);
}

int virtio_mmio_load(struct virtio_mmio *m, const struct snap_reader *r, uint32_t index, char *why,
		     size_t whylen)
{
	struct virtio_dev *d = m->dev;
	struct saved_transport t;
	struct snap_cursor c;

	if (snap_open_section(r, VIRTIO_SNAP_TAG, index, &c) < 0)
		return fail_with(why, whylen, -EINVAL, "%s: no saved state", d->name);
	memset(&t, 0, sizeof(t));
	uint32_t id = snap_get_u32(&c);
	if (c.err == 0 && id != d->device_id)
		return fail_with(why, whylen, -EINVAL, "%s: the snapshot has a device of type %u here", d->name, id);
	get_transport(&c, d, &t);
	if (c.err < 0)
		return fail_with(why, whylen, -EBADMSG, "%s: its transport state is malformed", d->name);
	if (t.status & ~STATUS_ALL)
		return fail_with(why, whylen, -EINVAL, "%s: status %#x has unknown bits", d->name, t.status);
	replay_driver(m, &t);
	/* The status the replay reached must be the saved one, NEEDS_RESET aside: every check held. */
	uint32_t reached = virtio_mmio_driver_read(m, REG_STATUS);
	if ((reached & ~STATUS_NEEDS_RESET) != (t.status & ~STATUS_NEEDS_RESET) ||
	    ((reached & STATUS_NEEDS_RESET) && !(t.status & STATUS_NEEDS_RESET)))
		return fail_with(why, whylen, -EINVAL, "%s: the driver's saved state does not hold here "
				 "(status %#x, reached %#x)", d->name, t.status, reached);
	set_positions(m, &t);
	int rc = d->ops->load(d, &c, why, whylen);
	if (rc == 0 && snap_cursor_finish(&c) < 0)
		rc = fail_with(why, whylen, -EBADMSG, "%s: its device state is malformed", d->name);
	return rc;
}

void virtio_mmio_kick_all(struct virtio_mmio *m)
{
	for (unsigned int q = 0; q < m->dev->num_queues; q++)
		virtio_mmio_driver_write(m, REG_QUEUE_NOTIFY, q);
}
