/* SPDX-License-Identifier: Apache-2.0 */
#include "support/fake_transport.h"

#include <stdlib.h>

static struct fake_transport *fake_of(struct virtio_dev *d)
{
	return d->transport_data;
}

static void fake_used(struct virtio_dev *d, unsigned int q)
{
	if (q >= VIRTIO_MAX_QUEUES)
		abort(); /* a device named a queue it cannot have */
	fake_of(d)->used[q]++;
}

static void fake_needs_reset(struct virtio_dev *d)
{
	fake_of(d)->needs_reset++;
}

static void fake_config_changed(struct virtio_dev *d)
{
	fake_of(d)->config_changed++;
}

static const struct virtio_transport_ops fake_transport_ops = {
	.used = fake_used,
	.needs_reset = fake_needs_reset,
	.config_changed = fake_config_changed,
};

void fake_transport_attach(struct fake_transport *t, struct virtio_dev *d)
{
	d->transport = &fake_transport_ops;
	d->transport_data = t;
}
