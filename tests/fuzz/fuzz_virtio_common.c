/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio fuzz targets' harness and standard driver; see fuzz_virtio_common.h. */
#include "fuzz/fuzz_virtio_common.h"

#include <dirent.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "fuzz/fuzz_virtio_check.h"
#include "log.h"
#include "virtio/queue.h"

#define FV_PUMP_ROUNDS 256 /* far more than any input needs: a loop still busy then spins */
#define FV_STD_AVAIL 0x800u
#define FV_STD_USED 0xa00u

void fv_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "fuzz: invariant broken: %s (%s:%d)\n", what, file, line);
	abort();
}

/* --- input ------------------------------------------------------------------------------------- */

const uint8_t *fv_bytes(struct fv_in *in, size_t len, size_t *got)
{
	const uint8_t *p = in->p;

	*got = len < in->len ? len : in->len;
	in->p += *got;
	in->len -= *got;
	return p;
}

static uint64_t fv_le(struct fv_in *in, size_t n)
{
	size_t got;
	const uint8_t *p = fv_bytes(in, n, &got);
	uint64_t v = 0;

	for (size_t i = 0; i < got; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t fv_u8(struct fv_in *in)
{
	return (uint8_t)fv_le(in, 1);
}

uint16_t fv_u16(struct fv_in *in)
{
	return (uint16_t)fv_le(in, 2);
}

uint32_t fv_u32(struct fv_in *in)
{
	return (uint32_t)fv_le(in, 4);
}

uint64_t fv_u64(struct fv_in *in)
{
	return fv_le(in, 8);
}

/* --- set-up ------------------------------------------------------------------------------------ */

static unsigned int fv_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	fv_check(d != NULL);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* Kicks reach the I/O loop through QueueNotify exits (fv_kick): the ioeventfd is only checked. */
static int fv_add_ioeventfd(void *opaque, uint64_t addr, uint64_t datamatch, int fd)
{
	(void)opaque;
	(void)fd;
	/* §4.2.2: each queue's kick is its index written to QueueNotify. */
	fv_check(addr == FV_BASE + FV_REG_QUEUE_NOTIFY && datamatch < VIRTIO_MAX_QUEUES);
	return 0;
}

static int fv_add_irqfd(void *opaque, uint32_t gsi, int fd)
{
	struct fv *f = opaque;

	fv_check(gsi == FV_GSI);
	f->irq_fd = fd;
	return 0;
}

void fv_begin(struct fv *f)
{
	log_set_level(LOG_ERROR);
	memset(f, 0, sizeof(*f));
	f->fds_at_start = fv_count_fds();
	f->irq_fd = -1;
	fv_check(gmem_add_region(&f->mem, 0, f->ram, FV_RAM_SIZE) == 0);
	bus_init(&f->bus, "mmio", 0);
	fv_check(io_loop_init(&f->loop) == 0);
}

void fv_attach(struct fv *f, struct virtio_dev *dev)
{
	const struct virtio_mmio_host host = {
		.add_ioeventfd = fv_add_ioeventfd, .add_irqfd = fv_add_irqfd, .opaque = f
	};

	fv_check(virtio_mmio_init(&f->m, dev, &f->bus, FV_BASE, FV_GSI, &f->mem, &f->loop, &host) == 0);
	f->dev = dev;
	f->qsize = 16;
	f->buf_next = dev->num_queues * FV_RING_BLOCK;
}

void fv_detach(struct fv *f)
{
	virtio_mmio_destroy(&f->m);
}

void fv_end(struct fv *f)
{
	io_loop_destroy(&f->loop);
	bus_free(&f->bus);
	fv_check(fv_count_fds() == f->fds_at_start); /* nothing of the run stays open */
}

/* --- the vCPU's and the I/O thread's side ------------------------------------------------------ */

uint64_t fv_read(struct fv *f, uint64_t offset, unsigned int len)
{
	uint64_t v = 0;

	bus_access(&f->bus, FV_BASE + offset, &v, len, false);
	/* §4.2.2: registers are aligned 32-bit words; anything else reads 0. */
	if (offset < FV_REG_CONFIG && (len != 4 || offset % 4))
		fv_check(v == 0);
	return v;
}

static void fv_write_checked(struct fv *f, uint64_t offset, uint64_t value, unsigned int len, bool memory)
{
	fv_prepare(f);
	bus_access(&f->bus, FV_BASE + offset, &value, len, true);
	fv_observe(f, offset == FV_REG_STATUS && len == 4 && (uint32_t)value == 0, memory);
}

void fv_write(struct fv *f, uint64_t offset, uint64_t value, unsigned int len)
{
	fv_write_checked(f, offset, value, len, true);
}

/* The standard driver's writes: guest RAM is compared after status writes, the rest is costly. */
static void fv_write_std(struct fv *f, uint64_t offset, uint32_t value)
{
	fv_write_checked(f, offset, value, 4, offset == FV_REG_STATUS);
}

static void fv_dispatch(struct fv *f)
{
	for (int round = 0; round < FV_PUMP_ROUNDS; round++) {
		struct epoll_event ev[16];
		int n = epoll_wait(f->loop.epoll_fd, ev, 16, 0);
		bool served = false;

		fv_check(n >= 0);
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = ev[i].data.ptr;

			fv_check(h != NULL); /* only io_loop_stop writes the wake fd */
			h->ready(h, ev[i].events);
			served = true;
		}
		/* Queues served on workers (a disk's): their threads do not run here. */
		for (struct io_worker *w = f->loop.workers; w; w = w->next)
			served |= io_worker_serve_ready(w);
		if (!served)
			return;
	}
	fv_check(!"the I/O loop never goes idle");
}

void fv_pump(struct fv *f)
{
	fv_prepare(f);
	fv_dispatch(f);
	fv_observe(f, false, true);
}

void fv_kick(struct fv *f, uint32_t q)
{
	fv_prepare(f);
	bus_access(&f->bus, FV_BASE + FV_REG_QUEUE_NOTIFY, &q, 4, true);
	fv_dispatch(f);
	fv_observe(f, false, true);
}

/* --- the driver -------------------------------------------------------------------------------- */

void fv_poke(struct fv *f, uint64_t gpa, const void *data, size_t len)
{
	if (gpa >= FV_RAM_SIZE)
		return;
	if (len > FV_RAM_SIZE - gpa)
		len = FV_RAM_SIZE - gpa;
	memcpy(f->ram + gpa, data, len);
	memcpy(f->shadow + gpa, data, len);
	f->mask_stale = true;
}

void fv_peek(const struct fv *f, uint64_t gpa, void *data, size_t len)
{
	fv_check(gpa <= FV_RAM_SIZE && len <= FV_RAM_SIZE - gpa);
	memcpy(data, f->ram + gpa, len);
}

static void fv_poke16(struct fv *f, uint64_t gpa, uint16_t v)
{
	uint16_t le = htole16(v);

	fv_poke(f, gpa, &le, sizeof(le));
}

bool fv_driver_init(struct fv *f, uint64_t features, uint16_t qsize)
{
	static const uint8_t zero_block[FV_RING_BLOCK];
	unsigned int nq = f->dev->num_queues;

	features |= 1ull << VIRTIO_F_VERSION_1;
	fv_write_std(f, FV_REG_STATUS, 0);
	fv_write_std(f, FV_REG_STATUS, FV_ACKNOWLEDGE);
	fv_write_std(f, FV_REG_STATUS, FV_ACKNOWLEDGE | FV_DRIVER);
	for (uint32_t half = 0; half < 2; half++) {
		fv_write_std(f, FV_REG_DRIVER_FEATURES_SEL, half);
		fv_write_std(f, FV_REG_DRIVER_FEATURES, (uint32_t)(features >> (32 * half)));
	}
	fv_write_std(f, FV_REG_STATUS, FV_ACKNOWLEDGE | FV_DRIVER | FV_FEATURES_OK);
	f->qsize = qsize == 0 ? 1 : qsize > FV_STD_QSIZE_MAX ? FV_STD_QSIZE_MAX : qsize;
	for (uint32_t q = 0; q < nq; q++)
		fv_poke(f, q * FV_RING_BLOCK, zero_block, sizeof(zero_block));
	for (uint32_t q = 0; q < nq; q++) {
		uint32_t block = q * FV_RING_BLOCK;

		f->avail_idx[q] = f->next_desc[q] = 0;
		fv_write_std(f, FV_REG_QUEUE_SEL, q);
		fv_write_std(f, FV_REG_QUEUE_NUM, f->qsize);
		fv_write_std(f, FV_REG_QUEUE_DESC_LOW, block);
		fv_write_std(f, FV_REG_QUEUE_DRIVER_LOW, block + FV_STD_AVAIL);
		fv_write_std(f, FV_REG_QUEUE_DEVICE_LOW, block + FV_STD_USED);
		fv_write_std(f, FV_REG_QUEUE_READY, 1);
	}
	f->buf_next = nq * FV_RING_BLOCK;
	fv_write_std(f, FV_REG_STATUS, FV_ACKNOWLEDGE | FV_DRIVER | FV_FEATURES_OK | FV_DRIVER_OK);
	return (f->status & (FV_DRIVER_OK | FV_NEEDS_RESET)) == FV_DRIVER_OK;
}

uint64_t fv_alloc(struct fv *f, uint32_t *len)
{
	uint32_t base = f->dev->num_queues * FV_RING_BLOCK, area = FV_RAM_SIZE - base;
	uint64_t gpa;

	if (*len > area)
		*len = area;
	if (f->buf_next < base || *len > FV_RAM_SIZE - f->buf_next)
		f->buf_next = base;
	gpa = f->buf_next;
	f->buf_next += (uint32_t)ALIGN_UP((uint64_t)*len, 16);
	return gpa;
}

static void fv_desc(struct fv *f, uint64_t at, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {
		.addr = htole64(addr), .len = htole32(len), .flags = htole16(flags), .next = htole16(next),
	};

	fv_poke(f, at, &d, sizeof(d));
}

uint16_t fv_chain(struct fv *f, unsigned int q, const struct fv_seg *segs, unsigned int n, bool indirect,
		  uint64_t *gpa)
{
	static const struct fv_seg empty = { 0 };
	uint64_t block = q * FV_RING_BLOCK, at[FV_MAX_SEGS];
	uint16_t head = f->next_desc[q] % f->qsize, next[FV_MAX_SEGS];
	uint32_t table_len = 0;
	uint64_t table = 0;

	if (n == 0) {
		segs = &empty;
		n = 1;
	}
	n = n < FV_MAX_SEGS ? n : FV_MAX_SEGS;
	if (!indirect && n > f->qsize)
		n = f->qsize;
	if (indirect) {
		table_len = 16u * n;
		table = fv_alloc(f, &table_len);
	}
	for (unsigned int i = 0; i < n; i++) {
		at[i] = indirect ? table + 16u * i : block + 16u * ((head + i) % f->qsize);
		next[i] = (uint16_t)(indirect ? i + 1 : (head + i + 1) % f->qsize);
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = segs[i].len;
		uint64_t addr = fv_alloc(f, &len);
		uint16_t flags = (segs[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		if (segs[i].data != NULL)
			fv_poke(f, addr, segs[i].data, segs[i].data_len < len ? segs[i].data_len : len);
		fv_desc(f, at[i], addr, len, flags, i + 1 < n ? next[i] : 0);
		if (gpa != NULL)
			gpa[i] = addr;
	}
	if (indirect)
		fv_desc(f, block + 16u * head, table, table_len, VIRTQ_DESC_F_INDIRECT, 0);
	f->next_desc[q] = (uint16_t)((head + (indirect ? 1 : n)) % f->qsize);
	fv_poke16(f, block + FV_STD_AVAIL + 4 + 2u * (f->avail_idx[q] % f->qsize), head);
	fv_poke16(f, block + FV_STD_AVAIL + 2, ++f->avail_idx[q]);
	return head;
}

bool fv_post(struct fv *f, unsigned int q, struct fv_posted *p, unsigned int *ndesc_busy, bool idle)
{
	uint32_t need = p->indirect ? 16u * p->n + 16 : 0;

	p->cap = 0;
	for (unsigned int i = 0; i < p->n; i++) {
		need += (uint32_t)ALIGN_UP((uint64_t)p->segs[i].len, 16);
		p->cap += p->segs[i].write ? p->segs[i].len : 0;
	}
	p->ndesc = p->indirect ? 1 : p->n;
	if (*ndesc_busy + p->ndesc > f->qsize)
		return false;
	if (f->buf_next + need > FV_RAM_SIZE) {
		if (!idle)
			return false;
		f->buf_next = 0; /* fv_alloc starts over */
	}
	p->head = fv_chain(f, q, p->segs, p->n, p->indirect, p->gpa);
	*ndesc_busy += p->ndesc;
	return true;
}

uint32_t fv_written(const struct fv *f, const struct fv_posted *p, uint32_t len, uint8_t *out)
{
	uint32_t at = 0;

	for (unsigned int i = 0; i < p->n && at < len; i++) {
		uint32_t take = p->segs[i].len < len - at ? p->segs[i].len : len - at;

		if (p->segs[i].write) {
			fv_peek(f, p->gpa[i], out + at, take);
			at += take;
		}
	}
	return at;
}

void fv_used(const struct fv *f, unsigned int q, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint32_t e[2];

	fv_peek(f, q * FV_RING_BLOCK + FV_STD_USED + 4 + 8u * (i % f->qsize), e, sizeof(e));
	*id = le32toh(e[0]);
	*len = le32toh(e[1]);
}

uint16_t fv_used_idx(const struct fv *f, unsigned int q)
{
	uint16_t idx;

	fv_peek(f, q * FV_RING_BLOCK + FV_STD_USED + 2, &idx, sizeof(idx));
	return le16toh(idx);
}
