/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock (virtio 1.2 §5.10), stream sockets only, with Firecracker's Unix-socket host side:
 * - host-initiated: a host process connects to uds_path and writes "CONNECT <port>\n"; once the
 *   guest's listener on <port> accepts, it reads "OK <host port>\n", then the stream is joined;
 * - guest-initiated: a guest connect to (CID 2, port P) reaches a host listener at "<uds_path>_P".
 */
#ifndef KILN_VIRTIO_VSOCK_H
#define KILN_VIRTIO_VSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "kiln/kiln.h"
#include "util.h"
#include "virtio/device.h"

/* Virtqueues, §5.10.2. */
#define VIRTIO_VSOCK_RXQ 0   /* device -> driver packets */
#define VIRTIO_VSOCK_TXQ 1   /* driver -> device packets */
#define VIRTIO_VSOCK_EVENTQ 2

#define VIRTIO_VSOCK_HOST_CID 2

/* Event ids, §5.10.6.6. */
#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET 0

struct virtio_vsock;

/*
 * Binds and listens on cfg->uds_path (a stale socket file there is replaced; anything else there is
 * an error). cfg->guest_cid must be 3 or above. 0 or -errno with a message naming the path in err.
 * The listener is served on the device's I/O loop from activate on.
 */
int virtio_vsock_create(const struct kiln_vsock *cfg, struct virtio_vsock **out, char *err,
			size_t errlen) MUST_CHECK;
struct virtio_dev *virtio_vsock_dev(struct virtio_vsock *v);
/*
 * Bounds the device's connections, host- and guest-initiated in any state, to max (and never above
 * VSOCK_MAX_CONNS, the bound from create on): each holds a host fd, so the VM sets what the fd limit
 * leaves (vm_virtio.c). Past it a guest's OP_REQUEST gets OP_RST and a host client is closed at once.
 * Call before the VM starts. Returns the bound now in force.
 */
unsigned int virtio_vsock_limit_conns(struct virtio_vsock *v, uint64_t max);
/*
 * Closes every connection (the host ends see EOF) and the listener, and unlinks uds_path. Call once
 * the I/O thread no longer runs. NULL is a no-op.
 */
void virtio_vsock_destroy(struct virtio_vsock *v);

#endif
