/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-mmio transport (virtio 1.2 §4.2, modern interface only): the register window of one
 * device on the MMIO bus. Guest queue kicks arrive as ioeventfds on QueueNotify and are served on
 * the I/O thread, or on a worker of their own (virtio_dev.worker_queues); interrupts leave through
 * an irqfd. The VM supplies those two eventfd hooks, so
 * this file never sees KVM.
 */
#ifndef KILN_VIRTIO_MMIO_H
#define KILN_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bus/bus.h"
#include "io/loop.h"
#include "virtio/device.h"

#define VIRTIO_MMIO_WINDOW 0x1000

struct virtio_mmio_host {
	/* Signal fd when the guest writes datamatch (4 bytes) at addr. */
	int (*add_ioeventfd)(void *opaque, uint64_t addr, uint64_t datamatch, int fd);
	/* Raise gsi when fd is written. */
	int (*add_irqfd)(void *opaque, uint32_t gsi, int fd);
	void *opaque;
};

struct virtio_mmio_queue_regs {
	uint16_t num;
	uint32_t ready;
	uint64_t desc, driver, device;
};

struct virtio_mmio_kick {
	struct ev_handler handler;
	struct virtio_mmio *transport;
	unsigned int queue;
	int fd;
	struct io_worker worker; /* the queue's own thread, for the device's worker_queues */
};

struct virtio_mmio {
	pthread_mutex_t lock; /* the registers; held while the device activates, resets or runs a queue
				 (a worker's queue too, through its host I/O: see mmio_read) */
	struct virtio_dev *dev;
	gpa_t base;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	bool activated;       /* the device's activate ran (even if it failed), and no reset since */
	atomic_uint status;
	atomic_uint interrupt_status;
	atomic_uint config_generation;
	struct virtio_mmio_queue_regs queue_regs[VIRTIO_MAX_QUEUES];
	struct virtio_mmio_kick kicks[VIRTIO_MAX_QUEUES];
	int irq_fd;
};

/* Registers the window at base, wires kicks and the interrupt; dev must be fully created. */
int virtio_mmio_init(struct virtio_mmio *m, struct virtio_dev *dev, struct bus *mmio, gpa_t base,
		     uint32_t gsi, const struct gmem *mem, struct io_loop *io,
		     const struct virtio_mmio_host *host) MUST_CHECK;
void virtio_mmio_destroy(struct virtio_mmio *m);

/*
 * A register access exactly as a vCPU's (same checks, same locking): for code that replays a
 * driver, such as a snapshot's restore (virtio/mmio_snapshot.c).
 */
void virtio_mmio_driver_write(struct virtio_mmio *m, uint64_t reg, uint32_t value);
uint32_t virtio_mmio_driver_read(struct virtio_mmio *m, uint64_t reg);

#endif
