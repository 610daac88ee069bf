/* SPDX-License-Identifier: Apache-2.0 */
/* A virtio-mmio device's state in a snapshot (section VIRT/<index>; mmio_snapshot.c). */
#ifndef KILN_VIRTIO_MMIO_SNAPSHOT_H
#define KILN_VIRTIO_MMIO_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot/snap_file.h"
#include "virtio/mmio.h"

#define VIRTIO_SNAP_TAG SNAP_TAG('V', 'I', 'R', 'T')

/* The device behind m can be saved (it has the save and load ops). */
bool virtio_mmio_can_snapshot(const struct virtio_mmio *m);

/* Appends VIRT/index. The I/O thread must be held and the vCPUs parked. */
void virtio_mmio_save(struct virtio_mmio *m, uint32_t index, struct snap_writer *w);

/*
 * After a snapshot started a new count of dirty pages: the writable buffers of the chains the
 * device still holds (ops chains_held) are marked again, since it may fill them later. The I/O
 * thread must be held.
 */
void virtio_mmio_mark_held(struct virtio_mmio *m);

/*
 * Loads VIRT/index into m, a transport just built (reset), by replaying the driver's writes, then
 * the device's own state. 0, or -errno with a one-line reason in why.
 */
int virtio_mmio_load(struct virtio_mmio *m, const struct snap_reader *r, uint32_t index, char *why,
		     size_t whylen) MUST_CHECK;

/* One kick on every queue, served once the I/O thread runs: after a restore, so nothing the
 * driver published while the snapshot was taken waits for a kick that already came. */
void virtio_mmio_kick_all(struct virtio_mmio *m);

#endif
