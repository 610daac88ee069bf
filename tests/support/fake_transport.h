/* SPDX-License-Identifier: Apache-2.0 */
/* A virtio transport for device unit tests: it only counts what the device tells it. */
#ifndef KILN_TESTS_FAKE_TRANSPORT_H
#define KILN_TESTS_FAKE_TRANSPORT_H

#include "virtio/device.h"

struct fake_transport {
	unsigned int used[VIRTIO_MAX_QUEUES]; /* transport->used() calls, per queue */
	unsigned int needs_reset;
	unsigned int config_changed;
};

/* Makes t the transport of d (d->transport, d->transport_data). */
void fake_transport_attach(struct fake_transport *t, struct virtio_dev *d);

#endif
