/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: virtio-net transmit and receive with the vnet header (virtio/net.c, virtio 1.2
 * §5.1.6) behind the real transport; a SOCK_DGRAM socketpair with a small send buffer plays the
 * tap. Headers (offload flags, gso types, hdr_len, csum offsets, num_buffers) are the input's.
 * Besides the harness's invariants:
 * - transmit: the host receives each chain's readable bytes as one datagram, in order, none lost
 *   to backpressure (after the last drain every chain has arrived), and each chain is returned
 *   with 0 bytes used;
 * - receive: chains come back in the order posted, never with more bytes than they hold; a frame's
 *   first chain carries num_buffers, the chains it spans (1 without MRG_RXBUF); the frame is the
 *   next one the host sent that may be delivered, byte for byte (num_buffers aside), cut short
 *   only when its chains are full; runts and, with VIRTIO_NET_F_MTU, plain frames beyond the MTU
 *   are never delivered.
 *
 * Input: byte 0: bit 0 MRG_RXBUF, bit 1 MTU, bit 2 EVENT_IDX; byte 1: the MTU, 68 + 8 * b. Then
 * operations (op u8 % 4):
 *   0 TX     header 12 bytes, body len u16 (% 1536), shape u8: bit 0 header in its own
 *            descriptor, bit 1 indirect, bit 2 a writable descriptor after (ignored); then a kick
 *   1 POST   shape u8: 1 + (b % 4) receive chains, bit 2 a readable descriptor first (ignored),
 *            bit 3 indirect; each: segments u8 (1 + b % 3), len u16 each (& 0x7fff); then a kick
 *   2 FRAME  the host sends a header of 12 bytes and body len u16 (% 65524)
 *   3 DRAIN  the host reads every datagram the device sent, then the I/O loop runs
 */
#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz/fuzz_virtio_common.h"
#include "fuzz/fuzz_virtio_hosts.h"
#include "virtio/net.h"

#define FUZZ_QSIZE 16
#define FUZZ_MAX_FRAMES 256
#define FUZZ_MAX_DGRAM 65535
#define FUZZ_HDR 12u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

/* A frame either way: its header, and a body of len - 12 bytes made from tag (fuzz_body). */
struct fuzz_frame {
	uint8_t hdr[FUZZ_HDR];
	uint32_t len;
	uint16_t tag;
};

struct fuzz_net {
	bool mrg, mtu_check;
	uint16_t mtu;
	struct fuzz_frame tx[FUZZ_MAX_FRAMES], rx[FUZZ_MAX_FRAMES]; /* FIFOs: [first, end) */
	unsigned int tx_first, tx_end, rx_first, rx_end;
	struct fv_posted posted[FUZZ_QSIZE];  /* receive chains not used yet, [first, end) mod size */
	unsigned int post_first, post_end, rx_desc, tx_desc, tx_chains;
	uint8_t tx_ndesc[FUZZ_QSIZE];        /* descriptors of the transmit chain at each head */
	uint16_t rx_used, tx_used;            /* used entries seen */
	uint16_t tag;
};

static struct fv fuzz_fv;
static struct fuzz_net fuzz_net;
static uint8_t fuzz_buf[FUZZ_MAX_DGRAM + 1], fuzz_got[FUZZ_MAX_DGRAM + 1];

static uint8_t fuzz_body(uint16_t tag, uint32_t i)
{
	return (uint8_t)(tag * 37u + i * 13u + (i >> 8));
}

/* The frame's bytes, header first, into buf. */
static void fuzz_frame_bytes(const struct fuzz_frame *fr, uint8_t *buf)
{
	memcpy(buf, fr->hdr, FUZZ_HDR);
	for (uint32_t i = FUZZ_HDR; i < fr->len; i++)
		buf[i] = fuzz_body(fr->tag, i);
}

/* A header from the input, then a body length (u16, % max_body + 1). */
static struct fuzz_frame fuzz_new_frame(struct fuzz_net *n, struct fv_in *in, uint32_t max_body)
{
	struct fuzz_frame fr = { .tag = n->tag++ };
	size_t got;

	memcpy(fr.hdr, fv_bytes(in, FUZZ_HDR, &got), got);
	fr.len = FUZZ_HDR + fv_u16(in) % (max_body + 1);
	return fr;
}

/* --- transmit ---------------------------------------------------------------------------------- */

static void fuzz_tx(struct fv *f, struct fuzz_net *n, struct fv_in *in)
{
	struct fuzz_frame fr = fuzz_new_frame(n, in, 1535);
	uint8_t shape = fv_u8(in);
	struct fv_posted p = { .indirect = shape & 2 };

	fuzz_frame_bytes(&fr, fuzz_buf);
	if (shape & 1) {
		p.segs[p.n++] = (struct fv_seg){ .len = FUZZ_HDR, .data = fuzz_buf, .data_len = FUZZ_HDR };
		p.segs[p.n++] = (struct fv_seg){ .len = fr.len - FUZZ_HDR, .data = fuzz_buf + FUZZ_HDR,
						 .data_len = fr.len - FUZZ_HDR };
	} else {
		p.segs[p.n++] = (struct fv_seg){ .len = fr.len, .data = fuzz_buf, .data_len = fr.len };
	}
	if (shape & 4)
		p.segs[p.n++] = (struct fv_seg){ .len = 64, .write = true };
	/* A driver out of descriptors or memory waits. */
	if (!fv_post(f, VIRTIO_NET_TXQ, &p, &n->tx_desc, n->post_first == n->post_end && n->tx_chains == 0))
		return;
	n->tx_ndesc[p.head] = (uint8_t)p.ndesc;
	n->tx_chains++;
	n->tx[n->tx_end++ % FUZZ_MAX_FRAMES] = fr;
	fv_kick(f, VIRTIO_NET_TXQ);
}

/* Used transmit chains come back with nothing written; their descriptors are free again. */
static void fuzz_tx_used(struct fv *f, struct fuzz_net *n)
{
	uint16_t idx = fv_used_idx(f, VIRTIO_NET_TXQ);

	for (; n->tx_used != idx; n->tx_used++) {
		uint32_t id, len;

		fv_used(f, VIRTIO_NET_TXQ, n->tx_used, &id, &len);
		fv_check(len == 0 && n->tx_chains > 0 && id < FUZZ_QSIZE);
		n->tx_chains--;
		n->tx_desc -= n->tx_ndesc[id];
	}
}

/* The host reads what the device sent: each datagram is the next chain's bytes. */
static void fuzz_drain(struct fuzz_net *n, int tap)
{
	ssize_t r;

	while ((r = recv(tap, fuzz_got, sizeof(fuzz_got), MSG_DONTWAIT)) >= 0) {
		fv_check(n->tx_first != n->tx_end);
		const struct fuzz_frame *fr = &n->tx[n->tx_first++ % FUZZ_MAX_FRAMES];

		fuzz_frame_bytes(fr, fuzz_buf);
		fv_check((uint32_t)r == fr->len && memcmp(fuzz_got, fuzz_buf, fr->len) == 0);
	}
}

/* --- receive ----------------------------------------------------------------------------------- */

static void fuzz_post(struct fv *f, struct fuzz_net *n, struct fv_in *in)
{
	uint8_t shape = fv_u8(in);

	for (unsigned int c = 0; c < 1 + shape % 4u; c++) {
		struct fv_posted p = { .indirect = shape & 8 };
		unsigned int nseg = 1 + fv_u8(in) % 3u;

		if (shape & 4)
			p.segs[p.n++] = (struct fv_seg){ .len = 16 };
		for (unsigned int i = 0; i < nseg; i++)
			p.segs[p.n++] = (struct fv_seg){ .len = fv_u16(in) & 0x7fff, .write = true };
		if (n->post_end - n->post_first == FUZZ_QSIZE ||
		    !fv_post(f, VIRTIO_NET_RXQ, &p, &n->rx_desc, n->post_first == n->post_end && n->tx_chains == 0))
			break;
		n->posted[n->post_end++ % FUZZ_QSIZE] = p;
	}
	fv_kick(f, VIRTIO_NET_RXQ);
}

static void fuzz_frame_in(struct fv *f, struct fuzz_net *n, struct fv_in *in, int tap)
{
	struct fuzz_frame fr = fuzz_new_frame(n, in, FUZZ_MAX_DGRAM - FUZZ_HDR);

	fuzz_frame_bytes(&fr, fuzz_buf);
	if (n->rx_end - n->rx_first < FUZZ_MAX_FRAMES &&
	    send(tap, fuzz_buf, fr.len, MSG_DONTWAIT) == (ssize_t)fr.len)
		n->rx[n->rx_end++ % FUZZ_MAX_FRAMES] = fr;
	fv_pump(f);
}

/* Whether the device must drop the frame when it read len bytes of it (§5.1.4.1, runts). */
static bool fuzz_droppable(const struct fuzz_net *n, const struct fuzz_frame *fr, uint32_t len)
{
	bool plain = (fr->hdr[offsetof(struct virtio_net_hdr, gso_type)] & ~VIRTIO_NET_HDR_GSO_ECN) == 0;

	return len < FUZZ_HDR + 14 || (n->mtu_check && plain && len - FUZZ_HDR > n->mtu + 18u);
}

/*
 * A frame of total bytes (in fuzz_got) in k chains came back: it is the next frame the host sent
 * that the device may deliver; the ones before it were dropped, and had to be.
 */
static void fuzz_match(struct fuzz_net *n, uint32_t total, bool full, uint16_t k, uint32_t front_cap)
{
	uint16_t num_buffers = htole16(k);

	for (;;) {
		fv_check(n->rx_first != n->rx_end); /* a frame the host never sent */
		const struct fuzz_frame *fr = &n->rx[n->rx_first++ % FUZZ_MAX_FRAMES];

		fuzz_frame_bytes(fr, fuzz_buf);
		memcpy(fuzz_buf + offsetof(struct virtio_net_hdr, num_buffers), &num_buffers, 2);
		if (total <= fr->len && (total == fr->len || full) && memcmp(fuzz_got, fuzz_buf, total) == 0) {
			fv_check(!fuzz_droppable(n, fr, total));
			return;
		}
		/* Without MRG_RXBUF the frame was read into the front chain alone. */
		fv_check(fuzz_droppable(n, fr, n->mrg || fr->len < front_cap ? fr->len : front_cap));
	}
}

/* Receive chains that came back: in the order posted, frame by frame. */
static void fuzz_rx_used(struct fv *f, struct fuzz_net *n)
{
	uint16_t idx = fv_used_idx(f, VIRTIO_NET_RXQ);

	while (n->rx_used != idx) {
		const struct fv_posted *first = &n->posted[n->post_first % FUZZ_QSIZE];
		struct virtio_net_hdr h;
		uint32_t id, len, total = 0;
		bool full = true;

		fv_check(n->post_first != n->post_end);
		fv_check(fv_written(f, first, sizeof(h), (uint8_t *)&h) == sizeof(h));
		uint16_t k = le16toh(h.num_buffers);

		fv_check(k >= 1 && (n->mrg || k == 1) && k <= n->post_end - n->post_first);
		fv_check((uint16_t)(idx - n->rx_used) >= k); /* a frame's chains come back together */
		for (uint16_t j = 0; j < k; j++) {
			const struct fv_posted *ch = &n->posted[(n->post_first + j) % FUZZ_QSIZE];

			fv_used(f, VIRTIO_NET_RXQ, (uint16_t)(n->rx_used + j), &id, &len);
			fv_check(id == ch->head && len <= ch->cap && (j + 1 == k || len == ch->cap));
			full &= len == ch->cap;
			total += fv_written(f, ch, len, fuzz_got + total);
			n->rx_desc -= ch->ndesc;
		}
		fuzz_match(n, total, full, k, first->cap);
		n->post_first += k;
		n->rx_used += k;
	}
}

/* --- the run ----------------------------------------------------------------------------------- */

/* NEEDS_RESET (a receive chain too short for its header): the driver resets and starts over. */
static void fuzz_restart(struct fv *f, struct fuzz_net *n, int tap, uint64_t features)
{
	fuzz_drain(n, tap);      /* what was written before the reset arrives, in order */
	n->tx_first = n->tx_end; /* the rest never will: the reset forgot those chains */
	n->post_first = n->post_end = n->rx_desc = n->tx_desc = n->tx_chains = 0;
	n->rx_used = n->tx_used = 0;
	fv_check(fv_driver_init(f, features, FUZZ_QSIZE));
}

static void fuzz_op(struct fv *f, struct fuzz_net *n, struct fv_in *in, int tap)
{
	switch (fv_u8(in) % 4) {
	case 0:
		fuzz_tx(f, n, in);
		break;
	case 1:
		fuzz_post(f, n, in);
		break;
	case 2:
		fuzz_frame_in(f, n, in, tap);
		break;
	default:
		fuzz_drain(n, tap);
		fv_pump(f);
		break;
	}
	fuzz_tx_used(f, n);
	fuzz_rx_used(f, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fv_in in = { data, len };
	struct fuzz_net *n = &fuzz_net;
	struct fv *f = &fuzz_fv;
	struct fv_host h;

	if (len < 2)
		return 0;
	uint8_t cfg = fv_u8(&in);
	struct fv_host_opts opts = { .mtu = (uint16_t)(68 + 8 * fv_u8(&in)) };
	uint64_t features = (cfg & 1 ? 1ull << VIRTIO_NET_F_MRG_RXBUF : 0) |
			    (cfg & 2 ? 1ull << VIRTIO_NET_F_MTU : 0) |
			    (cfg & 4 ? 1ull << VIRTIO_F_EVENT_IDX : 0);

	memset(n, 0, sizeof(*n));
	n->mrg = cfg & 1;
	n->mtu_check = cfg & 2;
	n->mtu = opts.mtu;
	fv_begin(f);
	fv_host_create(&h, FV_NET, &opts);
	fv_attach(f, h.dev);
	fv_check(fv_driver_init(f, features, FUZZ_QSIZE));
	while (in.len > 0) {
		fuzz_op(f, n, &in, h.tap);
		if (f->status & FV_NEEDS_RESET)
			fuzz_restart(f, n, h.tap, features);
	}
	/* Nothing is lost to backpressure: as the host reads, every chain goes out. */
	for (unsigned int i = 0; i < FUZZ_MAX_FRAMES && n->tx_first != n->tx_end; i++) {
		fuzz_drain(n, h.tap);
		fv_pump(f);
		fuzz_tx_used(f, n);
	}
	fv_check(n->tx_first == n->tx_end && n->tx_chains == 0);
	fv_detach(f);
	fv_host_destroy(&h);
	fv_end(f);
	return 0;
}
