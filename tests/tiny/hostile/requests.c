/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One good request per device type, the cheapest that shows the device works end to end: bytes
 * from virtio-rng, sector 0 from virtio-blk (the test writes DISK_MAGIC there), a connection
 * request answered by a reset from virtio-vsock (nothing listens on VSOCK_NOBODY_PORT), a frame
 * sent by virtio-net, a line written by virtio-console.
 */
#include "requests.h"

#define RNG_LEN 64

#define VSOCK_HOST_CID 2
#define VSOCK_GOOD_PORT 50000

#define NET_HDR_LEN 12   /* struct virtio_net_hdr with VERSION_1 (§5.1.6) */
#define NET_FRAME_LEN 60 /* the shortest Ethernet frame, FCS left out */

/* --- virtio-rng (§5.4) ---------------------------------------------------------------------------- */
static void rng_post(struct vdev *d)
{
	const struct seg s = { 0, RNG_LEN, true };

	d->good_head = chain_post(d, 0, &s, 1);
}

static bool rng_done(struct vdev *d)
{
	struct vring_used_elem e;

	return used_wait(d, 0, &e) && e.id == d->good_head && e.len > 0 && e.len <= RNG_LEN;
}

/* --- virtio-blk (§5.2) ---------------------------------------------------------------------------- */
struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

void blk_post_req(struct vdev *d, uint32_t type, uint64_t sector, const void *out, uint32_t out_len,
		  uint32_t in_len)
{
	struct blk_req_hdr *h = (struct blk_req_hdr *)next_buf(d, 0, 0);
	struct seg s[4] = { { 0, sizeof(*h), false } };
	unsigned int n = 1;

	*h = (struct blk_req_hdr){ .type = type, .sector = sector };
	if (out_len > 0) {
		memcpy(next_buf(d, 0, n), out, out_len);
		s[n++] = (struct seg){ 0, out_len, false };
	}
	if (in_len > 0) {
		memset(next_buf(d, 0, n), 0, in_len);
		s[n++] = (struct seg){ 0, in_len, true };
	}
	*next_buf(d, 0, n) = 0xff;
	s[n++] = (struct seg){ 0, 1, true };
	d->good_head = chain_post(d, 0, s, n);
	d->blk_status_desc = (uint16_t)((d->good_head + n - 1) % QSZ);
}

void blk_post_read(struct vdev *d, uint64_t sector, uint32_t len)
{
	blk_post_req(d, BLK_T_IN, sector, NULL, 0, len);
}

int blk_status(struct vdev *d)
{
	struct vring_used_elem e;

	if (!used_wait(d, 0, &e) || e.id != d->good_head)
		return -1;
	return *(const uint8_t *)vq_buf(d, 0, d->blk_status_desc);
}

static void blk_post(struct vdev *d)
{
	blk_post_read(d, 0, 512);
}

static bool blk_done(struct vdev *d)
{
	return blk_status(d) == BLK_S_OK &&
	       memcmp((const void *)vq_buf(d, 0, d->good_head + 1u), DISK_MAGIC, sizeof(DISK_MAGIC) - 1) == 0;
}

/* --- virtio-vsock (§5.10) ------------------------------------------------------------------------- */
uint32_t vsock_guest_cid(const struct vdev *d)
{
	return reg_read(d, REG_CONFIG); /* le64 guest_cid; kiln's CIDs fit the low word */
}

void vsock_post_rx(struct vdev *d, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		const struct seg s = { 0, VSOCK_RX_LEN, true };

		chain_post(d, VSOCK_RXQ, &s, 1);
	}
}

void vsock_post_tx(struct vdev *d, const struct vsock_hdr *h, const void *payload, uint32_t len)
{
	const struct seg s = { 0, (uint32_t)sizeof(*h) + len, false };
	uint8_t *buf = next_buf(d, VSOCK_TXQ, 0);

	memcpy(buf, h, sizeof(*h));
	memcpy(buf + sizeof(*h), payload, len);
	d->good_head = chain_post(d, VSOCK_TXQ, &s, 1);
}

struct vsock_hdr vsock_hdr(const struct vdev *d, uint32_t src_port, uint32_t dst_port, uint16_t op)
{
	return (struct vsock_hdr){
		.src_cid = vsock_guest_cid(d),
		.dst_cid = VSOCK_HOST_CID,
		.src_port = src_port,
		.dst_port = dst_port,
		.type = VSOCK_TYPE_STREAM,
		.op = op,
		.buf_alloc = VSOCK_GUEST_BUF_ALLOC,
	};
}

const struct vsock_hdr *vsock_rx_wait(struct vdev *d, struct vring_used_elem *e)
{
	if (!used_wait(d, VSOCK_RXQ, e) || e->len < sizeof(struct vsock_hdr))
		return NULL;
	return (const struct vsock_hdr *)vq_buf(d, VSOCK_RXQ, e->id);
}

static void vsock_post(struct vdev *d)
{
	const struct vsock_hdr h = vsock_hdr(d, VSOCK_GOOD_PORT, VSOCK_NOBODY_PORT, VSOCK_OP_REQUEST);

	vsock_post_rx(d, 1);
	vsock_post_tx(d, &h, NULL, 0);
}

static bool vsock_done(struct vdev *d)
{
	struct vring_used_elem e;
	const struct vsock_hdr *h;

	if (!used_wait(d, VSOCK_TXQ, &e) || e.id != d->good_head)
		return false;
	h = vsock_rx_wait(d, &e);
	return h != NULL && h->op == VSOCK_OP_RST && h->src_port == VSOCK_NOBODY_PORT &&
	       h->dst_port == VSOCK_GOOD_PORT;
}

/* --- virtio-net (§5.1) ---------------------------------------------------------------------------- */
void net_post_tx(struct vdev *d)
{
	const struct seg s = { 0, NET_HDR_LEN + NET_FRAME_LEN, false };
	uint8_t *p = next_buf(d, NET_TXQ, 0);
	uint8_t *frame = p + NET_HDR_LEN;

	memset(p, 0, NET_HDR_LEN + NET_FRAME_LEN);
	memset(frame, 0xff, 6); /* broadcast */
	for (unsigned int i = 0; i < 6; i++)
		frame[6 + i] = (uint8_t)mmio_read(d->base + REG_CONFIG + i, 1); /* config: mac */
	frame[12] = 0x88; /* EtherType 0x88b5: IEEE 802 local experimental */
	frame[13] = 0xb5;
	memcpy(frame + 14, "kiln hostile guest", 18);
	d->good_head = chain_post(d, NET_TXQ, &s, 1);
}

static bool net_done(struct vdev *d)
{
	struct vring_used_elem e;

	return used_wait(d, NET_TXQ, &e) && e.id == d->good_head;
}

/* --- virtio-console (§5.3) ------------------------------------------------------------------------ */
void console_post_tx(struct vdev *d, const char *text, uint32_t len)
{
	const struct seg s = { 0, len, false };

	memcpy(next_buf(d, CONSOLE_TXQ, 0), text, len);
	d->good_head = chain_post(d, CONSOLE_TXQ, &s, 1);
}

static void console_post(struct vdev *d)
{
	static const char line[] = "# virtio-console: a good request\n";

	console_post_tx(d, line, sizeof(line) - 1);
}

static bool console_done(struct vdev *d)
{
	struct vring_used_elem e;

	return used_wait(d, CONSOLE_TXQ, &e) && e.id == d->good_head;
}

const struct dev_kind dev_kinds[] = {
	{ DEV_ID_NET, "virtio-net", NET_TXQ, net_post_tx, net_done },
	{ DEV_ID_BLK, "virtio-blk", 0, blk_post, blk_done },
	{ DEV_ID_CONSOLE, "virtio-console", CONSOLE_TXQ, console_post, console_done },
	{ DEV_ID_RNG, "virtio-rng", 0, rng_post, rng_done },
	{ DEV_ID_VSOCK, "virtio-vsock", VSOCK_TXQ, vsock_post, vsock_done },
};
const unsigned int dev_kinds_count = ARRAY_SIZE(dev_kinds);
