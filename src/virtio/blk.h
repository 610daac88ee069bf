/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (virtio 1.2 §5.2): a raw image file or host block device as a guest disk. One request
 * queue, served synchronously on a worker thread of its own.
 */
#ifndef KILN_VIRTIO_BLK_H
#define KILN_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "kiln/kiln.h"
#include "util.h"
#include "virtio/device.h"

/* Feature bits, §5.2.3. */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types, §5.2.6. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Request status, §5.2.6. */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR_SIZE 512u /* the protocol's unit, whatever blk_size says */
#define VIRTIO_BLK_ID_BYTES 20      /* GET_ID: NUL-padded, no NUL when 20 bytes long */
#define VIRTIO_BLK_DWZ_FLAG_UNMAP 1u /* virtio_blk_discard_write_zeroes.flags */

/* The request header, the first 16 device-readable bytes of every request (§5.2.6). */
struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
} __attribute__((packed));

/* One DISCARD / WRITE_ZEROES segment (§5.2.6). */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
} __attribute__((packed));

/* Device configuration layout, §5.2.4, up to the fields kiln offers; little-endian. */
struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t geometry_cylinders;
	uint8_t geometry_heads;
	uint8_t geometry_sectors;
	uint32_t blk_size;
	uint8_t topology_physical_block_exp;
	uint8_t topology_alignment_offset;
	uint16_t topology_min_io_size;
	uint32_t topology_opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_blk_req_hdr) == 16, "virtio_blk_req header");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "discard/write zeroes segment");
_Static_assert(offsetof(struct virtio_blk_config, seg_max) == 12, "seg_max");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "blk_size");
_Static_assert(offsetof(struct virtio_blk_config, writeback) == 32, "writeback");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36, "max_discard_sectors");
_Static_assert(offsetof(struct virtio_blk_config, discard_sector_alignment) == 44, "discard alignment");
_Static_assert(offsetof(struct virtio_blk_config, max_write_zeroes_sectors) == 48, "max_write_zeroes");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56, "may_unmap");
_Static_assert(sizeof(struct virtio_blk_config) == 60, "virtio_blk_config up to unused1");

struct virtio_blk;

/*
 * Opens disk->path (read-write, or read-only when disk->read_only) as disk number `index`
 * ("virtio-blk<index>" in logs). 0, or -errno with a message naming the path in err.
 */
int virtio_blk_create(const struct kiln_disk *disk, unsigned int index, struct virtio_blk **out, char *err,
		      size_t errlen) MUST_CHECK;
struct virtio_dev *virtio_blk_dev(struct virtio_blk *b);

/*
 * Serves the disk from another file from now on (same read-only flag); the old file is synced and
 * closed, and the driver gets a config-change interrupt to re-read the capacity. On failure
 * (err names the path) the old file stays.
 */
int virtio_blk_replace(struct virtio_blk *b, const char *path, char *err, size_t errlen) MUST_CHECK;
/* Flushes (fdatasync) what was written and closes the disk; NULL is a no-op. */
void virtio_blk_destroy(struct virtio_blk *b);

#endif
