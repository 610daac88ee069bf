/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (virtio 1.2 §5.2) over a raw image: a regular file or a host block device, served with
 * synchronous preadv/pwritev/fallocate on the disk's own worker thread (virtio_dev.worker_queues),
 * never on the I/O thread: a slow image (a network file system, a throttled cgroup, a dying drive)
 * holds up this disk's requests only, not the console, the network or vsock. The worker holds the
 * transport's lock and this device's while it serves the queue, so a reset (status 0) and a
 * snapshot (io_loop_hold) wait for the requests in flight: no write into guest RAM after a reset,
 * nothing in flight in a snapshot.
 *
 * Choices the guest can see:
 * - blk_size is 512. I/O is buffered, so the host imposes no alignment, and a larger logical block
 *   would break images formatted with 512-byte sectors (MBR, FAT, old ext2 images).
 * - An image whose size is not a multiple of 512 is rounded down with a warning; its tail is not
 *   visible to the guest.
 * - FLUSH is offered; a driver that does not take it gets a writethrough disk (each write is
 *   fdatasync'd before it completes, §5.2.6.2). Destroy fdatasyncs too.
 * - DISCARD and WRITE_ZEROES take one segment of at most 1 GiB, aligned to the host file system's
 *   block (st_blksize). They are not offered on read-only disks.
 * - Every sector range is checked against the capacity; a driver mistake is answered with IOERR,
 *   an unknown request type with UNSUPP, and a chain with no header or no status byte breaks the
 *   queue (NEEDS_RESET), since there is nowhere to report the error.
 */
#define _GNU_SOURCE /* fallocate */
#include "virtio/blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "virtio/iov.h"

#define VIRTIO_BLK_QUEUE_SIZE 256
#define VIRTIO_BLK_MAX_DWZ_SECTORS (1u << 21)        /* 1 GiB per DISCARD / WRITE_ZEROES */
#define VIRTIO_BLK_MAX_DATA ((uint64_t)UINT32_MAX - 1) /* used length (data + status) is 32-bit */
#define VIRTIO_BLK_MAX_ALIGNMENT 2048u               /* sectors: 1 MiB */
#define VIRTIO_BLK_HDR_SIZE sizeof(struct virtio_blk_req_hdr)

struct virtio_blk {
	struct virtio_dev dev;
	pthread_mutex_t lock; /* active, the negotiated modes, and the queue while requests run */
	bool active;
	bool writethrough;    /* FLUSH not negotiated: writes are stable on completion (§5.2.6.2) */
	bool discard;         /* DISCARD negotiated */
	bool write_zeroes;    /* WRITE_ZEROES negotiated */

	int fd;
	bool read_only;
	uint64_t capacity; /* in 512-byte sectors */
	char *path;
	char name[24];
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config; /* fixed at create, little-endian: read without the lock */

	int test_gate_fd; /* test builds: KILN_TEST_BLK_GATE_FD (virtio_blk_test_gate), else -1 */

	struct iovec iov[VIRTIO_BLK_QUEUE_SIZE];      /* the chain being served */
	struct iovec data_iov[VIRTIO_BLK_QUEUE_SIZE]; /* its data part */
};

/* A request being served: the header copied once out of guest memory, in host byte order. */
struct virtio_blk_req {
	const struct virtq_elem *e;
	uint32_t type;
	uint64_t sector;
	uint32_t written; /* data bytes written into the chain, the status byte not counted */
};

static struct virtio_blk *virtio_blk_of(struct virtio_dev *d)
{
	return container_of(d, struct virtio_blk, dev);
}

/* --- host I/O ---------------------------------------------------------------------------------- */

/*
 * Moves all of iov[0..n) (consumed) to or from the disk at off, resuming after partial transfers.
 * *done counts the bytes moved. 0, -EIO when the file ended early, or -errno.
 */
static int virtio_blk_transfer(int fd, bool write, struct iovec *iov, unsigned int n, off_t off,
			       uint64_t *done)
{
	*done = 0;
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, (int)n, off) : preadv(fd, iov, (int)n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the image shrank under us */
		*done += (uint64_t)r;
		off += r;
		iov_consume(&iov, &n, (size_t)r);
	}
	return 0;
}

/* Writes len zero bytes at off: for file systems that cannot zero a range themselves. */
static int virtio_blk_write_zero_bytes(int fd, off_t off, uint64_t len)
{
	static const uint8_t zeroes[KiB(64)];

	while (len > 0) {
		size_t chunk = len < sizeof(zeroes) ? len : sizeof(zeroes);
		struct iovec v = { (void *)zeroes, chunk };
		uint64_t done;
		int rc = virtio_blk_transfer(fd, true, &v, 1, off, &done);

		if (rc < 0)
			return rc;
		off += (off_t)chunk;
		len -= chunk;
	}
	return 0;
}

static int virtio_blk_fallocate(int fd, int mode, off_t off, uint64_t len)
{
	return fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, off, (off_t)len) < 0 ? -errno : 0;
}

/* Zeroes [off, off + len): deallocated when unmap allows it, else kept allocated. */
static int virtio_blk_zero_range(int fd, off_t off, uint64_t len, bool unmap)
{
	int rc = -EOPNOTSUPP;

	if (unmap)
		rc = virtio_blk_fallocate(fd, FALLOC_FL_PUNCH_HOLE, off, len);
	if (rc == -EOPNOTSUPP)
		rc = virtio_blk_fallocate(fd, FALLOC_FL_ZERO_RANGE, off, len);
	if (rc == -EOPNOTSUPP)
		rc = virtio_blk_write_zero_bytes(fd, off, len);
	return rc;
}

static int virtio_blk_sync(int fd)
{
	return fdatasync(fd) < 0 ? -errno : 0;
}

/* After a write: a writethrough disk makes it stable before it completes (§5.2.6.2). */
static int virtio_blk_make_stable(const struct virtio_blk *b, int rc)
{
	return rc == 0 && b->writethrough ? virtio_blk_sync(b->fd) : rc;
}

/* --- requests (§5.2.6) ------------------------------------------------------------------------- */

/* Whether `bytes` of data at `sector` are whole sectors inside the disk (no overflow). */
static bool virtio_blk_range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	if (bytes % VIRTIO_BLK_SECTOR_SIZE || bytes > VIRTIO_BLK_MAX_DATA)
		return false;
	return sector <= b->capacity && bytes / VIRTIO_BLK_SECTOR_SIZE <= b->capacity - sector;
}

/* The file offset of a sector the range check let through. */
static off_t virtio_blk_offset(uint64_t sector)
{
	return (off_t)(sector * VIRTIO_BLK_SECTOR_SIZE);
}

/* A request the driver should not have made (§5.2.6.1): beyond the disk, or malformed. */
static uint8_t virtio_blk_refuse(const struct virtio_blk *b, const struct virtio_blk_req *r, uint64_t bytes)
{
	log_guest(LOG_DEBUG, "virtio-blk", "%s: request type %u, %llu bytes at sector %llu: refused",
		  b->dev.name, r->type, (unsigned long long)bytes, (unsigned long long)r->sector);
	return VIRTIO_BLK_S_IOERR;
}

/* The status for a host I/O result; host failures are logged, never dropped. */
static uint8_t virtio_blk_io_status(const struct virtio_blk *b, const struct virtio_blk_req *r, int rc)
{
	if (rc == 0)
		return VIRTIO_BLK_S_OK;
	log_guest(LOG_WARN, "virtio-blk", "%s: %s: request type %u at sector %llu: %s", b->dev.name, b->path,
		  r->type, (unsigned long long)r->sector, strerror(-rc));
	return VIRTIO_BLK_S_IOERR;
}

static uint8_t virtio_blk_read(struct virtio_blk *b, struct virtio_blk_req *r)
{
	const struct virtq_elem *e = r->e;
	uint64_t len = e->in_len - 1; /* the status byte is last */
	uint64_t done;

	if (!virtio_blk_range_ok(b, r->sector, len))
		return virtio_blk_refuse(b, r, len);
	unsigned int n = iov_slice(b->iov + e->out_num, e->in_num, 0, len, b->data_iov);
	int rc = virtio_blk_transfer(b->fd, false, b->data_iov, n, virtio_blk_offset(r->sector), &done);

	r->written = (uint32_t)done;
	return virtio_blk_io_status(b, r, rc);
}

static uint8_t virtio_blk_write(struct virtio_blk *b, struct virtio_blk_req *r)
{
	const struct virtq_elem *e = r->e;
	uint64_t len = e->out_len - VIRTIO_BLK_HDR_SIZE;
	uint64_t done;

	if (b->read_only) /* §5.2.6.2: IOERR, and no data written */
		return VIRTIO_BLK_S_IOERR;
	if (!virtio_blk_range_ok(b, r->sector, len))
		return virtio_blk_refuse(b, r, len);
	unsigned int n = iov_slice(b->iov, e->out_num, VIRTIO_BLK_HDR_SIZE, len, b->data_iov);
	int rc = virtio_blk_transfer(b->fd, true, b->data_iov, n, virtio_blk_offset(r->sector), &done);

	return virtio_blk_io_status(b, r, virtio_blk_make_stable(b, rc));
}

static uint8_t virtio_blk_get_id(struct virtio_blk *b, struct virtio_blk_req *r)
{
	const struct virtq_elem *e = r->e;
	uint64_t len = e->in_len - 1 < VIRTIO_BLK_ID_BYTES ? e->in_len - 1 : VIRTIO_BLK_ID_BYTES;
	unsigned int n = iov_slice(b->iov + e->out_num, e->in_num, 0, len, b->data_iov);

	iov_from_buf(b->data_iov, n, b->id);
	r->written = (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

/* DISCARD (zero false) or WRITE_ZEROES (zero true): one segment, max_*_seg being 1. */
static uint8_t virtio_blk_discard_or_zero(struct virtio_blk *b, struct virtio_blk_req *r, bool zero)
{
	const struct virtq_elem *e = r->e;
	struct virtio_blk_discard_write_zeroes seg;

	if (!(zero ? b->write_zeroes : b->discard))
		return VIRTIO_BLK_S_UNSUPP;
	if (e->out_len - VIRTIO_BLK_HDR_SIZE != sizeof(seg))
		return virtio_blk_refuse(b, r, e->out_len - VIRTIO_BLK_HDR_SIZE);
	iov_to_buf(b->iov, e->out_num, VIRTIO_BLK_HDR_SIZE, &seg, sizeof(seg));
	uint64_t sector = le64toh(seg.sector);
	uint64_t bytes = (uint64_t)le32toh(seg.num_sectors) * VIRTIO_BLK_SECTOR_SIZE;
	uint32_t flags = le32toh(seg.flags);

	/* §5.2.6.2: unknown flags, and unmap on a discard, are UNSUPP. */
	if ((flags & ~VIRTIO_BLK_DWZ_FLAG_UNMAP) || (!zero && (flags & VIRTIO_BLK_DWZ_FLAG_UNMAP)))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->read_only)
		return VIRTIO_BLK_S_IOERR;
	r->sector = sector;
	if (bytes > (uint64_t)VIRTIO_BLK_MAX_DWZ_SECTORS * VIRTIO_BLK_SECTOR_SIZE ||
	    !virtio_blk_range_ok(b, sector, bytes))
		return virtio_blk_refuse(b, r, bytes);
	if (bytes == 0) /* nothing to do; fallocate would call a zero length an error (EINVAL) */
		return VIRTIO_BLK_S_OK;

	off_t off = virtio_blk_offset(sector);
	int rc;

	if (zero) {
		rc = virtio_blk_zero_range(b->fd, off, bytes, flags & VIRTIO_BLK_DWZ_FLAG_UNMAP);
	} else {
		/* A discard is a hint (§5.2.6.2 "MAY deallocate"): without hole punching, ignore it. */
		rc = virtio_blk_fallocate(b->fd, FALLOC_FL_PUNCH_HOLE, off, bytes);
		if (rc == -EOPNOTSUPP)
			rc = 0;
	}
	return virtio_blk_io_status(b, r, virtio_blk_make_stable(b, rc));
}

static uint8_t virtio_blk_execute(struct virtio_blk *b, struct virtio_blk_req *r)
{
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		return virtio_blk_read(b, r);
	case VIRTIO_BLK_T_OUT:
		return virtio_blk_write(b, r);
	case VIRTIO_BLK_T_FLUSH:
		return virtio_blk_io_status(b, r, virtio_blk_sync(b->fd));
	case VIRTIO_BLK_T_GET_ID:
		return virtio_blk_get_id(b, r);
	case VIRTIO_BLK_T_DISCARD:
		return virtio_blk_discard_or_zero(b, r, false);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return virtio_blk_discard_or_zero(b, r, true);
	default:
		log_guest(LOG_DEBUG, "virtio-blk", "%s: unsupported request type %u", b->dev.name, r->type);
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void virtio_blk_count(struct virtio_blk *b, const struct virtio_blk_req *r, uint8_t result)
{
	struct virtio_stats *s = &b->dev.stats;

	virtio_stat_add(&s->requests, 1);
	if (result != VIRTIO_BLK_S_OK)
		virtio_stat_add(&s->errors, 1);
	else if (r->type == VIRTIO_BLK_T_IN)
		virtio_stat_add(&s->bytes_to_guest, r->written);
	else if (r->type == VIRTIO_BLK_T_OUT)
		virtio_stat_add(&s->bytes_from_guest, r->e->out_len - VIRTIO_BLK_HDR_SIZE);
}

/*
 * Test builds only (KILN_TEST_HOOKS): with KILN_TEST_BLK_GATE_FD=N in kiln's environment, every
 * request first waits until fd N (a FIFO the test holds) is readable: a disk exactly as slow as the
 * test wants, with no timing in the test (tests/integration/slow_disk.sh).
 */
static int virtio_blk_test_gate_fd(void)
{
#ifdef KILN_TEST_HOOKS
	const char *v = getenv("KILN_TEST_BLK_GATE_FD");

	if (v != NULL && *v >= '0' && *v <= '9')
		return atoi(v);
#endif
	return -1;
}

static void virtio_blk_test_gate(const struct virtio_blk *b)
{
	struct pollfd p = { .fd = b->test_gate_fd, .events = POLLIN };

	while (b->test_gate_fd >= 0 && poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

/* Serves one chain and pushes it; -EBADMSG when it has no header or no status byte. */
static int virtio_blk_serve(struct virtio_blk *b, struct virtq *vq, const struct virtq_elem *e)
{
	struct virtio_blk_req_hdr hdr;
	struct virtio_blk_req r = { .e = e };
	struct iovec status;

	if (e->out_len < sizeof(hdr) || e->in_len < 1) {
		log_guest(LOG_WARN, "virtio-blk", "%s: a request without a header or a status byte",
			  b->dev.name);
		return -EBADMSG;
	}
	iov_to_buf(b->iov, e->out_num, 0, &hdr, sizeof(hdr));
	r.type = le32toh(hdr.type);
	r.sector = le64toh(hdr.sector);
	iov_slice(b->iov + e->out_num, e->in_num, e->in_len - 1, 1, &status);
	virtio_blk_test_gate(b);
	uint8_t result = virtio_blk_execute(b, &r);
	*(uint8_t *)status.iov_base = result;
	virtq_push(vq, e->head, r.written + 1);
	virtio_blk_count(b, &r, result);
	return 0;
}

/* Serves chains until the ring stays empty with kicks enabled (§2.7.10). */
static int virtio_blk_drain(struct virtio_blk *b, struct virtq *vq, bool *pushed)
{
	do {
		virtq_disable_kicks(vq);
		for (;;) {
			struct virtq_elem e;
			int rc = virtq_pop(vq, &e, b->iov, ARRAY_SIZE(b->iov));

			if (rc == 0)
				break;
			if (rc > 0)
				rc = virtio_blk_serve(b, vq, &e);
			if (rc < 0)
				return rc;
			*pushed = true;
		}
	} while (virtq_enable_kicks(vq));
	return 0;
}

/* --- device ops -------------------------------------------------------------------------------- */

static void virtio_blk_queue_notify(struct virtio_dev *d, unsigned int q)
{
	struct virtio_blk *b = virtio_blk_of(d);
	bool pushed = false;
	int rc = 0;

	pthread_mutex_lock(&b->lock);
	if (b->active && q == 0)
		rc = virtio_blk_drain(b, &d->queues[0], &pushed);
	if (pushed)
		d->transport->used(d, 0);
	if (rc < 0) {
		d->queues[0].broken = true; /* nothing more is taken from it until reset */
		d->transport->needs_reset(d);
	}
	pthread_mutex_unlock(&b->lock);
}

/* The config space changes only when the backing file is replaced; reads beyond it were zero-filled. */
static void virtio_blk_config_read(struct virtio_dev *d, uint64_t offset, void *data, unsigned int len)
{
	struct virtio_blk *b = virtio_blk_of(d);

	if (offset >= sizeof(b->config))
		return;
	if (len > sizeof(b->config) - offset)
		len = (unsigned int)(sizeof(b->config) - offset);
	pthread_mutex_lock(&b->lock);
	memcpy(data, (const uint8_t *)&b->config + offset, len);
	pthread_mutex_unlock(&b->lock);
}

static int virtio_blk_activate(struct virtio_dev *d)
{
	struct virtio_blk *b = virtio_blk_of(d);

	pthread_mutex_lock(&b->lock);
	b->writethrough = !virtio_has_feature(d, VIRTIO_BLK_F_FLUSH);
	b->discard = virtio_has_feature(d, VIRTIO_BLK_F_DISCARD);
	b->write_zeroes = virtio_has_feature(d, VIRTIO_BLK_F_WRITE_ZEROES);
	b->active = true;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static void virtio_blk_reset(struct virtio_dev *d)
{
	struct virtio_blk *b = virtio_blk_of(d);

	pthread_mutex_lock(&b->lock);
	b->active = false;
	pthread_mutex_unlock(&b->lock);
}

/*
 * Snapshots: io_loop_hold waits for the worker to finish the requests it took and serve the kicks
 * pending then, so nothing is in flight; the disk is re-opened by path. Saved: capacity (sectors)
 * and read-only, which the disk opened on restore must match, or the guest's view of it would be
 * wrong.
 */
static void virtio_blk_save(struct virtio_dev *d, struct snap_writer *w)
{
	struct virtio_blk *b = virtio_blk_of(d);

	snap_put_u64(w, b->capacity);
	snap_put_bool(w, b->read_only);
}

static int virtio_blk_load(struct virtio_dev *d, struct snap_cursor *c, char *why, size_t whylen)
{
	struct virtio_blk *b = virtio_blk_of(d);
	uint64_t capacity = snap_get_u64(c);
	bool read_only = snap_get_bool(c);

	if (c->err == 0 && capacity != b->capacity)
		return fail_with(why, whylen, -EINVAL, "%s: %s has %llu sectors, the snapshot's disk had %llu",
				 b->name, b->path, (unsigned long long)b->capacity, (unsigned long long)capacity);
	if (c->err == 0 && read_only != b->read_only)
		return fail_with(why, whylen, -EINVAL, "%s: the snapshot's disk was %s", b->name,
				 read_only ? "read-only" : "writable");
	return 0;
}

static const struct virtio_dev_ops virtio_blk_ops = {
	.config_read = virtio_blk_config_read,
	.activate = virtio_blk_activate,
	.reset = virtio_blk_reset,
	.queue_notify = virtio_blk_queue_notify,
	.save = virtio_blk_save,
	.load = virtio_blk_load,
};

/* --- create / destroy -------------------------------------------------------------------------- */

/* Sectors the host file system allocates in: discards are aligned to them. */
static uint32_t virtio_blk_discard_alignment(blksize_t blksize)
{
	uint64_t sectors = (uint64_t)blksize / VIRTIO_BLK_SECTOR_SIZE;

	if (sectors == 0 || sectors > VIRTIO_BLK_MAX_ALIGNMENT || (sectors & (sectors - 1)))
		return 1;
	return (uint32_t)sectors;
}

static void virtio_blk_fill_config(struct virtio_blk *b, blksize_t blksize)
{
	struct virtio_blk_config *c = &b->config;

	c->capacity = htole64(b->capacity);
	c->seg_max = htole32(VIRTIO_BLK_QUEUE_SIZE - 2); /* a chain also holds the header and the status */
	c->blk_size = htole32(VIRTIO_BLK_SECTOR_SIZE);
	c->max_discard_sectors = htole32(VIRTIO_BLK_MAX_DWZ_SECTORS);
	c->max_discard_seg = htole32(1);
	c->discard_sector_alignment = htole32(virtio_blk_discard_alignment(blksize));
	c->max_write_zeroes_sectors = htole32(VIRTIO_BLK_MAX_DWZ_SECTORS);
	c->max_write_zeroes_seg = htole32(1);
	c->write_zeroes_may_unmap = 1;
}

static uint64_t virtio_blk_features(bool read_only)
{
	uint64_t f = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
		     (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_F_INDIRECT_DESC) |
		     (1ull << VIRTIO_F_EVENT_IDX);

	if (read_only)
		return f | (1ull << VIRTIO_BLK_F_RO);
	return f | (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
}

/* Opens the image and sizes it: a regular file or a block device. */
static int virtio_blk_open(struct virtio_blk *b, const struct kiln_disk *disk, char *err, size_t errlen)
{
	struct stat st;

	b->fd = open(disk->path, (disk->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0)
		return fail_with(err, errlen, -errno, "%s: %s", disk->path, strerror(errno));
	if (fstat(b->fd, &st) < 0)
		return fail_with(err, errlen, -errno, "%s: %s", disk->path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return fail_with(err, errlen, -EISDIR, "%s: %s", disk->path, strerror(EISDIR));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return fail_with(err, errlen, -EINVAL, "%s: not a regular file or block device",
				       disk->path);

	off_t size = lseek(b->fd, 0, SEEK_END); /* st_size is 0 for block devices */

	if (size < 0)
		return fail_with(err, errlen, -errno, "%s: %s", disk->path, strerror(errno));
	if (size % VIRTIO_BLK_SECTOR_SIZE)
		log_warn("virtio-blk", "%s: size %lld is not a multiple of 512; the last %lld bytes are unused",
			 disk->path, (long long)size, (long long)(size % VIRTIO_BLK_SECTOR_SIZE));
	b->capacity = (uint64_t)size / VIRTIO_BLK_SECTOR_SIZE;
	b->read_only = disk->read_only;
	virtio_blk_fill_config(b, st.st_blksize);
	return 0;
}

int virtio_blk_create(const struct kiln_disk *disk, unsigned int index, struct virtio_blk **out, char *err,
		      size_t errlen)
{
	size_t serial_len = disk->serial ? strlen(disk->serial) : 0;
	struct virtio_blk *b;
	int rc;

	if (disk->path == NULL)
		return fail_with(err, errlen, -EINVAL, "disk %u: no path", index);
	if (serial_len > VIRTIO_BLK_ID_BYTES)
		return fail_with(err, errlen, -EINVAL, "%s: serial \"%s\" is longer than %d bytes",
				       disk->path, disk->serial, VIRTIO_BLK_ID_BYTES);
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return fail_with(err, errlen, -ENOMEM, "%s: out of memory", disk->path);
	b->path = strdup(disk->path);
	if (b->path == NULL) {
		rc = fail_with(err, errlen, -ENOMEM, "%s: out of memory", disk->path);
		goto free_blk;
	}
	rc = virtio_blk_open(b, disk, err, errlen);
	if (rc < 0)
		goto close_fd;
	memcpy(b->id, disk->serial ? disk->serial : "", serial_len); /* NUL-padded by calloc */
	snprintf(b->name, sizeof(b->name), "virtio-blk%u", index);
	pthread_mutex_init(&b->lock, NULL);
	b->dev = (struct virtio_dev){
		.ops = &virtio_blk_ops,
		.name = b->name,
		.device_id = VIRTIO_ID_BLOCK,
		.device_features = virtio_blk_features(disk->read_only),
		.num_queues = 1,
		.queue_max_size = VIRTIO_BLK_QUEUE_SIZE,
		.worker_queues = 1u << 0,
		.worker_class = SECCOMP_THREAD_BLK,
	};
	b->test_gate_fd = virtio_blk_test_gate_fd();
	*out = b;
	return 0;

close_fd:
	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
free_blk:
	free(b);
	return rc;
}

int virtio_blk_replace(struct virtio_blk *b, const char *path, char *err, size_t errlen)
{
	struct virtio_blk *fresh = calloc(1, sizeof(*fresh));
	if (fresh)
		fresh->fd = -1;
	const struct kiln_disk disk = { .path = path, .read_only = b->read_only };
	char *new_path = strdup(path);
	int rc = fresh && new_path ? virtio_blk_open(fresh, &disk, err, errlen)
				   : fail_with(err, errlen, -ENOMEM, "%s: out of memory", path);

	if (rc == 0) {
		pthread_mutex_lock(&b->lock);
		if (!b->read_only && fdatasync(b->fd) < 0)
			log_warn("virtio-blk", "%s: fdatasync: %s", b->path, strerror(errno));
		close(b->fd);
		b->fd = fresh->fd;
		b->capacity = fresh->capacity;
		b->config = fresh->config;
		free(b->path);
		b->path = new_path;
		new_path = NULL;
		pthread_mutex_unlock(&b->lock);
		if (b->dev.transport)
			b->dev.transport->config_changed(&b->dev); /* the driver re-reads the capacity */
	} else if (fresh && fresh->fd >= 0) {
		close(fresh->fd);
	}
	free(new_path);
	free(fresh);
	return rc;
}

struct virtio_dev *virtio_blk_dev(struct virtio_blk *b)
{
	return &b->dev;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (b == NULL)
		return;
	if (!b->read_only && fdatasync(b->fd) < 0)
		log_error("virtio-blk", "%s: fdatasync: %s", b->path, strerror(errno));
	close(b->fd);
	pthread_mutex_destroy(&b->lock);
	free(b->path);
	free(b);
}
