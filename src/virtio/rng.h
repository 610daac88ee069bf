/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng (virtio 1.2 §5.4): the guest's entropy requests filled from getrandom(2). */
#ifndef KILN_VIRTIO_RNG_H
#define KILN_VIRTIO_RNG_H

#include "util.h"
#include "virtio/device.h"

/* The most bytes one request gets (§5.4.6.2 lets the device use less than the whole buffer). */
#define VIRTIO_RNG_MAX_PER_REQUEST KiB(64)

struct virtio_rng;

/* 0 or -ENOMEM. */
int virtio_rng_create(struct virtio_rng **out) MUST_CHECK;
struct virtio_dev *virtio_rng_dev(struct virtio_rng *r);
/* NULL is a no-op. */
void virtio_rng_destroy(struct virtio_rng *r);

#endif
