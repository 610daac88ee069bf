/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (virtio 1.2 §5.1) on a host tap device: one receive and one transmit queue, no
 * control queue, no multiqueue. Frames go between the tap and guest buffers with readv/writev,
 * the vnet header included, without copies.
 */
#ifndef KILN_VIRTIO_NET_H
#define KILN_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "kiln/kiln.h"
#include "util.h"
#include "virtio/device.h"

/* Feature bits, §5.1.3. */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1 /* config status, §5.1.4 */

/* Virtqueues, §5.1.2. */
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* gso_type values, §5.1.6. */
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_ECN 0x80

/* The header before every frame, both ways (§5.1.6); little-endian. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* receive: the chains the frame spans (1 without MRG_RXBUF) */
} __attribute__((packed));

/* Device configuration layout, §5.1.4, up to the fields kiln offers; little-endian. */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr_v1");
_Static_assert(offsetof(struct virtio_net_hdr, num_buffers) == 10, "num_buffers");
_Static_assert(offsetof(struct virtio_net_config, status) == 6, "status");
_Static_assert(offsetof(struct virtio_net_config, mtu) == 10, "mtu");

struct virtio_net;

/*
 * Attaches to the existing tap cfg->tap (io/tap.h) as NIC number `index` ("virtio-net<index>" in
 * logs). The MAC is cfg->mac, or virtio_net_default_mac(cfg->tap) without one; the MTU offered
 * is the tap's at this moment. 0, or -errno with a message naming the tap in err.
 */
int virtio_net_create(const struct kiln_net *cfg, unsigned int index, struct virtio_net **out, char *err,
		      size_t errlen) MUST_CHECK;

/*
 * The device on an fd already set up as a tap (non-blocking, vnet header of 12 bytes); what
 * virtio_net_create ends with, and the unit tests' seam: there a SOCK_DGRAM socketpair end plays
 * the tap (one datagram per frame, as a tap reads and writes). offloads: the TUN_F_* bits to
 * offer as the tap's; with 0, no offload is offered and TUNSETOFFLOAD is never called. The device
 * owns fd from here on, also on failure. 0 or -ENOMEM.
 */
int virtio_net_create_on_fd(int fd, unsigned int offloads, const uint8_t mac[6], uint16_t mtu, unsigned int index,
			    struct virtio_net **out) MUST_CHECK;

/*
 * The MAC of a NIC configured without one: 02 (locally administered, unicast) followed by the
 * low 40 bits of the 64-bit FNV-1a hash of the tap's name, least significant byte first. The same
 * tap name gives the same MAC on every run; different names give different MACs.
 */
void virtio_net_default_mac(const char *tap, uint8_t mac[6]);

struct virtio_dev *virtio_net_dev(struct virtio_net *n);
/* Leaves the I/O loop and closes the tap; call once the I/O thread no longer runs. NULL: no-op. */
void virtio_net_destroy(struct virtio_net *n);

#endif
