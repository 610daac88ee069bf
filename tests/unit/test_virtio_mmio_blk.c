/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk behind the real virtio-mmio transport, on a memfd disk: a sector written through the
 * queue reaches the disk and reads back; then the hostile sequences of support/mmio_cases.h.
 */
#define _GNU_SOURCE /* memfd_create */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/mmio_cases.h"
#include "virtio/blk.h"

#define QSIZE 64
#define DISK_SECTORS 256
#define SECTOR VIRTIO_BLK_SECTOR_SIZE

struct blk_test {
	struct virtio_blk *blk;
	int fd;       /* the host's view of the disk */
	uint8_t seed; /* a new pattern for each request */
};

static int blk_create(struct mmio_case *c)
{
	struct blk_test *t = calloc(1, sizeof(*t));
	char path[64], err[256];

	if (t == NULL)
		return -1;
	c->priv = t;
	t->fd = memfd_create("kiln-disk", MFD_CLOEXEC);
	if (t->fd < 0 || ftruncate(t->fd, DISK_SECTORS * SECTOR) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", t->fd);
	struct kiln_disk disk = { .path = path };

	if (virtio_blk_create(&disk, 0, &t->blk, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	c->dev = virtio_blk_dev(t->blk);
	return 0;
}

static void blk_destroy(struct mmio_case *c)
{
	struct blk_test *t = c->priv;

	virtio_blk_destroy(t->blk);
	close(t->fd);
	free(t);
}

static void pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
}

/* Publishes header, one sector of data, status byte (§5.2.6); returns the status byte's address. */
static gpa_t blk_publish(struct mmio_case *c, uint32_t type, uint64_t sector, gpa_t data)
{
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, 0);
	struct virtio_blk_req_hdr h = { .type = htole32(type), .sector = htole64(sector) };
	gpa_t hdr = vqb_alloc(vq, sizeof(h)), status = vqb_alloc(vq, 1);
	struct vqb_seg segs[] = {
		{ hdr, sizeof(h), false },
		{ data, SECTOR, type == VIRTIO_BLK_T_IN },
		{ status, 1, true },
	};

	memcpy(vqb_host(vq, hdr), &h, sizeof(h));
	*(uint8_t *)vqb_host(vq, status) = 0xee; /* poison: the device must write it */
	vqb_publish(vq, vqb_chain(vq, segs, 3));
	return status;
}

/* Kicks the queue, runs the I/O side, checks the request completed with OK and `len` bytes used. */
static void blk_complete(struct mmio_case *c, gpa_t status, uint32_t len)
{
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, 0);
	uint16_t used = vqb_used_idx(vq);

	vqb_set_used_event(vq, used); /* EVENT_IDX: interrupt at the next used entry (§2.7.10) */
	(void)mmio_driver_irqs(&c->drv);
	mmio_driver_kick(&c->drv, 0);
	mmio_driver_pump(&c->drv);
	assert_int_equal(vqb_used_idx(vq), (uint16_t)(used + 1));
	assert_int_equal(vqb_used(vq, used).len, len);
	assert_int_equal(*(uint8_t *)vqb_host(vq, status), VIRTIO_BLK_S_OK);
	assert_true(mmio_driver_irqs(&c->drv) >= 1);
	assert_true(mmio_driver_take_interrupt(&c->drv) & MMIO_INT_USED);
}

/* A sector written through the queue is on the disk, and reads back into the guest. */
static void blk_good_request(struct mmio_case *c)
{
	struct blk_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, 0);
	uint64_t sector = 1 + t->seed % (DISK_SECTORS - 1);
	uint8_t want[SECTOR], disk[SECTOR];
	gpa_t out = vqb_alloc(vq, SECTOR), in = vqb_alloc(vq, SECTOR);

	pattern(want, SECTOR, t->seed++);
	memcpy(vqb_host(vq, out), want, SECTOR);
	blk_complete(c, blk_publish(c, VIRTIO_BLK_T_OUT, sector, out), 1);
	assert_int_equal(pread(t->fd, disk, SECTOR, (off_t)(sector * SECTOR)), SECTOR);
	assert_memory_equal(disk, want, SECTOR);
	blk_complete(c, blk_publish(c, VIRTIO_BLK_T_IN, sector, in), SECTOR + 1);
	assert_memory_equal(vqb_host(vq, in), want, SECTOR);
}

static unsigned int blk_post_request(struct mmio_case *c)
{
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, 0);
	gpa_t out = vqb_alloc(vq, SECTOR);

	pattern(vqb_host(vq, out), SECTOR, 0x5a);
	(void)blk_publish(c, VIRTIO_BLK_T_OUT, 0, out);
	return 0;
}

static const struct mmio_case_device blk_device = {
	.features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH) |
		    (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
	.num_queues = 1,
	.queue_size = QSIZE,
	.ram_size = MiB(2),
	.create = blk_create,
	.destroy = blk_destroy,
	.good_request = blk_good_request,
	.post_request = blk_post_request,
};

static int setup(void **state)
{
	return mmio_case_setup(state, &blk_device);
}

/* A request posted before a reset and kicked after it never reaches the disk. */
static void request_across_a_reset_is_not_served(void **state)
{
	struct mmio_case *c = *state;
	struct blk_test *t = c->priv;
	uint8_t zero[SECTOR] = { 0 }, disk[SECTOR];

	mmio_case_start(c);
	(void)blk_post_request(c); /* sector 0 */
	mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
	mmio_driver_set_status(&c->drv, 0);
	mmio_driver_kick(&c->drv, 0);
	mmio_driver_pump(&c->drv);
	assert_int_equal(pread(t->fd, disk, SECTOR, 0), SECTOR);
	assert_memory_equal(disk, zero, SECTOR);
	mmio_case_recover(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MMIO_CASES(setup),
		MMIO_CASE(request_across_a_reset_is_not_served, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
