/* SPDX-License-Identifier: Apache-2.0 */
/* The device types' requests (requests.c): the good ones, and the pieces device games build on. */
#ifndef HOSTILE_REQUESTS_H
#define HOSTILE_REQUESTS_H

#include "virtio.h"

/* Device ids, virtio 1.2 §5. */
#define DEV_ID_NET 1
#define DEV_ID_BLK 2
#define DEV_ID_CONSOLE 3
#define DEV_ID_RNG 4
#define DEV_ID_VSOCK 19

/* What tests/integration/hostile.sh writes at the start of the disk. */
#define DISK_MAGIC "kiln hostile disk"

#define NET_RXQ 0
#define NET_TXQ 1
#define CONSOLE_RXQ 0
#define CONSOLE_TXQ 1
#define CONSOLE_CTRL_RXQ 2
#define CONSOLE_CTRL_TXQ 3
#define CONSOLE_F_MULTIPORT 1
/* Control events, virtio 1.2 §5.3.6.2. */
#define CONSOLE_DEVICE_READY 0
#define CONSOLE_DEVICE_ADD 1
#define CONSOLE_PORT_READY 3
#define CONSOLE_RESIZE 5
#define CONSOLE_PORT_OPEN 6
#define VSOCK_RXQ 0
#define VSOCK_TXQ 1

/* virtio-vsock's packet header, virtio 1.2 §5.10.6 (little-endian, packed). */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define VSOCK_TYPE_STREAM 1
#define VSOCK_OP_REQUEST 1
#define VSOCK_OP_RESPONSE 2
#define VSOCK_OP_RST 3
#define VSOCK_OP_RW 5
#define VSOCK_NOBODY_PORT 4242      /* the test makes no socket for this port */
#define VSOCK_RX_LEN 256            /* a header and a little payload per receive buffer */
#define VSOCK_GUEST_BUF_ALLOC 65536

/* virtio-blk requests (§5.2.6): types, status bytes, features. */
#define BLK_T_IN 0
#define BLK_T_GET_ID 8
#define BLK_T_DISCARD 11
#define BLK_T_WRITE_ZEROES 13
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define BLK_F_DISCARD 13
#define BLK_F_WRITE_ZEROES 14

/* A request: the header, out_len bytes of out (none if 0), in_len writable bytes (none if 0), status. */
void blk_post_req(struct vdev *d, uint32_t type, uint64_t sector, const void *out, uint32_t out_len,
		  uint32_t in_len);
void blk_post_read(struct vdev *d, uint64_t sector, uint32_t len);
/* Waits for the request posted last; returns its status byte, or -1 when it did not complete. */
int blk_status(struct vdev *d);

uint32_t vsock_guest_cid(const struct vdev *d);
struct vsock_hdr vsock_hdr(const struct vdev *d, uint32_t src_port, uint32_t dst_port, uint16_t op);
void vsock_post_rx(struct vdev *d, unsigned int count);
void vsock_post_tx(struct vdev *d, const struct vsock_hdr *h, const void *payload, uint32_t len);
/* Waits for the next receive buffer; returns its packet header, NULL when none or too short. */
const struct vsock_hdr *vsock_rx_wait(struct vdev *d, struct vring_used_elem *e);

void net_post_tx(struct vdev *d);
void console_post_tx(struct vdev *d, const char *text, uint32_t len);

#endif
