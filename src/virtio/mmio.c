/* SPDX-License-Identifier: Apache-2.0 */
#include "virtio/mmio.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "virtio/mmio_regs.h"

static struct virtio_mmio *transport_of(struct virtio_dev *d)
{
	return d->transport_data;
}

static void raise_interrupt(struct virtio_mmio *m, unsigned int reason)
{
	uint64_t one = 1;

	atomic_fetch_or(&m->interrupt_status, reason);
	if (write(m->irq_fd, &one, sizeof(one)) < 0)
		log_guest(LOG_WARN, "virtio-mmio", "%s: cannot raise the interrupt: %s", m->dev->name,
			  strerror(errno));
}

static void transport_used(struct virtio_dev *d, unsigned int q)
{
	if (virtq_should_interrupt(&d->queues[q]))
		raise_interrupt(transport_of(d), INT_USED_BUFFER);
}

/* NEEDS_RESET and a config interrupt (§2.1.2); atomic, so no status write can lose it. */
static void mark_needs_reset(struct virtio_mmio *m)
{
	atomic_fetch_or(&m->status, STATUS_NEEDS_RESET);
	m->config_generation++;
	raise_interrupt(m, INT_CONFIG_CHANGE);
}

static void transport_needs_reset(struct virtio_dev *d)
{
	log_guest(LOG_WARN, "virtio-mmio", "%s: the driver broke the rules; device needs reset", d->name);
	mark_needs_reset(transport_of(d));
}

static void transport_config_changed(struct virtio_dev *d)
{
	struct virtio_mmio *m = transport_of(d);

	m->config_generation++;
	raise_interrupt(m, INT_CONFIG_CHANGE);
}

static const struct virtio_transport_ops transport_ops = {
	.used = transport_used,
	.needs_reset = transport_needs_reset,
	.config_changed = transport_config_changed,
};

static uint64_t offered_features(const struct virtio_mmio *m)
{
	return m->dev->device_features | (1ull << VIRTIO_F_VERSION_1);
}

/*
 * Status 0 (§4.2.2.1). A device the transport activated is reset first, under its own lock, so it
 * stops using the queues before they are cleared here; the transport's own flag decides, never the
 * status register, whose bits the driver writes.
 */
static void reset_device(struct virtio_mmio *m)
{
	if (m->activated)
		m->dev->ops->reset(m->dev);
	m->activated = false;
	atomic_store(&m->status, 0);
	atomic_store(&m->interrupt_status, 0);
	m->driver_features = 0;
	m->device_features_sel = m->driver_features_sel = m->queue_sel = 0;
	memset(m->queue_regs, 0, sizeof(m->queue_regs));
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		m->dev->queues[i] = (struct virtq){ .broken = true };
	m->dev->driver_features = 0;
}

/* DRIVER_OK: map each ready queue's rings (checked against guest RAM) and start the device. */
static int activate_device(struct virtio_mmio *m)
{
	struct virtio_dev *d = m->dev;
	bool event_idx = (m->driver_features >> VIRTIO_F_EVENT_IDX) & 1;

	d->driver_features = m->driver_features;
	for (unsigned int i = 0; i < d->num_queues; i++) {
		const struct virtio_mmio_queue_regs *r = &m->queue_regs[i];

		if (!r->ready) {
			/* A queue the driver left unused: every pop on it fails instead of touching NULL. */
			d->queues[i] = (struct virtq){ .broken = true };
			continue;
		}
		int rc = virtq_init(&d->queues[i], d->mem, r->num, r->desc, r->driver, r->device, event_idx);
		if (rc < 0) {
			log_guest(LOG_WARN, "virtio-mmio", "%s: queue %u rings are invalid", d->name, i);
			return rc;
		}
	}
	/* Like one queue's rings (virtq_init), two queues' rings must not share memory either. */
	for (unsigned int i = 0; i < d->num_queues; i++)
		for (unsigned int j = i + 1; j < d->num_queues; j++)
			if (virtq_overlaps(&d->queues[i], &d->queues[j])) {
				log_guest(LOG_WARN, "virtio-mmio", "%s: queues %u and %u overlap", d->name, i, j);
				return -EINVAL;
			}
	m->activated = true; /* even if activate fails half-way: a reset must undo what it did */
	return d->ops->activate(d);
}

/* FEATURES_OK sticks only for a subset of what was offered that includes VERSION_1 (§3.1.1). */
static bool features_acceptable(const struct virtio_mmio *m)
{
	return (m->driver_features & ~offered_features(m)) == 0 &&
	       ((m->driver_features >> VIRTIO_F_VERSION_1) & 1);
}

/*
 * The driver may only add status bits, in the order of §3.1.1, or write 0 to reset (§2.1.2: "The
 * driver MUST NOT clear a device status bit"). A write that clears one is refused with
 * NEEDS_RESET. DRIVER_OK starts the device once: never again until a reset, and not at all
 * without FEATURES_OK or once NEEDS_RESET is set. Bits are added with an atomic OR, so a
 * NEEDS_RESET a backend sets meanwhile (on the I/O thread, without this lock) is kept.
 */
static void write_status(struct virtio_mmio *m, uint32_t value)
{
	uint32_t old = atomic_load(&m->status);
	uint32_t added = value & ~old & ~STATUS_NEEDS_RESET;

	if (value == 0) {
		reset_device(m);
		return;
	}
	if (old & ~STATUS_NEEDS_RESET & ~value) {
		log_guest(LOG_WARN, "virtio-mmio", "%s: the driver cleared status bits (%#x -> %#x)",
			  m->dev->name, old, value);
		mark_needs_reset(m);
		return;
	}
	if ((added & STATUS_FEATURES_OK) && !features_acceptable(m))
		added &= ~STATUS_FEATURES_OK; /* the driver sees it did not stick (§3.1.1 step 6) */
	if (added & STATUS_DRIVER_OK) {
		bool ready = ((old | added) & STATUS_FEATURES_OK) && !(old & STATUS_NEEDS_RESET);

		if (!ready || activate_device(m) < 0) {
			added &= ~STATUS_DRIVER_OK;
			mark_needs_reset(m);
		}
	}
	atomic_fetch_or(&m->status, added);
}

static struct virtio_mmio_queue_regs *selected_queue(struct virtio_mmio *m)
{
	return m->queue_sel < m->dev->num_queues ? &m->queue_regs[m->queue_sel] : NULL;
}

static uint32_t read_register(struct virtio_mmio *m, uint64_t reg)
{
	struct virtio_mmio_queue_regs *q = selected_queue(m);

	switch (reg) {
	case REG_MAGIC:
		return MMIO_MAGIC;
	case REG_VERSION:
		return MMIO_VERSION_MODERN;
	case REG_DEVICE_ID:
		return m->dev->device_id;
	case REG_VENDOR_ID:
		return MMIO_VENDOR_ID;
	case REG_DEVICE_FEATURES:
		return m->device_features_sel > 1 ? 0
						  : (uint32_t)(offered_features(m) >> (32 * m->device_features_sel));
	case REG_QUEUE_NUM_MAX:
		return q ? m->dev->queue_max_size : 0;
	case REG_QUEUE_READY:
		return q ? q->ready : 0;
	case REG_STATUS:
		return atomic_load(&m->status);
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
		return 0xffffffff; /* no shared memory regions (§4.2.2: length -1) */
	case REG_CONFIG_GENERATION:
		return m->config_generation;
	default:
		return 0;
	}
}

static void set_half(uint64_t *field, bool high, uint32_t value)
{
	if (high)
		*field = (*field & 0xffffffffull) | ((uint64_t)value << 32);
	else
		*field = (*field & ~0xffffffffull) | value;
}

/* Queue registers change only while the queue is not ready and the driver is not running (§4.2.3.2). */
static void write_queue_register(struct virtio_mmio *m, uint64_t reg, uint32_t value)
{
	struct virtio_mmio_queue_regs *q = selected_queue(m);

	if (q == NULL || (atomic_load(&m->status) & STATUS_DRIVER_OK))
		return;
	if (reg == REG_QUEUE_READY) {
		q->ready = value & 1;
		return;
	}
	if (q->ready)
		return;
	switch (reg) {
	case REG_QUEUE_NUM:
		q->num = value <= m->dev->queue_max_size ? (uint16_t)value : 0;
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		set_half(&q->desc, reg == REG_QUEUE_DESC_HIGH, value);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		set_half(&q->driver, reg == REG_QUEUE_DRIVER_HIGH, value);
		break;
	default:
		set_half(&q->device, reg == REG_QUEUE_DEVICE_HIGH, value);
		break;
	}
}

/* A QueueNotify that reached userspace (the ioeventfd did not match): hand it to the I/O thread. */
static void notify_from_exit(struct virtio_mmio *m, uint32_t queue)
{
	uint64_t one = 1;

	if (queue >= m->dev->num_queues)
		return;
	if (write(m->kicks[queue].fd, &one, sizeof(one)) < 0)
		log_guest(LOG_WARN, "virtio-mmio", "%s: lost a kick: %s", m->dev->name, strerror(errno));
}

static void write_register(struct virtio_mmio *m, uint64_t reg, uint32_t value)
{
	switch (reg) {
	case REG_DEVICE_FEATURES_SEL:
		m->device_features_sel = value;
		break;
	case REG_DRIVER_FEATURES:
		if (m->driver_features_sel <= 1 && !(atomic_load(&m->status) & STATUS_FEATURES_OK))
			set_half(&m->driver_features, m->driver_features_sel == 1, value);
		break;
	case REG_DRIVER_FEATURES_SEL:
		m->driver_features_sel = value;
		break;
	case REG_QUEUE_SEL:
		m->queue_sel = value;
		break;
	case REG_QUEUE_NOTIFY:
		notify_from_exit(m, value);
		break;
	case REG_STATUS:
		write_status(m, value);
		break;
	case REG_QUEUE_NUM:
	case REG_QUEUE_READY:
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		write_queue_register(m, reg, value);
		break;
	default:
		log_guest(LOG_DEBUG, "virtio-mmio", "%s: write to read-only or unknown register %#llx",
			  m->dev->name, (unsigned long long)reg);
		break;
	}
}

static void mmio_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct virtio_mmio *m = opaque;

	memset(data, 0, len);
	if (offset >= REG_CONFIG) {
		m->dev->ops->config_read(m->dev, offset - REG_CONFIG, data, len);
		return;
	}
	if (len != 4 || offset % 4) /* §4.2.2: registers are read as aligned 32-bit words */
		return;
	uint32_t value;
	/* The interrupt handler's read is atomic and takes no lock: the I/O thread (or a queue's
	 * worker) holds the lock while it serves a queue, and a vCPU must not wait out a transmit
	 * drain or a disk request to take an IRQ. */
	if (offset == REG_INTERRUPT_STATUS) {
		value = atomic_load(&m->interrupt_status);
	} else {
		pthread_mutex_lock(&m->lock);
		value = read_register(m, offset);
		pthread_mutex_unlock(&m->lock);
	}
	memcpy(data, &value, 4);
}

static void mmio_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct virtio_mmio *m = opaque;
	uint32_t value;

	if (offset >= REG_CONFIG) {
		if (m->dev->ops->config_write)
			m->dev->ops->config_write(m->dev, offset - REG_CONFIG, data, len);
		return;
	}
	if (len != 4 || offset % 4)
		return;
	memcpy(&value, data, 4);
	if (offset == REG_INTERRUPT_ACK) { /* atomic, lock-free like the status read (mmio_read) */
		atomic_fetch_and(&m->interrupt_status, ~value);
		return;
	}
	pthread_mutex_lock(&m->lock);
	write_register(m, offset, value);
	pthread_mutex_unlock(&m->lock);
}

static const struct bus_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

/* I/O thread, or the queue's worker: the guest kicked a queue. */
static void kick_ready(struct ev_handler *h, uint32_t events)
{
	struct virtio_mmio_kick *k = container_of(h, struct virtio_mmio_kick, handler);
	struct virtio_mmio *m = k->transport;
	uint64_t count;

	(void)events;
	if (read(k->fd, &count, sizeof(count)) < 0)
		return;
	virtio_stat_add(&m->dev->stats.kicks, 1);
	pthread_mutex_lock(&m->lock);
	uint32_t status = atomic_load(&m->status);
	if ((status & STATUS_DRIVER_OK) && !(status & STATUS_NEEDS_RESET) && m->queue_regs[k->queue].ready)
		m->dev->ops->queue_notify(m->dev, k->queue);
	pthread_mutex_unlock(&m->lock);
}

static int wire_kicks(struct virtio_mmio *m, struct io_loop *io, const struct virtio_mmio_host *host)
{
	for (unsigned int q = 0; q < m->dev->num_queues; q++) {
		struct virtio_mmio_kick *k = &m->kicks[q];
		int rc;

		k->transport = m;
		k->queue = q;
		k->handler.ready = kick_ready;
		k->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (k->fd < 0)
			return -errno;
		rc = host->add_ioeventfd(host->opaque, m->base + REG_QUEUE_NOTIFY, q, k->fd);
		if (rc == 0 && (m->dev->worker_queues >> q) & 1)
			rc = io_loop_add_worker(io, &k->worker, k->fd, &k->handler, m->dev->worker_class);
		else if (rc == 0)
			rc = io_loop_add(io, k->fd, EPOLLIN, &k->handler);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int virtio_mmio_init(struct virtio_mmio *m, struct virtio_dev *dev, struct bus *mmio, gpa_t base,
		     uint32_t gsi, const struct gmem *mem, struct io_loop *io,
		     const struct virtio_mmio_host *host)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->dev = dev;
	m->base = base;
	m->irq_fd = -1;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		m->kicks[q].fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	if (dev->num_queues == 0 || dev->num_queues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	dev->mem = mem;
	dev->io = io;
	dev->transport = &transport_ops;
	dev->transport_data = m;
	m->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->irq_fd < 0)
		return -errno;
	rc = host->add_irqfd(host->opaque, gsi, m->irq_fd);
	if (rc == 0)
		rc = wire_kicks(m, io, host);
	if (rc == 0)
		rc = bus_register(mmio, base, VIRTIO_MMIO_WINDOW, &mmio_ops, m);
	return rc;
}

void virtio_mmio_destroy(struct virtio_mmio *m)
{
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (m->kicks[q].fd >= 0)
			close(m->kicks[q].fd);
	if (m->irq_fd >= 0)
		close(m->irq_fd);
	pthread_mutex_destroy(&m->lock);
}

void virtio_mmio_driver_write(struct virtio_mmio *m, uint64_t reg, uint32_t value)
{
	mmio_write(m, reg, &value, sizeof(value));
}

uint32_t virtio_mmio_driver_read(struct virtio_mmio *m, uint64_t reg)
{
	uint32_t value;

	mmio_read(m, reg, &value, sizeof(value));
	return value;
}
