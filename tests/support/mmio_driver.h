/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test "driver" for a real device behind the real virtio-mmio transport (virtio/mmio.c): guest
 * RAM, an MMIO bus with the device's register window on it, and the I/O loop the device's
 * backends and kicks live on. The driver does what a guest's virtio-mmio driver does, through the
 * bus as a vCPU's exits would (virtio 1.2 §3.1.1, §4.2.3): negotiates features, lays out rings in
 * guest RAM with virtq_builder, writes the queue registers, sets DRIVER_OK, kicks, and reads the
 * used rings and the interrupt status. It can also write anything to any register, in any order.
 *
 * What KVM does in a VM, the driver fakes and records: the transport's ioeventfds (a kick to a
 * registered QueueNotify value signals that eventfd, as KVM would; any other write exits to the
 * bus) and its irqfd (each interrupt is a count on it). The I/O side runs on the test's thread
 * (mmio_driver_pump dispatches what epoll reports, as the I/O thread would), or on a real I/O
 * thread (mmio_driver_start_thread).
 *
 * Guest memory: low RAM at gpa 0, then the MMIO hole (the device's window at MMIO_DRIVER_BASE is
 * in it), then a small high RAM region at 4 GiB. Queue q's rings and buffers live in window q of
 * low RAM (ram_size / VIRTIO_MAX_QUEUES bytes each). Misuse of the driver itself aborts.
 */
#ifndef KILN_TESTS_SUPPORT_MMIO_DRIVER_H
#define KILN_TESTS_SUPPORT_MMIO_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/bus.h"
#include "io/loop.h"
#include "mem/gmem.h"
#include "snapshot/snap_file.h"
#include "support/virtq_builder.h"
#include "virtio/mmio.h"

#define MMIO_DRIVER_BASE 0xd0000000ull      /* the device's register window, in the MMIO hole */
#define MMIO_DRIVER_GSI 5
#define MMIO_DRIVER_HIGH_RAM 0x100000000ull /* RAM resumes above the hole, at 4 GiB ... */
#define MMIO_DRIVER_HIGH_SIZE KiB(64)       /* ... for this many bytes */

/* Registers, virtio 1.2 §4.2.2. */
enum mmio_reg {
	MMIO_MAGIC = 0x000,
	MMIO_VERSION = 0x004,
	MMIO_DEVICE_ID = 0x008,
	MMIO_DEVICE_FEATURES = 0x010,
	MMIO_DEVICE_FEATURES_SEL = 0x014,
	MMIO_DRIVER_FEATURES = 0x020,
	MMIO_DRIVER_FEATURES_SEL = 0x024,
	MMIO_QUEUE_SEL = 0x030,
	MMIO_QUEUE_NUM_MAX = 0x034,
	MMIO_QUEUE_NUM = 0x038,
	MMIO_QUEUE_READY = 0x044,
	MMIO_QUEUE_NOTIFY = 0x050,
	MMIO_INTERRUPT_STATUS = 0x060,
	MMIO_INTERRUPT_ACK = 0x064,
	MMIO_STATUS = 0x070,
	MMIO_QUEUE_DESC_LOW = 0x080,
	MMIO_QUEUE_DESC_HIGH = 0x084,
	MMIO_QUEUE_DRIVER_LOW = 0x090,
	MMIO_QUEUE_DRIVER_HIGH = 0x094,
	MMIO_QUEUE_DEVICE_LOW = 0x0a0,
	MMIO_QUEUE_DEVICE_HIGH = 0x0a4,
	MMIO_CONFIG_GENERATION = 0x0fc,
	MMIO_CONFIG = 0x100,
};

/* Device status bits, §2.1; interrupt status bits, §4.2.2. */
enum {
	MMIO_S_ACKNOWLEDGE = 1,
	MMIO_S_DRIVER = 2,
	MMIO_S_DRIVER_OK = 4,
	MMIO_S_FEATURES_OK = 8,
	MMIO_S_NEEDS_RESET = 64,
	MMIO_S_FAILED = 128,
};
#define MMIO_S_RUNNING (MMIO_S_ACKNOWLEDGE | MMIO_S_DRIVER | MMIO_S_FEATURES_OK | MMIO_S_DRIVER_OK)
#define MMIO_S_NEGOTIATED (MMIO_S_ACKNOWLEDGE | MMIO_S_DRIVER | MMIO_S_FEATURES_OK)
#define MMIO_INT_USED 1u
#define MMIO_INT_CONFIG 2u

/* An ioeventfd the transport asked for: KVM would signal fd when the guest writes datamatch at addr. */
struct mmio_driver_ioeventfd {
	uint64_t addr;
	uint64_t datamatch;
	int fd;
};

struct mmio_driver {
	uint8_t *ram;      /* low RAM, at gpa 0 */
	size_t ram_size;
	uint8_t *high;     /* high RAM, at MMIO_DRIVER_HIGH_RAM */
	struct gmem mem;
	struct bus bus;
	struct io_loop loop;
	struct virtio_mmio m;
	struct virtio_dev *dev;
	struct virtq_builder vq[VIRTIO_MAX_QUEUES]; /* the queues set up with mmio_driver_setup_queue */
	/* What the transport asked of the host: */
	struct mmio_driver_ioeventfd ioeventfd[VIRTIO_MAX_QUEUES];
	unsigned int n_ioeventfds;
	int irq_fd;
	uint32_t irq_gsi;
};

/*
 * Guest RAM of ram_size bytes (a multiple of 4 KiB * VIRTIO_MAX_QUEUES), the bus and the I/O loop,
 * then virtio_mmio_init of dev (created, not yet attached) at MMIO_DRIVER_BASE. 0 or -errno.
 */
int mmio_driver_init(struct mmio_driver *d, struct virtio_dev *dev, size_t ram_size) MUST_CHECK;
/* After the device was destroyed (and the I/O thread stopped): the transport, bus, loop and RAM. */
void mmio_driver_destroy(struct mmio_driver *d);

/*
 * For snapshot tests: `to` (set up with the same RAM size, its device not yet loaded) takes the
 * guest of `from` as a restore would: a copy of its RAM, and its queue builders on that copy, so
 * the driver carries on with the rings it laid out.
 */
void mmio_driver_copy_guest(struct mmio_driver *to, const struct mmio_driver *from);

/* One aligned 32-bit register access through the bus, as a vCPU's MMIO exit. */
uint32_t mmio_driver_read(struct mmio_driver *d, uint32_t reg);
void mmio_driver_write(struct mmio_driver *d, uint32_t reg, uint32_t value);

uint32_t mmio_driver_status(struct mmio_driver *d);
void mmio_driver_set_status(struct mmio_driver *d, uint32_t status);
/* The 64 feature bits the device offers, read by halves (§4.2.2 DeviceFeaturesSel). */
uint64_t mmio_driver_device_features(struct mmio_driver *d);
/* Writes the 64 driver feature bits by halves. */
void mmio_driver_write_features(struct mmio_driver *d, uint64_t features);

/*
 * §3.1.1 steps 1-6: reset (status 0), ACKNOWLEDGE, DRIVER, the driver's features (VERSION_1 added),
 * FEATURES_OK. Returns the status read back (FEATURES_OK missing: the device refused them).
 */
uint32_t mmio_driver_negotiate(struct mmio_driver *d, uint64_t features);

/*
 * Lays queue q out afresh in its window of RAM (`size` entries, a zeroed window) and writes its
 * registers: QueueSel, QueueNum, the three ring addresses, QueueReady 1.
 */
void mmio_driver_setup_queue(struct mmio_driver *d, unsigned int q, uint16_t size);
/* Writes queue q's registers as given (any values at all): QueueReady 0, the others, QueueReady 1. */
void mmio_driver_queue_regs(struct mmio_driver *d, unsigned int q, uint32_t num, gpa_t desc, gpa_t avail,
			    gpa_t used);

/* negotiate, queues [0, num_queues) of `size` entries, DRIVER_OK. Returns the status read back. */
uint32_t mmio_driver_start(struct mmio_driver *d, uint64_t features, unsigned int num_queues, uint16_t size);

/* The builder of queue q (set up by mmio_driver_setup_queue): post chains, read the used ring. */
struct virtq_builder *mmio_driver_vq(struct mmio_driver *d, unsigned int q);

/*
 * The guest writes q to QueueNotify: a registered ioeventfd for it is signalled, as KVM would;
 * else the write exits to the bus. mmio_driver_notify_exit always takes the bus.
 */
void mmio_driver_kick(struct mmio_driver *d, unsigned int q);
void mmio_driver_notify_exit(struct mmio_driver *d, uint32_t q);
/* The driver posts n chains of one device-writable buffer of len bytes on queue q, each buffer's
 * address in bufs[head] (bufs has an entry per descriptor), and kicks q. */
void mmio_driver_post_writable(struct mmio_driver *d, unsigned int q, uint32_t len, unsigned int n, gpa_t *bufs);

/*
 * What the I/O thread would do, on this thread: dispatches every handler epoll reports, round after
 * round until none is ready (at most 1000 rounds). Returns the handlers run. Not with a thread.
 */
unsigned int mmio_driver_pump(struct mmio_driver *d);

/* Interrupts raised through the irqfd since the last call. */
uint64_t mmio_driver_irqs(struct mmio_driver *d);
/* The guest's interrupt handler: reads InterruptStatus and acknowledges what it read. */
uint32_t mmio_driver_take_interrupt(struct mmio_driver *d);

/*
 * Snapshots through the real transport (virtio/mmio_snapshot.c). save: d's transport and device as
 * section VIRT/0 of w. restore: to is a fresh device's driver (mmio_driver_init, RAM of from's
 * size); it takes from's guest (mmio_driver_copy_guest), then section VIRT/0 of r is loaded into
 * its transport. Returns what virtio_mmio_load returned, its reason in why. The kick every queue
 * gets after a restore is the caller's (virtio_mmio_kick_all).
 */
void mmio_driver_save(struct mmio_driver *d, struct snap_writer *w);
int mmio_driver_restore(struct mmio_driver *to, const struct mmio_driver *from, const struct snap_reader *r,
			char *why, size_t whylen) MUST_CHECK;

/* A real I/O thread (io/loop.c, no seccomp) runs the loop from now on; 0 or -errno. */
int mmio_driver_start_thread(struct mmio_driver *d) MUST_CHECK;
/* Stops and joins it; mmio_driver_pump may be used again. */
void mmio_driver_stop_thread(struct mmio_driver *d);

#endif
