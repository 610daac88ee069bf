/* SPDX-License-Identifier: Apache-2.0 */
/* A test driver for a real device behind the real virtio-mmio transport; see mmio_driver.h. */
#include "support/mmio_driver.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "virtio/mmio_snapshot.h"

#define MMIO_DRIVER_PUMP_ROUNDS 1000

static void mmio_driver_fail(const char *what)
{
	fprintf(stderr, "mmio_driver: %s\n", what);
	abort();
}

/* The transport's hooks into "KVM": recorded, so a kick can be delivered the way KVM would. */
static int mmio_driver_add_ioeventfd(void *opaque, uint64_t addr, uint64_t datamatch, int fd)
{
	struct mmio_driver *d = opaque;

	if (d->n_ioeventfds == VIRTIO_MAX_QUEUES)
		return -ENOSPC;
	d->ioeventfd[d->n_ioeventfds++] = (struct mmio_driver_ioeventfd){ addr, datamatch, fd };
	return 0;
}

static int mmio_driver_add_irqfd(void *opaque, uint32_t gsi, int fd)
{
	struct mmio_driver *d = opaque;

	d->irq_gsi = gsi;
	d->irq_fd = fd;
	return 0;
}

static int mmio_driver_map_ram(struct mmio_driver *d, size_t ram_size)
{
	if (ram_size == 0 || ram_size % (KiB(4) * VIRTIO_MAX_QUEUES) != 0)
		mmio_driver_fail("RAM size must be a multiple of 4 KiB per queue window");
	d->ram = calloc(1, ram_size);
	d->high = calloc(1, MMIO_DRIVER_HIGH_SIZE);
	if (d->ram == NULL || d->high == NULL)
		return -ENOMEM;
	d->ram_size = ram_size;
	if (gmem_add_region(&d->mem, 0, d->ram, ram_size) != 0 ||
	    gmem_add_region(&d->mem, MMIO_DRIVER_HIGH_RAM, d->high, MMIO_DRIVER_HIGH_SIZE) != 0)
		return -EINVAL;
	return 0;
}

int mmio_driver_init(struct mmio_driver *d, struct virtio_dev *dev, size_t ram_size)
{
	const struct virtio_mmio_host host = {
		.add_ioeventfd = mmio_driver_add_ioeventfd,
		.add_irqfd = mmio_driver_add_irqfd,
		.opaque = d,
	};
	int rc;

	memset(d, 0, sizeof(*d));
	d->irq_fd = -1;
	d->loop = (struct io_loop){ .epoll_fd = -1, .wake_fd = -1, .th.quiesce_fd = -1 }; /* nothing to close yet */
	d->dev = dev;
	bus_init(&d->bus, "mmio", 0);
	rc = mmio_driver_map_ram(d, ram_size);
	if (rc == 0)
		rc = io_loop_init(&d->loop);
	if (rc == 0)
		rc = virtio_mmio_init(&d->m, dev, &d->bus, MMIO_DRIVER_BASE, MMIO_DRIVER_GSI, &d->mem, &d->loop,
				      &host);
	return rc;
}

void mmio_driver_destroy(struct mmio_driver *d)
{
	if (d->m.dev != NULL) /* virtio_mmio_init ran */
		virtio_mmio_destroy(&d->m);
	io_loop_destroy(&d->loop);
	bus_free(&d->bus);
	free(d->ram);
	free(d->high);
	memset(d, 0, sizeof(*d));
}

void mmio_driver_copy_guest(struct mmio_driver *to, const struct mmio_driver *from)
{
	if (to->ram_size != from->ram_size)
		mmio_driver_fail("a guest is copied to a driver with as much RAM only");
	memcpy(to->ram, from->ram, from->ram_size);
	memcpy(to->high, from->high, MMIO_DRIVER_HIGH_SIZE);
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		struct virtq_builder *b = &to->vq[q];

		if (from->vq[q].ram == NULL)
			continue;
		*b = from->vq[q];
		b->ram = to->ram;
		memset(&b->mem, 0, sizeof(b->mem));
		if (gmem_add_region(&b->mem, 0, to->ram, to->ram_size) != 0)
			mmio_driver_fail("gmem_add_region failed");
	}
}

/* --- registers --------------------------------------------------------------------------------- */

uint32_t mmio_driver_read(struct mmio_driver *d, uint32_t reg)
{
	uint32_t v = 0;

	if (!bus_access(&d->bus, MMIO_DRIVER_BASE + reg, &v, sizeof(v), false))
		mmio_driver_fail("the register window is not on the bus");
	return v;
}

void mmio_driver_write(struct mmio_driver *d, uint32_t reg, uint32_t value)
{
	if (!bus_access(&d->bus, MMIO_DRIVER_BASE + reg, &value, sizeof(value), true))
		mmio_driver_fail("the register window is not on the bus");
}

uint32_t mmio_driver_status(struct mmio_driver *d)
{
	return mmio_driver_read(d, MMIO_STATUS);
}

void mmio_driver_set_status(struct mmio_driver *d, uint32_t status)
{
	mmio_driver_write(d, MMIO_STATUS, status);
}

uint64_t mmio_driver_device_features(struct mmio_driver *d)
{
	uint64_t f;

	mmio_driver_write(d, MMIO_DEVICE_FEATURES_SEL, 0);
	f = mmio_driver_read(d, MMIO_DEVICE_FEATURES);
	mmio_driver_write(d, MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)mmio_driver_read(d, MMIO_DEVICE_FEATURES) << 32;
}

void mmio_driver_write_features(struct mmio_driver *d, uint64_t features)
{
	mmio_driver_write(d, MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_driver_write(d, MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_driver_write(d, MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_driver_write(d, MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
}

uint32_t mmio_driver_negotiate(struct mmio_driver *d, uint64_t features)
{
	mmio_driver_set_status(d, 0);
	mmio_driver_set_status(d, MMIO_S_ACKNOWLEDGE);
	mmio_driver_set_status(d, MMIO_S_ACKNOWLEDGE | MMIO_S_DRIVER);
	(void)mmio_driver_device_features(d); /* a driver reads them first (§3.1.1 step 4) */
	mmio_driver_write_features(d, features | (1ull << VIRTIO_F_VERSION_1));
	mmio_driver_set_status(d, MMIO_S_NEGOTIATED);
	return mmio_driver_status(d);
}

/* --- queues ------------------------------------------------------------------------------------ */

static void mmio_driver_write64(struct mmio_driver *d, uint32_t low_reg, uint64_t value)
{
	mmio_driver_write(d, low_reg, (uint32_t)value);
	mmio_driver_write(d, low_reg + 4, (uint32_t)(value >> 32));
}

void mmio_driver_queue_regs(struct mmio_driver *d, unsigned int q, uint32_t num, gpa_t desc, gpa_t avail,
			    gpa_t used)
{
	mmio_driver_write(d, MMIO_QUEUE_SEL, q);
	mmio_driver_write(d, MMIO_QUEUE_READY, 0); /* a ready queue's registers do not change (§4.2.3.2) */
	mmio_driver_write(d, MMIO_QUEUE_NUM, num);
	mmio_driver_write64(d, MMIO_QUEUE_DESC_LOW, desc);
	mmio_driver_write64(d, MMIO_QUEUE_DRIVER_LOW, avail);
	mmio_driver_write64(d, MMIO_QUEUE_DEVICE_LOW, used);
	mmio_driver_write(d, MMIO_QUEUE_READY, 1);
}

void mmio_driver_setup_queue(struct mmio_driver *d, unsigned int q, uint16_t size)
{
	size_t span = d->ram_size / VIRTIO_MAX_QUEUES;
	struct virtq_builder *b;

	if (q >= VIRTIO_MAX_QUEUES)
		mmio_driver_fail("no such queue");
	b = &d->vq[q];
	vqb_init_window(b, size, d->ram, d->ram_size, (gpa_t)q * span, span);
	mmio_driver_queue_regs(d, q, size, b->desc, b->avail, b->used);
}

uint32_t mmio_driver_start(struct mmio_driver *d, uint64_t features, unsigned int num_queues, uint16_t size)
{
	uint32_t status = mmio_driver_negotiate(d, features);

	if (!(status & MMIO_S_FEATURES_OK))
		return status;
	for (unsigned int q = 0; q < num_queues; q++)
		mmio_driver_setup_queue(d, q, size);
	mmio_driver_set_status(d, MMIO_S_RUNNING);
	return mmio_driver_status(d);
}

struct virtq_builder *mmio_driver_vq(struct mmio_driver *d, unsigned int q)
{
	if (q >= VIRTIO_MAX_QUEUES || d->vq[q].ram == NULL)
		mmio_driver_fail("queue not set up");
	return &d->vq[q];
}

/* --- kicks, the I/O side, interrupts ----------------------------------------------------------- */

void mmio_driver_post_writable(struct mmio_driver *d, unsigned int q, uint32_t len, unsigned int n, gpa_t *bufs)
{
	struct virtq_builder *vq = mmio_driver_vq(d, q);

	for (unsigned int i = 0; i < n; i++) {
		struct vqb_seg seg = { vqb_alloc(vq, len), len, true };
		uint16_t head = vqb_chain(vq, &seg, 1);

		bufs[head] = seg.addr;
		vqb_publish(vq, head);
	}
	mmio_driver_kick(d, q);
}

void mmio_driver_notify_exit(struct mmio_driver *d, uint32_t q)
{
	mmio_driver_write(d, MMIO_QUEUE_NOTIFY, q);
}

void mmio_driver_kick(struct mmio_driver *d, unsigned int q)
{
	uint64_t one = 1;

	for (unsigned int i = 0; i < d->n_ioeventfds; i++) {
		const struct mmio_driver_ioeventfd *e = &d->ioeventfd[i];

		if (e->addr == MMIO_DRIVER_BASE + MMIO_QUEUE_NOTIFY && e->datamatch == q) {
			if (write(e->fd, &one, sizeof(one)) != sizeof(one))
				mmio_driver_fail("cannot signal an ioeventfd");
			return;
		}
	}
	mmio_driver_notify_exit(d, q);
}

unsigned int mmio_driver_pump(struct mmio_driver *d)
{
	unsigned int run = 0;

	if (d->loop.th.running)
		mmio_driver_fail("pump with a running I/O thread");
	for (int round = 0; round < MMIO_DRIVER_PUMP_ROUNDS; round++) {
		struct epoll_event ev[16];
		int n = epoll_wait(d->loop.epoll_fd, ev, 16, 0);
		unsigned int before = run;

		if (n < 0)
			mmio_driver_fail("epoll_wait failed");
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = ev[i].data.ptr;

			if (h == NULL)
				mmio_driver_fail("the loop's stop fd is set");
			h->ready(h, ev[i].events);
			run++;
		}
		/* Queues served on workers (a disk's): their threads do not run here. */
		for (struct io_worker *w = d->loop.workers; w; w = w->next)
			run += io_worker_serve_ready(w);
		if (run == before)
			break;
	}
	return run;
}

uint64_t mmio_driver_irqs(struct mmio_driver *d)
{
	uint64_t n = 0;

	if (read(d->irq_fd, &n, sizeof(n)) != sizeof(n))
		return 0; /* none since the last read (EAGAIN) */
	return n;
}

uint32_t mmio_driver_take_interrupt(struct mmio_driver *d)
{
	uint32_t status = mmio_driver_read(d, MMIO_INTERRUPT_STATUS);

	mmio_driver_write(d, MMIO_INTERRUPT_ACK, status);
	return status;
}

/* --- snapshots --------------------------------------------------------------------------------- */

void mmio_driver_save(struct mmio_driver *d, struct snap_writer *w)
{
	virtio_mmio_save(&d->m, 0, w);
}

int mmio_driver_restore(struct mmio_driver *to, const struct mmio_driver *from, const struct snap_reader *r,
			char *why, size_t whylen)
{
	mmio_driver_copy_guest(to, from);
	return virtio_mmio_load(&to->m, r, 0, why, whylen);
}

int mmio_driver_start_thread(struct mmio_driver *d)
{
	d->loop.sandbox = false;
	return io_loop_start(&d->loop);
}

void mmio_driver_stop_thread(struct mmio_driver *d)
{
	uint64_t n;

	if (!d->loop.th.running)
		return;
	io_loop_stop(&d->loop);
	pthread_join(d->loop.th.thread, NULL);
	d->loop.th.running = false;
	/* The stop request stays readable: take it, so that pump sees only the device's fds. */
	if (read(d->loop.wake_fd, &n, sizeof(n)) != sizeof(n))
		mmio_driver_fail("the loop's stop fd was not set");
}
