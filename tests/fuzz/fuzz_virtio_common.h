/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the virtio fuzz targets: a real device behind the real virtio-mmio transport
 * (virtio/mmio.c), driven single-threaded the way a vCPU and the I/O thread would, with guest RAM
 * a 128 KiB buffer at gpa 0, and the invariants every step must keep (abort on violation):
 * - the transport: status bits are only added (a 4-byte write of 0 resets, and then the status,
 *   the interrupt status and every QueueReady read 0), DRIVER_OK never stands without FEATURES_OK,
 *   NEEDS_RESET stays until reset, an interrupt signalled leaves InterruptStatus non-zero;
 * - guest memory: the device writes nothing while it is not running (no DRIVER_OK before or after
 *   the step), and otherwise only used rings and buffers some descriptor offered as device-writable
 *   (a byte mask of them, accumulated over the run, read from what the driver wrote);
 * - each used ring: the device pushes at most what it popped, only heads it holds, and used->idx
 *   is what it published;
 * - the I/O loop goes idle after each step (a handler left ready with nothing to do would keep
 *   the I/O thread spinning);
 * - no file descriptor outlives the run (fv_end).
 * A driver that lays rings or tables under device-writable memory makes the device's view of
 * them unknowable: the memory and head checks stop for that run ("tainted"), the others go on.
 *
 * Standard layout (fv_driver_init): queue i's rings in the 4 KiB block at i * 0x1000 (desc at +0,
 * avail at +0x800, used at +0xa00, for up to FV_STD_QSIZE_MAX entries); buffers above the last
 * queue's block, handed out by fv_alloc in a wrapping bump allocator.
 */
#ifndef KILN_TESTS_FUZZ_VIRTIO_COMMON_H
#define KILN_TESTS_FUZZ_VIRTIO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/bus.h"
#include "io/loop.h"
#include "mem/gmem.h"
#include "virtio/mmio.h"

#define FV_RAM_SIZE 0x20000u
#define FV_BASE 0xd0000000ull
#define FV_GSI 5
#define FV_MAX_QSIZE 256 /* the largest QueueNumMax of kiln's devices */
#define FV_STD_QSIZE_MAX 128
#define FV_RING_BLOCK 0x1000u
#define FV_MAX_SEGS 16

/* The registers the harness uses (virtio 1.2 §4.2.2), and status bits (§2.1). */
enum {
	FV_REG_DRIVER_FEATURES = 0x020, FV_REG_DRIVER_FEATURES_SEL = 0x024, FV_REG_QUEUE_SEL = 0x030,
	FV_REG_QUEUE_NUM = 0x038, FV_REG_QUEUE_READY = 0x044, FV_REG_QUEUE_NOTIFY = 0x050,
	FV_REG_INTERRUPT_STATUS = 0x060, FV_REG_INTERRUPT_ACK = 0x064, FV_REG_STATUS = 0x070,
	FV_REG_QUEUE_DESC_LOW = 0x080, FV_REG_QUEUE_DRIVER_LOW = 0x090, FV_REG_QUEUE_DEVICE_LOW = 0x0a0,
	FV_REG_CONFIG = 0x100,
};
enum {
	FV_ACKNOWLEDGE = 1, FV_DRIVER = 2, FV_DRIVER_OK = 4, FV_FEATURES_OK = 8, FV_NEEDS_RESET = 64,
};

#define fv_check(cond)                                                  \
	do {                                                            \
		if (!(cond))                                            \
			fv_fail(#cond, __FILE__, __LINE__);             \
	} while (0)
void fv_fail(const char *what, const char *file, int line) __attribute__((noreturn));

/* The fuzz input, read front to back; past its end every read gives zeros. */
struct fv_in {
	const uint8_t *p;
	size_t len;
};
uint8_t fv_u8(struct fv_in *in);
uint16_t fv_u16(struct fv_in *in);
uint32_t fv_u32(struct fv_in *in);
uint64_t fv_u64(struct fv_in *in);
/* Up to len bytes of input (fewer at its end): returns them, *got says how many. */
const uint8_t *fv_bytes(struct fv_in *in, size_t len, size_t *got);

struct fv_track {
	bool live;                   /* the queue's rings were seen initialized */
	bool heads_ok;               /* held[] is exact (no tainted step, no step past the ring) */
	uint16_t next_avail, next_used;
	uint64_t pops, pushes;
	uint16_t held[FV_MAX_QSIZE]; /* chains popped and not pushed, by head */
};

struct fv {
	uint8_t ram[FV_RAM_SIZE] __attribute__((aligned(4096)));
	uint8_t shadow[FV_RAM_SIZE];    /* RAM as the driver left it */
	uint8_t may_write[FV_RAM_SIZE]; /* bytes the device was offered to write */
	struct gmem mem;
	struct bus bus;
	struct io_loop loop;
	struct virtio_mmio m;
	struct virtio_dev *dev;
	int irq_fd;
	unsigned int fds_at_start;
	/* What the checks know. */
	uint32_t status;
	bool mask_stale;
	bool tainted;
	struct fv_track track[VIRTIO_MAX_QUEUES];
	/* The standard driver (fv_driver_init, fv_chain). */
	uint16_t qsize;
	uint16_t avail_idx[VIRTIO_MAX_QUEUES];
	uint16_t next_desc[VIRTIO_MAX_QUEUES];
	uint32_t buf_next;
};

/* Before the device exists: RAM, the bus and the I/O loop. */
void fv_begin(struct fv *f);
/* The transport over dev, its kicks and interrupt wired to the loop and fake hooks. */
void fv_attach(struct fv *f, struct virtio_dev *dev);
/* Takes the transport down; the caller destroys the device, then calls fv_end. */
void fv_detach(struct fv *f);
/* Closes the loop and the bus; checks that every fd opened since fv_begin is closed. */
void fv_end(struct fv *f);

/* Register accesses as a vCPU makes them (any offset, len 1..8), each followed by the checks. */
uint64_t fv_read(struct fv *f, uint64_t offset, unsigned int len);
void fv_write(struct fv *f, uint64_t offset, uint64_t value, unsigned int len);
/* QueueNotify for queue q (any value), then the I/O loop runs. */
void fv_kick(struct fv *f, uint32_t q);
/* The I/O loop runs until nothing is ready (bounded), then the checks. */
void fv_pump(struct fv *f);

/* The driver writes guest memory (anywhere in RAM; clipped at its end). */
void fv_poke(struct fv *f, uint64_t gpa, const void *data, size_t len);
void fv_peek(const struct fv *f, uint64_t gpa, void *data, size_t len);

/*
 * §3.1.1 with the standard layout: features (VERSION_1 added; the rest as given, offered or not),
 * every queue of the device at qsize entries, ready, then DRIVER_OK. Returns whether the device
 * runs (DRIVER_OK set, no NEEDS_RESET).
 */
bool fv_driver_init(struct fv *f, uint64_t features, uint16_t qsize);

/* One buffer of a chain (fv_chain): len bytes, data (may be NULL: zeros) up to data_len of them. */
struct fv_seg {
	uint32_t len;
	bool write;
	const uint8_t *data;
	size_t data_len;
};
/* A gpa for len bytes in the buffer area (wrapping; len clipped to the area). */
uint64_t fv_alloc(struct fv *f, uint32_t *len);
/*
 * Lays segs[0..n) (n at most FV_MAX_SEGS and the queue size) out as buffers and descriptors in
 * queue q's standard ring (indirect: one table), publishes the chain and returns its head; the
 * buffers' gpas go to gpa[] when it is not NULL.
 */
uint16_t fv_chain(struct fv *f, unsigned int q, const struct fv_seg *segs, unsigned int n, bool indirect,
		  uint64_t *gpa);
/* A chain a target posts with fv_post and reads back once the device used it. */
struct fv_posted {
	struct fv_seg segs[FV_MAX_SEGS];
	unsigned int n;
	bool indirect;
	uint16_t head;           /* set by fv_post */
	unsigned int ndesc;      /* ring descriptors it takes */
	uint32_t cap;            /* device-writable bytes */
	uint64_t gpa[FV_MAX_SEGS];
};
/*
 * fv_chain for a driver that keeps track: only when the ring has ndesc free descriptors
 * (*ndesc_busy counts those of chains not returned yet, and grows) and the buffer area has room
 * that overlays no buffer in use (idle: none is, so fv_alloc may start over). false: the driver
 * waits, nothing is laid out.
 */
bool fv_post(struct fv *f, unsigned int q, struct fv_posted *p, unsigned int *ndesc_busy, bool idle);
/* The first len bytes the device wrote into p (its writable buffers in order); returns how many. */
uint32_t fv_written(const struct fv *f, const struct fv_posted *p, uint32_t len, uint8_t *out);

/* Used ring entry i of queue q in the standard layout; and its used->idx. */
void fv_used(const struct fv *f, unsigned int q, uint16_t i, uint32_t *id, uint32_t *len);
uint16_t fv_used_idx(const struct fv *f, unsigned int q);

#endif
