/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between a virtio device (blk, console, rng, ...) and its transport (virtio/mmio.c).
 * A device knows nothing of MMIO, KVM or eventfds: it declares its id, features, queues and config
 * space, and is told when the driver is ready, resets it, or kicks a queue. It tells the transport
 * when it has used buffers, and when the driver broke the rules.
 *
 * Threads: config_read/config_write run on vCPU threads; activate and reset run on the vCPU thread
 * that wrote the status register; queue_notify runs on the I/O thread, or on a worker thread of the
 * queue's own for the queues in worker_queues. A device guards the state those share with its own
 * lock.
 */
#ifndef KILN_VIRTIO_DEVICE_H
#define KILN_VIRTIO_DEVICE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/loop.h"
#include "mem/gmem.h"
#include "snapshot/snap_file.h"
#include "virtio/queue.h"

/* Feature bits, virtio 1.2 §6. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

/* Device ids, virtio 1.2 §5. */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_ENTROPY 4
#define VIRTIO_ID_VSOCK 19

#define VIRTIO_MAX_QUEUES 8

struct virtio_dev;

struct virtio_dev_ops {
	/* Device config space (from MMIO offset 0x100); reads outside it are zero-filled by the caller. */
	void (*config_read)(struct virtio_dev *d, uint64_t offset, void *data, unsigned int len);
	void (*config_write)(struct virtio_dev *d, uint64_t offset, const void *data, unsigned int len);
	/* DRIVER_OK: d->queues[] hold the driver's rings. 0, or -errno to fail the device. */
	int (*activate)(struct virtio_dev *d);
	/* The driver reset the device: stop using the queues, forget negotiated state. */
	void (*reset)(struct virtio_dev *d);
	/* The driver kicked queue q (I/O thread). */
	void (*queue_notify)(struct virtio_dev *d, unsigned int q);
	/*
	 * Snapshots (virtio/mmio_snapshot.c); a device without save cannot be snapshotted. Both run
	 * with the I/O thread held (io_loop_hold) and the vCPUs parked. save appends what is the
	 * device's own, beside the transport's registers and queue positions; load reads it back
	 * once the transport has replayed the driver (the device is active again), checking every
	 * value. chains_held (optional: none) tells how many chains the device took from queue q and
	 * has not used: the last ones it took, which a restore has it take again.
	 */
	void (*save)(struct virtio_dev *d, struct snap_writer *w);
	int (*load)(struct virtio_dev *d, struct snap_cursor *c, char *why, size_t whylen);
	unsigned int (*chains_held)(struct virtio_dev *d, unsigned int q);
};

/* What the transport offers a device. */
struct virtio_transport_ops {
	/* Buffers were used on queue q: interrupt the driver if the queue asks for it. */
	void (*used)(struct virtio_dev *d, unsigned int q);
	/* The driver broke the rules: set DEVICE_NEEDS_RESET and raise a config interrupt. */
	void (*needs_reset)(struct virtio_dev *d);
	/* Config space changed: raise a config interrupt. */
	void (*config_changed)(struct virtio_dev *d);
};

/* Counters for metrics: written by the device's threads, read at any time (relaxed). */
struct virtio_stats {
	atomic_ullong kicks;            /* queue notifications from the driver */
	atomic_ullong requests;         /* chains served */
	atomic_ullong bytes_to_guest;   /* backend -> guest buffers (disk reads, received frames) */
	atomic_ullong bytes_from_guest; /* guest buffers -> backend (disk writes, sent frames) */
	atomic_ullong errors;           /* requests that failed: host I/O errors, refused requests */
	atomic_ullong bytes_dropped;    /* guest bytes the host side could not take (console output
					   while its reader stalls) */
};

static inline void virtio_stat_add(atomic_ullong *counter, unsigned long long n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const char *name;               /* for logs: "virtio-blk0" */
	uint32_t device_id;
	uint64_t device_features;       /* offered; VIRTIO_F_VERSION_1 is added by the transport */
	uint64_t driver_features;       /* accepted, valid from activate() on */
	unsigned int num_queues;
	uint16_t queue_max_size;
	struct virtq queues[VIRTIO_MAX_QUEUES];
	const struct gmem *mem;
	struct io_loop *io;             /* where the device adds its backend fds */
	/*
	 * Queues (bit q) whose kicks are served on a worker thread of their own (io_loop_add_worker)
	 * rather than the I/O thread, under seccomp class worker_class: a backend whose host I/O may
	 * block (a disk on a slow file system) must not stall the devices the I/O thread serves.
	 */
	uint32_t worker_queues;
	enum seccomp_thread worker_class;

	const struct virtio_transport_ops *transport;
	void *transport_data;
	struct virtio_stats stats;
};

static inline bool virtio_has_feature(const struct virtio_dev *d, unsigned int bit)
{
	return (d->driver_features >> bit) & 1;
}

#endif
