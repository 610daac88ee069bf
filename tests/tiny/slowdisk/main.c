/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The slow disk test's guest (tests/integration/slow_disk.sh): freestanding C linked with the hostile
 * guest's virtio driver and output (tests/tiny/hostile/), entered through its start.S. kiln gives it
 * a disk whose every request waits until the test opens a gate (the KILN_TEST_BLK_GATE_FD hook of
 * the test build), and an entropy device.
 *
 * It reads sector 0 from the disk and, while that request waits, asks virtio-rng for bytes: they
 * must come, since the disk's requests are served on a thread of their own, not on the I/O thread
 * that serves virtio-rng (and the console, the network, vsock). Then it says DISK_WAIT_LINE; the
 * test opens the gate, and the read must complete with the test's DISK_MAGIC. Each check is an
 * "ok - ..." or "not ok - ..." line on COM1; the exit status is the number that failed.
 */
#include "requests.h"

#define DISK_WAIT_LINE "# slowdisk: the disk request waits for the gate\n"
#define DISK_WAITS 8 /* used_wait bounds for the disk request once the gate opens: the test may be slow */

int slowdisk_main(uint32_t start_info);

static struct vdev devs[GUEST_MAX_DEVS];

/* Waits (several bounds) for the disk's read of sector 0 and checks its status and data. */
static bool disk_read_done(struct vdev *blk)
{
	struct vring_used_elem e;
	unsigned int waits = 0;

	while (!used_wait(blk, 0, &e))
		if (++waits == DISK_WAITS)
			return false;
	return e.id == blk->good_head && *(const uint8_t *)vq_buf(blk, 0, blk->blk_status_desc) == BLK_S_OK &&
	       memcmp((const void *)vq_buf(blk, 0, blk->good_head + 1u), DISK_MAGIC, sizeof(DISK_MAGIC) - 1) == 0;
}

int slowdisk_main(uint32_t start_info)
{
	struct vdev *blk, *rng;
	unsigned int n;

	ram_end_from_start_info(start_info);
	n = dev_scan(devs, GUEST_MAX_DEVS);
	blk = dev_find(devs, n, DEV_ID_BLK);
	rng = dev_find(devs, n, DEV_ID_RNG);
	if (!check(blk != NULL && rng != NULL, "slowdisk: a disk and an entropy device found"))
		return 1;
	if (!check(dev_activate(blk, 0) && dev_activate(rng, 0), "slowdisk: both devices set up"))
		return 1;
	blk_post_read(blk, 0, 512);
	kick(blk, 0);
	check(dev_good_request(rng), "slowdisk: virtio-rng serves a request while the disk's waits");
	gprintf(DISK_WAIT_LINE);
	check(disk_read_done(blk), "slowdisk: the disk request completes once the gate opens, with sector 0's data");
	return (int)checks_failed();
}
