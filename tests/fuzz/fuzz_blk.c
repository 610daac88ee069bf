/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the virtio-blk request path (virtio/blk.c, virtio 1.2 §5.2.6) behind the real
 * transport, on a small memfd disk, against a model: for each request the target knows the chain
 * it laid out, predicts the status byte, the used length and the disk's new contents, and checks
 * them, besides the harness's invariants. A failing request answers IOERR or UNSUPP and changes
 * nothing; nothing is read or written outside the disk (its size and the tail past its last whole
 * sector stay as they were); a chain with no header or no status byte breaks the queue (the driver
 * then resets the device and goes on).
 *
 * Input: byte 0: bit 0 read-only, bits 1-3 FLUSH, DISCARD, WRITE_ZEROES (never on a read-only disk,
 * which does not offer them), bit 4 EVENT_IDX; byte 1: the disk, 512 * (b % 32) bytes, plus 100
 * when bit 5 is set. Then requests, each:
 *   kind u8     (% 8) IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES, a raw u32 type (follows),
 *               IN with a 15-byte header
 *   sector u8   below 0xf0: that sector; else a raw u64 follows
 *   shape u8    bits 0-1 data segments (0-3), bits 2-3 status bytes (0-3), bit 4 header split in
 *               two descriptors, bit 5 indirect, bit 6 data device-writable (FLUSH, raw types),
 *               bit 7 a 15-byte DISCARD / WRITE_ZEROES segment
 *   segments    DISCARD / WRITE_ZEROES: one, sector (as above), num_sectors u8 (below 0xf0) or
 *               u32, flags u8; others: len u16 each, bit 15 set: len & 0x1fff bytes, else
 *               (len & 15) * 512; then for OUT a seed u8 (data byte i is seed + i)
 */
#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz_virtio_common.h"
#include "fuzz/fuzz_virtio_hosts.h"
#include "virtio/blk.h"

#define FUZZ_MAX_REQUESTS 64
#define FUZZ_MAX_DISK (512 * 31 + 100)
#define FUZZ_MAX_CHAIN (16 + 3 * 0x1fff + 16)
#define FUZZ_CANARY 0xcc
#define FUZZ_SERIAL "kiln-fuzz-disk" /* the serial fv_host_create gives the disk */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static struct fv fuzz_fv;

struct fuzz_disk {
	int fd;
	bool read_only, discard, write_zeroes;
	uint64_t size, sectors;
	uint8_t model[FUZZ_MAX_DISK];
};

/* One request as laid out, the bytes of its two parts, and what the device must answer. */
struct fuzz_req {
	struct fv_seg segs[FV_MAX_SEGS];
	unsigned int n;
	uint64_t gpa[FV_MAX_SEGS];
	uint8_t out[FUZZ_MAX_CHAIN]; /* the device-readable bytes, in order */
	uint8_t in[FUZZ_MAX_CHAIN];  /* the device-writable bytes, as the device left them */
	uint64_t out_len, in_len;
	bool indirect;
	uint8_t status;
	uint32_t written; /* data bytes the used length counts, the status byte not included */
};

static struct fuzz_disk fuzz_disk;
static struct fuzz_req fuzz_req;
static uint8_t fuzz_canary[FUZZ_MAX_CHAIN];

static uint64_t fuzz_sector(struct fv_in *in)
{
	uint8_t b = fv_u8(in);

	return b < 0xf0 ? b : fv_u64(in);
}

static void fuzz_add(struct fuzz_req *r, uint32_t len, bool write, const uint8_t *bytes)
{
	r->segs[r->n++] = (struct fv_seg){ .len = len, .write = write, .data = bytes, .data_len = len };
	if (write) {
		r->in_len += len;
	} else {
		memcpy(r->out + r->out_len, bytes, len);
		r->out_len += len;
	}
}

/* Whether bytes at sector are whole sectors inside the disk (§5.2.6.1; blk.c's bound on a count). */
static bool fuzz_in_disk(const struct fuzz_disk *d, uint64_t sector, uint64_t bytes)
{
	return bytes % 512 == 0 && bytes < UINT32_MAX && sector <= d->sectors && bytes / 512 <= d->sectors - sector;
}

/* Lays out the request's segments (header, data, status) from the input. */
static void fuzz_build(struct fv_in *in, struct fuzz_req *r, uint32_t type, uint64_t sector, uint8_t kind)
{
	static uint8_t bytes[FUZZ_MAX_CHAIN];
	struct virtio_blk_req_hdr hdr = { .type = htole32(type), .sector = htole64(sector) };
	uint8_t shape = fv_u8(in);
	unsigned int hdr_len = kind == 7 ? 15 : 16, nstatus = (shape >> 2) & 3;
	bool data_write = kind == 0 || kind == 7 || kind == 3 || ((kind == 2 || kind == 6) && (shape & 0x40));

	r->indirect = shape & 0x20;
	memcpy(bytes, &hdr, sizeof(hdr));
	if (shape & 0x10) {
		fuzz_add(r, 5, false, bytes);
		fuzz_add(r, hdr_len - 5, false, bytes + 5);
	} else {
		fuzz_add(r, hdr_len, false, bytes);
	}
	if (kind == 4 || kind == 5) {
		struct virtio_blk_discard_write_zeroes seg = { .sector = htole64(fuzz_sector(in)) };
		uint8_t num = fv_u8(in);

		seg.num_sectors = htole32(num < 0xf0 ? num : fv_u32(in));
		seg.flags = htole32(fv_u8(in));
		memcpy(bytes + 16, &seg, sizeof(seg));
		fuzz_add(r, shape & 0x80 ? 15 : 16, false, bytes + 16);
	} else {
		uint32_t lens[3], total = 0;
		unsigned int nseg = shape & 3;

		for (unsigned int i = 0; i < nseg; i++) {
			uint16_t l = fv_u16(in);

			lens[i] = l & 0x8000 ? l & 0x1fff : (l & 15) * 512u;
			total += lens[i];
		}
		uint8_t seed = kind == 1 ? fv_u8(in) : 0;

		for (uint32_t i = 0; i < total; i++)
			bytes[16 + i] = (uint8_t)(seed + i);
		for (unsigned int i = 0, at = 16; i < nseg; at += lens[i++])
			fuzz_add(r, lens[i], data_write, data_write ? fuzz_canary : bytes + at);
	}
	if (nstatus > 0)
		fuzz_add(r, nstatus, true, fuzz_canary);
}

/* DISCARD and WRITE_ZEROES (§5.2.6.2), one segment: the answer, and the model updated. */
static uint8_t fuzz_expect_dwz(struct fuzz_disk *d, const struct fuzz_req *r, bool zero)
{
	struct virtio_blk_discard_write_zeroes seg;

	if (!(zero ? d->write_zeroes : d->discard))
		return VIRTIO_BLK_S_UNSUPP;
	if (r->out_len - 16 != sizeof(seg))
		return VIRTIO_BLK_S_IOERR;
	memcpy(&seg, r->out + 16, sizeof(seg));
	uint64_t sector = le64toh(seg.sector), bytes = 512ull * le32toh(seg.num_sectors);
	uint32_t flags = le32toh(seg.flags);

	if ((flags & ~VIRTIO_BLK_DWZ_FLAG_UNMAP) || (!zero && (flags & VIRTIO_BLK_DWZ_FLAG_UNMAP)))
		return VIRTIO_BLK_S_UNSUPP;
	if (bytes > (1ull << 30) || !fuzz_in_disk(d, sector, bytes))
		return VIRTIO_BLK_S_IOERR;
	if (zero)
		memset(d->model + sector * 512, 0, bytes);
	else /* a discard MAY deallocate (§5.2.6.2): the model takes what the disk holds there now */
		fv_check(pread(d->fd, d->model + sector * 512, bytes, (off_t)(sector * 512)) == (ssize_t)bytes);
	return VIRTIO_BLK_S_OK;
}

/* The model's answer to a request with a header and a status byte; updates the model's disk. */
static void fuzz_expect(struct fuzz_disk *d, struct fuzz_req *r, uint32_t type, uint64_t sector)
{
	uint64_t len;

	r->status = VIRTIO_BLK_S_IOERR;
	r->written = 0;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		len = r->in_len - 1;
		if (fuzz_in_disk(d, sector, len)) {
			r->status = VIRTIO_BLK_S_OK;
			r->written = (uint32_t)len;
		}
		break;
	case VIRTIO_BLK_T_OUT:
		len = r->out_len - 16;
		if (!d->read_only && fuzz_in_disk(d, sector, len)) { /* §5.2.6.2: RO is IOERR */
			memcpy(d->model + sector * 512, r->out + 16, len);
			r->status = VIRTIO_BLK_S_OK;
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		r->status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		r->status = VIRTIO_BLK_S_OK;
		r->written = r->in_len - 1 < VIRTIO_BLK_ID_BYTES ? (uint32_t)r->in_len - 1 : VIRTIO_BLK_ID_BYTES;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		r->status = fuzz_expect_dwz(d, r, type == VIRTIO_BLK_T_WRITE_ZEROES);
		break;
	default:
		r->status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
}

/* The writable bytes as the device left them, in chain order. */
static void fuzz_read_in(struct fv *f, struct fuzz_req *r)
{
	uint64_t at = 0;

	for (unsigned int i = 0; i < r->n; i++) {
		if (!r->segs[i].write)
			continue;
		fv_peek(f, r->gpa[i], r->in + at, r->segs[i].len);
		at += r->segs[i].len;
	}
}

/* What the device answered: status, used length, data (the rest untouched), and the disk. */
static void fuzz_check_answer(struct fv *f, struct fuzz_disk *d, struct fuzz_req *r, uint32_t type,
			      uint64_t sector, uint16_t head, uint16_t used_before)
{
	static uint8_t disk[FUZZ_MAX_DISK];
	uint32_t id, used_len;
	struct stat st;

	fv_check(fv_used_idx(f, 0) == (uint16_t)(used_before + 1));
	fv_used(f, 0, used_before, &id, &used_len);
	fv_check(id == head && used_len == r->written + 1);
	fuzz_read_in(f, r);
	fv_check(r->in[r->in_len - 1] == r->status);
	if (r->status == VIRTIO_BLK_S_OK && type == VIRTIO_BLK_T_IN)
		fv_check(memcmp(r->in, d->model + sector * 512, r->written) == 0);
	if (r->status == VIRTIO_BLK_S_OK && type == VIRTIO_BLK_T_GET_ID) {
		char id_bytes[VIRTIO_BLK_ID_BYTES] = FUZZ_SERIAL; /* NUL-padded */

		fv_check(memcmp(r->in, id_bytes, r->written) == 0);
	}
	fv_check(memcmp(r->in + r->written, fuzz_canary, r->in_len - 1 - r->written) == 0);
	fv_check(fstat(d->fd, &st) == 0 && (uint64_t)st.st_size == d->size);
	fv_check(pread(d->fd, disk, d->size, 0) == (ssize_t)d->size);
	fv_check(memcmp(disk, d->model, d->size) == 0);
}

/* One request: laid out, kicked, answered as the model says. false when the device needs a reset. */
static bool fuzz_request(struct fv *f, struct fuzz_disk *d, struct fv_in *in)
{
	struct fuzz_req *r = &fuzz_req;
	uint8_t kind = fv_u8(in) % 8;
	static const uint32_t types[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
					  VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES };
	uint32_t type = kind < 6 ? types[kind] : kind == 6 ? fv_u32(in) : VIRTIO_BLK_T_IN;
	uint64_t sector = fuzz_sector(in);
	uint16_t used_before = fv_used_idx(f, 0);

	r->n = 0;
	r->out_len = r->in_len = 0;
	fuzz_build(in, r, type, sector, kind);
	uint16_t head = fv_chain(f, 0, r->segs, r->n, r->indirect, r->gpa);

	fv_kick(f, 0);
	if (r->out_len < 16 || r->in_len < 1) { /* nowhere to answer: the queue breaks */
		fv_check(f->status & FV_NEEDS_RESET);
		fv_check(fv_used_idx(f, 0) == used_before);
		return false;
	}
	fuzz_expect(d, r, type, sector);
	fuzz_check_answer(f, d, r, type, sector, head, used_before);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fv_in in = { data, len };
	struct fuzz_disk *d = &fuzz_disk;
	struct fv *f = &fuzz_fv;
	struct fv_host h;

	if (len < 2)
		return 0;
	uint8_t cfg = fv_u8(&in), size = fv_u8(&in);
	struct fv_host_opts opts = { .read_only = cfg & 1,
				     .disk_size = 512u * (size % 32) + (size & 0x20 ? 100 : 0) };
	uint64_t features = (cfg & 2 ? 1ull << VIRTIO_BLK_F_FLUSH : 0) | (cfg & 16 ? 1ull << VIRTIO_F_EVENT_IDX : 0);

	if (!opts.read_only) /* a read-only disk offers neither */
		features |= (cfg & 4 ? 1ull << VIRTIO_BLK_F_DISCARD : 0) |
			    (cfg & 8 ? 1ull << VIRTIO_BLK_F_WRITE_ZEROES : 0);
	memset(fuzz_canary, FUZZ_CANARY, sizeof(fuzz_canary));
	*d = (struct fuzz_disk){ .read_only = opts.read_only, .size = opts.disk_size,
				 .sectors = opts.disk_size / 512,
				 .discard = features & (1ull << VIRTIO_BLK_F_DISCARD),
				 .write_zeroes = features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES) };
	fv_begin(f);
	fv_host_create(&h, FV_BLK, &opts);
	d->fd = h.disk;
	fv_attach(f, h.dev);
	fv_check(fv_driver_init(f, features, 16));
	fv_check(fv_read(f, FV_REG_CONFIG, 8) == d->sectors); /* §5.2.4 capacity, in 512-byte sectors */
	for (unsigned int i = 0; i < FUZZ_MAX_REQUESTS && in.len > 0; i++)
		if (!fuzz_request(f, d, &in)) /* the driver resets the device; the disk stays */
			fv_check(fv_driver_init(f, features, 16));
	fv_detach(f);
	fv_host_destroy(&h);
	fv_end(f);
	return 0;
}
