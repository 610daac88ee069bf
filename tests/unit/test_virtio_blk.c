/* SPDX-License-Identifier: Apache-2.0 */
/* virtio/blk.c: requests (virtio 1.2 §5.2.6) against a temporary file, through a test driver's ring. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/fake_transport.h"
#include "support/virtq_builder.h"
#include "virtio/blk.h"

#define RAM_SIZE MiB(4)
#define QSIZE 256
#define DISK_SECTORS 2048 /* 1 MiB */
#define SERIAL "kiln-disk-serial-001" /* exactly 20 bytes: no NUL */

struct fx {
	char path[64];
	int fd; /* the host's view of the disk */
	struct virtio_blk *blk;
	struct virtio_dev *dev;
	struct virtq_builder vqb;
	struct fake_transport t;
};

/* A temp file of DISK_SECTORS sectors in dir, filled with 0xaa. */
static int make_disk(struct fx *f, const char *dir)
{
	uint8_t fill[4096];

	snprintf(f->path, sizeof(f->path), "%s/kiln-blk-XXXXXX", dir);
	f->fd = mkstemp(f->path);
	if (f->fd < 0)
		return -1;
	memset(fill, 0xaa, sizeof(fill));
	for (off_t off = 0; off < DISK_SECTORS * 512; off += sizeof(fill))
		if (pwrite(f->fd, fill, sizeof(fill), off) != sizeof(fill))
			return -1;
	return fsync(f->fd);
}

static void start_device(struct fx *f, uint64_t features)
{
	f->dev = virtio_blk_dev(f->blk);
	vqb_init(&f->vqb, QSIZE, RAM_SIZE);
	f->dev->mem = &f->vqb.mem;
	assert_int_equal(vqb_queue(&f->vqb, &f->dev->queues[0], false), 0);
	f->dev->driver_features = features;
	fake_transport_attach(&f->t, f->dev);
	assert_int_equal(f->dev->ops->activate(f->dev), 0);
}

static int setup_disk(void **state, const char *dir, bool read_only)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL || make_disk(f, dir) < 0)
		return -1;
	struct kiln_disk disk = { .path = f->path, .read_only = read_only, .serial = SERIAL };

	if (virtio_blk_create(&disk, 0, &f->blk, err, sizeof(err)) < 0)
		return -1;
	start_device(f, virtio_blk_dev(f->blk)->device_features | (1ull << VIRTIO_F_VERSION_1));
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_disk(state, "/tmp", false);
}

/* tmpfs punches holes but cannot FALLOC_FL_ZERO_RANGE: WRITE_ZEROES falls back to writing zeroes. */
static int setup_tmpfs(void **state)
{
	struct statfs sfs;

	if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != TMPFS_MAGIC) {
		*state = NULL;
		return 0;
	}
	return setup_disk(state, "/dev/shm", false);
}

static int setup_ro(void **state)
{
	return setup_disk(state, "/tmp", true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	virtio_blk_destroy(f->blk);
	vqb_free(&f->vqb);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* --- the test driver --------------------------------------------------------------------------- */

static gpa_t put(struct fx *f, const void *src, size_t len)
{
	gpa_t gpa = vqb_alloc(&f->vqb, len);

	memcpy(vqb_host(&f->vqb, gpa), src, len);
	return gpa;
}

static gpa_t put_header(struct fx *f, uint32_t type, uint64_t sector)
{
	struct virtio_blk_req_hdr h = { .type = htole32(type), .sector = htole64(sector) };

	return put(f, &h, sizeof(h));
}

static gpa_t put_segment(struct fx *f, uint64_t sector, uint32_t num_sectors, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = {
		.sector = htole64(sector), .num_sectors = htole32(num_sectors), .flags = htole32(flags)
	};

	return put(f, &s, sizeof(s));
}

static gpa_t status_byte(struct fx *f)
{
	uint8_t poison = 0xee;

	return put(f, &poison, 1);
}

/* Publishes header, data segments and a status byte as one chain, kicks; returns the status gpa. */
static gpa_t submit(struct fx *f, uint32_t type, uint64_t sector, const struct vqb_seg *data, unsigned int n)
{
	struct vqb_seg segs[8];
	gpa_t status = status_byte(f);

	assert_true(n + 2 <= 8);
	segs[0] = (struct vqb_seg){ put_header(f, type, sector), 16, false };
	if (n > 0)
		memcpy(&segs[1], data, n * sizeof(*data));
	segs[n + 1] = (struct vqb_seg){ status, 1, true };
	vqb_publish(&f->vqb, vqb_chain(&f->vqb, segs, n + 2));
	f->dev->ops->queue_notify(f->dev, 0);
	return status;
}

static uint8_t status_of(struct fx *f, gpa_t status)
{
	return *(uint8_t *)vqb_host(&f->vqb, status);
}

static uint32_t last_used_len(struct fx *f)
{
	return vqb_used(&f->vqb, (uint16_t)(vqb_used_idx(&f->vqb) - 1)).len;
}

static void pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
}

static void assert_host_bytes(struct fx *f, off_t off, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len);

	assert_non_null(got);
	assert_int_equal(pread(f->fd, got, len, off), (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
}

static void assert_host_filled(struct fx *f, off_t off, uint8_t byte, size_t len)
{
	uint8_t *want = malloc(len);

	assert_non_null(want);
	memset(want, byte, len);
	assert_host_bytes(f, off, want, len);
	free(want);
}

/* --- tests ------------------------------------------------------------------------------------- */

static void write_then_read_back_multi_segment(void **state)
{
	struct fx *f = *state;
	uint8_t data[2048];

	pattern(data, sizeof(data), 3);
	gpa_t buf = put(f, data, sizeof(data));
	struct vqb_seg out[] = { { buf, 512, false }, { buf + 512, 1024, false }, { buf + 1536, 512, false } };
	gpa_t st = submit(f, VIRTIO_BLK_T_OUT, 3, out, 3);

	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_OK);
	assert_int_equal(last_used_len(f), 1);
	assert_int_equal(f->t.used[0], 1);
	assert_host_bytes(f, 3 * 512, data, sizeof(data));
	assert_host_filled(f, 2 * 512, 0xaa, 512); /* neighbours untouched */
	assert_host_filled(f, 7 * 512, 0xaa, 512);

	gpa_t in = vqb_alloc(&f->vqb, sizeof(data));
	struct vqb_seg segs[] = { { in, 1536, true }, { in + 1536, 512, true } };

	st = submit(f, VIRTIO_BLK_T_IN, 3, segs, 2);
	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_OK);
	assert_int_equal(last_used_len(f), sizeof(data) + 1);
	assert_memory_equal(vqb_host(&f->vqb, in), data, sizeof(data));
	assert_int_equal(f->t.needs_reset, 0);
}

/* A header split 6 + 10, its tail sharing a descriptor with the data; the status sharing one too. */
static void header_split_across_descriptors(void **state)
{
	struct fx *f = *state;
	uint8_t raw[16 + 512];
	struct virtio_blk_req_hdr h = { .type = htole32(VIRTIO_BLK_T_OUT), .sector = htole64(9) };

	memcpy(raw, &h, 16);
	pattern(raw + 16, 512, 11);
	gpa_t g = put(f, raw, sizeof(raw));
	gpa_t st = status_byte(f);
	struct vqb_seg segs[] = { { g, 6, false }, { g + 6, 10 + 512, false }, { st, 1, true } };

	vqb_publish(&f->vqb, vqb_chain(&f->vqb, segs, 3));
	f->dev->ops->queue_notify(f->dev, 0);
	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_OK);
	assert_host_bytes(f, 9 * 512, raw + 16, 512);

	/* Read it back into one writable descriptor holding the data and then the status byte. */
	gpa_t hdr = put_header(f, VIRTIO_BLK_T_IN, 9);
	gpa_t in = vqb_alloc(&f->vqb, 513);
	struct vqb_seg rd[] = { { hdr, 16, false }, { in, 513, true } };

	vqb_publish(&f->vqb, vqb_chain(&f->vqb, rd, 2));
	f->dev->ops->queue_notify(f->dev, 0);
	assert_memory_equal(vqb_host(&f->vqb, in), raw + 16, 512);
	assert_int_equal(*((uint8_t *)vqb_host(&f->vqb, in) + 512), VIRTIO_BLK_S_OK);
	assert_int_equal(last_used_len(f), 513);
}

static void indirect_request(void **state)
{
	struct fx *f = *state;
	uint8_t data[1024];

	pattern(data, sizeof(data), 5);
	gpa_t st = status_byte(f);
	struct vqb_seg segs[] = {
		{ put_header(f, VIRTIO_BLK_T_OUT, 100), 16, false },
		{ put(f, data, 512), 512, false },
		{ put(f, data + 512, 512), 512, false },
		{ st, 1, true },
	};

	vqb_publish(&f->vqb, vqb_indirect_chain(&f->vqb, segs, 4));
	f->dev->ops->queue_notify(f->dev, 0);
	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_OK);
	assert_host_bytes(f, 100 * 512, data, sizeof(data));
}

static void get_id_returns_serial(void **state)
{
	struct fx *f = *state;
	gpa_t id = vqb_alloc(&f->vqb, 20);
	struct vqb_seg seg = { id, 20, true };
	gpa_t st = submit(f, VIRTIO_BLK_T_GET_ID, 0, &seg, 1);

	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_OK);
	assert_memory_equal(vqb_host(&f->vqb, id), SERIAL, 20);
	assert_int_equal(last_used_len(f), 21);
}

static void get_id_pads_short_serial(void **state)
{
	struct fx *f = *state;
	struct kiln_disk disk = { .path = f->path, .serial = "abc" };
	uint8_t want[20] = "abc";
	char err[256];

	virtio_blk_destroy(f->blk);
	vqb_free(&f->vqb);
	assert_int_equal(virtio_blk_create(&disk, 1, &f->blk, err, sizeof(err)), 0);
	start_device(f, virtio_blk_dev(f->blk)->device_features);
	assert_string_equal(f->dev->name, "virtio-blk1");

	gpa_t id = vqb_alloc(&f->vqb, 20);

	memset(vqb_host(&f->vqb, id), 0xff, 20);
	struct vqb_seg seg = { id, 20, true };
	gpa_t st = submit(f, VIRTIO_BLK_T_GET_ID, 0, &seg, 1);

	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_OK);
	assert_memory_equal(vqb_host(&f->vqb, id), want, 20);
}

static void flush_succeeds(void **state)
{
	struct fx *f = *state;
	gpa_t st = submit(f, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);

	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_OK);
	assert_int_equal(last_used_len(f), 1);
}

static blkcnt_t host_blocks(struct fx *f)
{
	struct stat st;

	assert_int_equal(fstat(f->fd, &st), 0);
	return st.st_blocks;
}

static void discard_deallocates(void **state)
{
	struct fx *f = *state;
	blkcnt_t before = host_blocks(f);
	struct vqb_seg seg = { put_segment(f, 0, 1024, 0), 16, false };
	gpa_t st = submit(f, VIRTIO_BLK_T_DISCARD, 0, &seg, 1);

	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_OK);
	assert_int_equal(last_used_len(f), 1);
	assert_true(host_blocks(f) < before);
	assert_int_equal(lseek(f->fd, 0, SEEK_END), DISK_SECTORS * 512); /* the size stays */
}

static void discard_flags_unsupported(void **state)
{
	struct fx *f = *state;
	struct vqb_seg unmap = { put_segment(f, 0, 8, VIRTIO_BLK_DWZ_FLAG_UNMAP), 16, false };
	struct vqb_seg unknown = { put_segment(f, 0, 8, 2), 16, false };

	gpa_t st_unmap = submit(f, VIRTIO_BLK_T_DISCARD, 0, &unmap, 1);
	gpa_t st_unknown = submit(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, &unknown, 1);

	assert_int_equal(status_of(f, st_unmap), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(status_of(f, st_unknown), VIRTIO_BLK_S_UNSUPP);
	assert_host_filled(f, 0, 0xaa, 8 * 512);
}

static void write_zeroes_zeroes(void **state)
{
	struct fx *f = *state;
	struct vqb_seg keep = { put_segment(f, 8, 8, 0), 16, false };
	struct vqb_seg unmap = { put_segment(f, 64, 16, VIRTIO_BLK_DWZ_FLAG_UNMAP), 16, false };

	assert_int_equal(status_of(f, submit(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, &keep, 1)), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(f, submit(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, &unmap, 1)), VIRTIO_BLK_S_OK);
	assert_host_filled(f, 7 * 512, 0xaa, 512);
	assert_host_filled(f, 8 * 512, 0x00, 8 * 512);
	assert_host_filled(f, 16 * 512, 0xaa, 48 * 512);
	assert_host_filled(f, 64 * 512, 0x00, 16 * 512);
	assert_host_filled(f, 80 * 512, 0xaa, 512);
}

static void write_zeroes_without_zero_range(void **state)
{
	if (*state == NULL)
		skip();
	write_zeroes_zeroes(state);
}

/* Zero sectors is nothing to do, not a host I/O error. */
static void empty_discard_and_write_zeroes_succeed(void **state)
{
	struct fx *f = *state;
	struct vqb_seg discard = { put_segment(f, 4, 0, 0), 16, false };
	struct vqb_seg zeroes = { put_segment(f, 4, 0, VIRTIO_BLK_DWZ_FLAG_UNMAP), 16, false };

	assert_int_equal(status_of(f, submit(f, VIRTIO_BLK_T_DISCARD, 0, &discard, 1)), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(f, submit(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, &zeroes, 1)), VIRTIO_BLK_S_OK);
	assert_int_equal(last_used_len(f), 1);
	assert_host_filled(f, 0, 0xaa, 8 * 512);
	assert_int_equal(f->dev->stats.errors, 0);
}

static void read_only_refuses_writes(void **state)
{
	struct fx *f = *state;
	uint8_t data[512];

	assert_true(f->dev->device_features & (1ull << VIRTIO_BLK_F_RO));
	assert_false(f->dev->device_features & (1ull << VIRTIO_BLK_F_DISCARD));
	memset(data, 0x55, sizeof(data));
	struct vqb_seg out = { put(f, data, sizeof(data)), 512, false };
	gpa_t st = submit(f, VIRTIO_BLK_T_OUT, 0, &out, 1);

	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_IOERR);
	assert_int_equal(last_used_len(f), 1);
	assert_host_filled(f, 0, 0xaa, 512);

	struct vqb_seg in = { vqb_alloc(&f->vqb, 512), 512, true };

	assert_int_equal(status_of(f, submit(f, VIRTIO_BLK_T_IN, 0, &in, 1)), VIRTIO_BLK_S_OK);
	assert_memory_equal(vqb_host(&f->vqb, in.addr), (uint8_t[512]){ [0 ... 511] = 0xaa }, 512);
}

static uint8_t read_status(struct fx *f, uint64_t sector, uint32_t len)
{
	struct vqb_seg in = { vqb_alloc(&f->vqb, len), len, true };

	return status_of(f, submit(f, VIRTIO_BLK_T_IN, sector, &in, 1));
}

static void ranges_checked_against_capacity(void **state)
{
	struct fx *f = *state;

	assert_int_equal(read_status(f, DISK_SECTORS - 1, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(read_status(f, DISK_SECTORS, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_status(f, DISK_SECTORS - 1, 1024), VIRTIO_BLK_S_IOERR);
	assert_int_equal(last_used_len(f), 1);
	/* sector + length wraps; sector * 512 wraps; part of a sector */
	assert_int_equal(read_status(f, UINT64_MAX, 1024), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_status(f, UINT64_MAX / 512 + 1, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_status(f, 0, 100), VIRTIO_BLK_S_IOERR);

	uint8_t data[512] = { 0 };
	struct vqb_seg out = { put(f, data, sizeof(data)), 512, false };

	gpa_t st = submit(f, VIRTIO_BLK_T_OUT, DISK_SECTORS, &out, 1);

	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_IOERR);
	struct vqb_seg wrap = { put_segment(f, UINT64_MAX, 2, 0), 16, false };

	assert_int_equal(status_of(f, submit(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, &wrap, 1)), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->t.needs_reset, 0);
}

static void unknown_type_unsupported(void **state)
{
	struct fx *f = *state;
	gpa_t st = submit(f, 0x7777, 0, NULL, 0);

	assert_int_equal(status_of(f, st), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(last_used_len(f), 1);
}

static void missing_status_breaks_queue(void **state)
{
	struct fx *f = *state;
	struct vqb_seg only_header = { put_header(f, VIRTIO_BLK_T_FLUSH, 0), 16, false };

	vqb_publish(&f->vqb, vqb_chain(&f->vqb, &only_header, 1));
	f->dev->ops->queue_notify(f->dev, 0);
	assert_int_equal(f->t.needs_reset, 1);
	assert_int_equal(vqb_used_idx(&f->vqb), 0);
	assert_true(f->dev->queues[0].broken);
}

static void short_header_breaks_queue(void **state)
{
	struct fx *f = *state;
	gpa_t st = status_byte(f);
	struct vqb_seg segs[] = { { put_header(f, VIRTIO_BLK_T_FLUSH, 0), 8, false }, { st, 1, true } };

	vqb_publish(&f->vqb, vqb_chain(&f->vqb, segs, 2));
	f->dev->ops->queue_notify(f->dev, 0);
	assert_int_equal(f->t.needs_reset, 1);
	assert_int_equal(status_of(f, st), 0xee);
}

static void reset_stops_serving(void **state)
{
	struct fx *f = *state;

	f->dev->ops->reset(f->dev);
	gpa_t st = submit(f, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);

	assert_int_equal(status_of(f, st), 0xee);
	assert_int_equal(vqb_used_idx(&f->vqb), 0);
}

static void config_space(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_config c;
	uint8_t beyond[4] = { 0 };

	f->dev->ops->config_read(f->dev, 0, &c, sizeof(c));
	assert_int_equal(le64toh(c.capacity), DISK_SECTORS);
	assert_int_equal(le32toh(c.seg_max), QSIZE - 2);
	assert_int_equal(le32toh(c.blk_size), 512);
	assert_int_equal(le32toh(c.max_discard_seg), 1);
	assert_int_equal(le32toh(c.max_write_zeroes_seg), 1);
	assert_int_equal(c.write_zeroes_may_unmap, 1);
	assert_true(le32toh(c.discard_sector_alignment) >= 1);

	uint32_t seg_max;

	f->dev->ops->config_read(f->dev, 12, &seg_max, 4);
	assert_int_equal(le32toh(seg_max), QSIZE - 2);
	f->dev->ops->config_read(f->dev, 58, beyond, 4); /* straddles the end: the tail stays zero */
	f->dev->ops->config_read(f->dev, 4096, beyond, 4);
	assert_memory_equal(beyond, (uint8_t[4]){ 0 }, 4);
	assert_int_equal(f->dev->device_id, VIRTIO_ID_BLOCK);
	assert_true(f->dev->device_features & (1ull << VIRTIO_BLK_F_FLUSH));
}

static void odd_size_rounds_down(void **state)
{
	struct fx *f = *state;
	struct kiln_disk disk = { .path = f->path };
	struct virtio_blk *b;
	struct virtio_blk_config c;
	char err[256];

	assert_int_equal(ftruncate(f->fd, DISK_SECTORS * 512 + 100), 0);
	assert_int_equal(virtio_blk_create(&disk, 2, &b, err, sizeof(err)), 0);
	virtio_blk_dev(b)->ops->config_read(virtio_blk_dev(b), 0, &c, sizeof(c));
	assert_int_equal(le64toh(c.capacity), DISK_SECTORS);
	virtio_blk_destroy(b);
}

/* Opening as an unprivileged user: root reads anything, so drop to `nobody` in a child. */
static void assert_unreadable_refused(const char *path)
{
	struct kiln_disk disk = { .path = path };
	struct virtio_blk *b;
	char err[256];

	if (geteuid() != 0) {
		assert_int_equal(virtio_blk_create(&disk, 0, &b, err, sizeof(err)), -EACCES);
		assert_non_null(strstr(err, path));
		return;
	}
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(77);
		int rc = virtio_blk_create(&disk, 0, &b, err, sizeof(err));

		_exit(rc == -EACCES && strstr(err, path) ? 0 : 1);
	}
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("skipped: EACCES needs a non-root user and setuid(nobody) failed\n");
		return;
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void create_errors_name_the_path(void **state)
{
	struct fx *f = *state;
	struct virtio_blk *b;
	char err[256];
	struct kiln_disk missing = { .path = "/nonexistent/kiln-disk.img" };
	struct kiln_disk dir = { .path = "/tmp" };
	struct kiln_disk dir_ro = { .path = "/tmp", .read_only = true };
	struct kiln_disk long_serial = { .path = f->path, .serial = "123456789012345678901" };

	assert_int_equal(virtio_blk_create(&missing, 0, &b, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, missing.path));
	assert_int_equal(virtio_blk_create(&dir, 0, &b, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "/tmp: "));
	assert_non_null(strstr(err, strerror(EISDIR)));
	assert_int_equal(virtio_blk_create(&dir_ro, 0, &b, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, strerror(EISDIR)));
	assert_int_equal(virtio_blk_create(&long_serial, 0, &b, err, sizeof(err)), -EINVAL);

	assert_int_equal(fchmod(f->fd, 0), 0);
	assert_unreadable_refused(f->path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(write_then_read_back_multi_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(header_split_across_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect_request, setup, teardown),
		cmocka_unit_test_setup_teardown(get_id_returns_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(get_id_pads_short_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_succeeds, setup, teardown),
		cmocka_unit_test_setup_teardown(discard_deallocates, setup, teardown),
		cmocka_unit_test_setup_teardown(discard_flags_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(write_zeroes_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(write_zeroes_without_zero_range, setup_tmpfs, teardown),
		cmocka_unit_test_setup_teardown(empty_discard_and_write_zeroes_succeed, setup, teardown),
		cmocka_unit_test_setup_teardown(read_only_refuses_writes, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(ranges_checked_against_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_type_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_status_breaks_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(short_header_breaks_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_stops_serving, setup, teardown),
		cmocka_unit_test_setup_teardown(config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(odd_size_rounds_down, setup, teardown),
		cmocka_unit_test_setup_teardown(create_errors_name_the_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
