/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile guest's virtio-mmio driver side (virtio 1.2 §4.2): finding kiln's devices in the
 * MMIO hole, the status and feature dance, split rings of QSZ entries in guest RAM, chains, kicks,
 * and bounded waits. Every queue register value comes from struct vq, so a game can put any
 * address or size there before queue_program() writes it.
 */
#ifndef HOSTILE_VIRTIO_H
#define HOSTILE_VIRTIO_H

#include "guest.h"

#define VIRTIO_MMIO_BASE 0xd0000000u /* kiln's X86_VIRTIO_MMIO_BASE: a 4 KiB window per device */
#define VIRTIO_MMIO_WINDOW 0x1000u
#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */

/* Register offsets, virtio 1.2 §4.2.2. */
enum {
	REG_MAGIC = 0x000,
	REG_VERSION = 0x004,
	REG_DEVICE_ID = 0x008,
	REG_DEVICE_FEATURES = 0x010,
	REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020,
	REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034,
	REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044,
	REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060,
	REG_INTERRUPT_ACK = 0x064,
	REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080,
	REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090,
	REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0,
	REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_UNKNOWN = 0x0c0, /* reserved: reads 0 */
	REG_CONFIG_GENERATION = 0x0fc,
	REG_CONFIG = 0x100,
};

/* Device status bits, virtio 1.2 §2.1. */
#define S_ACK 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u
#define S_NEEDS_RESET 64u
#define S_UP (S_ACK | S_DRIVER | S_FEATURES_OK)
#define S_LIVE (S_UP | S_DRIVER_OK)

#define INT_CONFIG 2u /* InterruptStatus: configuration change (NEEDS_RESET comes with it) */

/* Feature bits, virtio 1.2 §6: the guest takes VERSION_1 and INDIRECT_DESC, never EVENT_IDX. */
#define F_INDIRECT_DESC 28
#define F_EVENT_IDX 29
#define F_HI_VERSION_1 1u /* bit 32, in the high word */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define QSZ 256          /* every queue this guest sets up: kiln's QueueNumMax */
#define MAX_QUEUES 8
#define NBUF 16          /* buffers per queue: descriptor i uses buffer i % NBUF */
#define BUF_SIZE 0x1000u

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One queue as the driver sees it: what queue_program() writes, and the ring state. */
struct vq {
	uint32_t num;            /* QueueNum */
	uint64_t desc, avail, used; /* ring addresses as written to the registers */
	bool ready;
	uint16_t avail_idx;      /* the driver's next avail idx */
	uint16_t used_seen;      /* used entries taken */
	uint16_t next_desc;      /* the next free descriptor index */
};

struct vdev;

/* What this guest knows of a device type: the queue whose kick makes the device pop, a good request. */
struct dev_kind {
	uint32_t id;
	const char *name;
	unsigned int kick_queue;
	/* Puts one good request in the rings (no kick); done() waits for its completion and checks it. */
	void (*post)(struct vdev *d);
	bool (*done)(struct vdev *d);
};

struct vdev {
	uint32_t base;
	const struct dev_kind *kind;
	unsigned int nq;         /* queues: QueueNumMax is non-zero below nq */
	uint32_t area;           /* DEV_AREA_SIZE bytes of RAM for its rings and buffers */
	uint64_t offered;
	uint16_t good_head;      /* the head of the good request in flight */
	uint16_t blk_status_desc; /* virtio-blk: the descriptor of that request's status byte */
	struct vq q[MAX_QUEUES];
};

/* Segments of a chain for chain_post: addr 0 means the descriptor's own buffer. */
struct seg {
	uint32_t addr;
	uint32_t len;
	bool write;
};

uint32_t reg_read(const struct vdev *d, uint32_t off);
void reg_write(const struct vdev *d, uint32_t off, uint32_t v);
uint32_t dev_status(const struct vdev *d);
void dev_set_status(const struct vdev *d, uint32_t v);

/* Finds kiln's devices, window by window; returns how many (at most count). */
unsigned int dev_scan(struct vdev *devs, unsigned int count);
/* The first of the n devices dev_scan found whose device id is id, or NULL. */
struct vdev *dev_find(struct vdev *devs, unsigned int n, uint32_t id);

/* Status 0, then the driver's memory of the device (ring headers zeroed, indices 0, good layouts). */
void dev_reset(struct vdev *d);
/* Reset, ACKNOWLEDGE, DRIVER, and the offered features read into d->offered. */
void dev_begin(struct vdev *d);
/* Writes DriverFeatures, both words. */
void dev_features(const struct vdev *d, uint32_t lo, uint32_t hi);
/* The low word of the features this guest takes: INDIRECT_DESC when offered (VERSION_1 is high). */
uint32_t dev_good_features_lo(const struct vdev *d);
/* Selects queue q and writes its registers from d->q[q] (QueueReady last). */
void queue_program(struct vdev *d, unsigned int q);
/* dev_begin, the good features and extra_lo, FEATURES_OK: returns the status (S_UP if it went well). */
uint32_t dev_features_ok(struct vdev *d, uint32_t extra_lo);
/* dev_features_ok, then every queue good and ready: returns the status after FEATURES_OK. */
uint32_t dev_up(struct vdev *d, uint32_t extra_lo);
/* dev_up, then DRIVER_OK: true when the status reads S_LIVE. */
bool dev_activate(struct vdev *d, uint32_t extra_lo);

/* Addresses of queue q's rings and buffers, in the device's area. */
struct vring_desc *vq_desc(const struct vdev *d, unsigned int q);
uint32_t vq_buf(const struct vdev *d, unsigned int q, unsigned int desc_index);
/* NO_INTERRUPT in the avail ring's flags (§2.7.7): the guest polls; interrupts only cost time. */
void vq_suppress_interrupts(const struct vdev *d, unsigned int q);
/* The avail_event field behind the used ring (EVENT_IDX, §2.7.10): a game puts a mark there. */
uint16_t *vq_avail_event(const struct vdev *d, unsigned int q);

/* The buffer of the i-th descriptor of the next chain chain_post will write to queue q. */
uint8_t *next_buf(const struct vdev *d, unsigned int q, unsigned int i);
/* Writes a chain into queue q's descriptor table and avail ring; returns its head. */
uint16_t chain_post(struct vdev *d, unsigned int q, const struct seg *segs, unsigned int n);
/* Publishes head in the avail ring (the descriptors are written already). */
void avail_publish(struct vdev *d, unsigned int q, uint16_t head);
void kick(const struct vdev *d, uint32_t q);

/* Waits for the next used entry of queue q into *e; false when none came within the bound. */
bool used_wait(struct vdev *d, unsigned int q, struct vring_used_elem *e);
/*
 * The fewest guest instructions per request: fills queue q's descriptor table with QSZ chains of
 * one descriptor like s (its addr 0: each its own buffer), then rounds times publishes all of them
 * with one avail idx store and a kick, and waits until all are used. Returns the rounds completed.
 */
unsigned int ring_cycle(struct vdev *d, unsigned int q, const struct seg *s, unsigned int rounds);
/* Waits until the status has every bit of mask; returns the status last read. */
uint32_t status_wait(const struct vdev *d, uint32_t mask);

/* The good request of d's kind posted and kicked; done() not waited for. */
void dev_good_request_post_kick(struct vdev *d);
/* The good request of d's kind: post, kick, done. */
bool dev_good_request(struct vdev *d);

extern const struct dev_kind dev_kinds[];
extern const unsigned int dev_kinds_count;

#endif
