/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: virtio-vsock packets and credit (virtio/vsock*.c, virtio 1.2 §5.10.6) behind
 * the real transport, with the real Unix-socket host side in a temporary directory: host clients
 * of the uds path, host listeners at "<uds>_1000" and "<uds>_1001" for guest connects. The guest's
 * packets have any header: bogus ops, types, CIDs, lengths, ports, buf_alloc and fwd_cnt, for as
 * many connections as the input makes. Besides the harness's invariants, every packet the device
 * puts in a receive chain is checked:
 * - its header: from CID 2 to the guest's CID, type STREAM, an op the device may send, the flags
 *   of that op, buf_alloc 256 KiB, len within the chain and only on OP_RW, used length 44 + len;
 * - credit (§5.10.6.3): on a connection, the device never has more payload in flight than the
 *   guest's last advertised buf_alloc allows (bytes sent - the guest's fwd_cnt), and its fwd_cnt
 *   never counts more than the guest sent;
 * - transmit chains come back with nothing written.
 *
 * Input: byte 0: bit 0 EVENT_IDX. Then operations (op u8 % 6):
 *   0 PKT    the guest sends a packet: sel u8 (bits 0-1: 3 src CID raw u64 follows, else 3; bit 2
 *            dst CID raw u64 follows, else 2; bit 3 type raw u16 follows, else STREAM; bit 4
 *            header in two descriptors; bit 5 indirect; bit 6 len raw u32 follows, else the
 *            payload's), src port u8 (below 0xf0: 5000 + b % 8, else u32), dst port u8 (below
 *            0x80: 1000 + b % 2; below 0xf0: 1024 + b % 16; else u32), op u8, flags u8,
 *            buf_alloc u8 (below 0xf0: b * 64, else u32), fwd_cnt u32, payload u16 (% 8192)
 *   1 POST   1 + (b % 4) receive chains of len u16 (% 8192) each, bit 2 of b: split after 20 bytes
 *   2 HOST   a host action (fv_host_event), then the I/O loop runs
 *   3 PUMP   the I/O loop runs
 *   4 KICK   queue u8 (% 3)
 *   5 RESET  the driver resets the device and sets it up again
 */
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "fuzz/fuzz_virtio_common.h"
#include "fuzz/fuzz_virtio_hosts.h"
#include "virtio/vsock_conn.h"

#define FUZZ_QSIZE 16
#define FUZZ_CONNS 64
#define FUZZ_MAX_PAYLOAD 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

/* What the model knows of one port pair (the device's local port, the guest's port). */
struct fuzz_conn {
	bool used;
	uint32_t local, peer;
	bool counted;               /* the model saw the connection start: the counts below are exact */
	bool credit_known;          /* the guest advertised credit for it */
	uint32_t buf_alloc, fwd_cnt; /* the guest's last advertisement */
	uint32_t tx_cnt;            /* payload the device sent since the connection started */
	uint32_t guest_sent;        /* payload the guest sent since then */
};

struct fuzz_vsock {
	struct fv_posted rx[FUZZ_QSIZE]; /* receive chains not used yet, [first, end) */
	unsigned int rx_first, rx_end, rx_desc, tx_desc, tx_chains;
	uint8_t tx_ndesc[FUZZ_QSIZE];
	uint16_t rx_used, tx_used;
	struct fuzz_conn conns[FUZZ_CONNS];
	unsigned int next_slot;
};

static struct fv fuzz_fv;
static struct fuzz_vsock fuzz_vs;
static uint8_t fuzz_pkt[VSOCK_HDR_SIZE + FUZZ_MAX_PAYLOAD];

static struct fuzz_conn *fuzz_conn(struct fuzz_vsock *s, uint32_t local, uint32_t peer, bool make)
{
	for (unsigned int i = 0; i < FUZZ_CONNS; i++)
		if (s->conns[i].used && s->conns[i].local == local && s->conns[i].peer == peer)
			return &s->conns[i];
	if (!make)
		return NULL;
	struct fuzz_conn *c = &s->conns[s->next_slot++ % FUZZ_CONNS]; /* the oldest is forgotten */

	*c = (struct fuzz_conn){ .used = true, .local = local, .peer = peer };
	return c;
}

static bool fuzz_idle(const struct fuzz_vsock *s)
{
	return s->rx_first == s->rx_end && s->tx_chains == 0;
}

/* --- the guest's packets ----------------------------------------------------------------------- */

static uint32_t fuzz_port(struct fv_in *in, bool host)
{
	uint8_t b = fv_u8(in);

	if (b >= 0xf0)
		return fv_u32(in);
	if (!host)
		return 5000u + b % 8;
	return b < 0x80 ? FV_VSOCK_PORT0 + b % 2u : VSOCK_FIRST_HOST_PORT + b % 16u;
}

/*
 * The model hears what the device will: credit from any well-formed stream packet to the host. A
 * header's len may be shorter than the payload in its chain (the device takes len bytes and ignores
 * the rest), not longer.
 */
static void fuzz_learn(struct fuzz_vsock *s, const struct vsock_hdr *h, uint32_t payload)
{
	if (le64toh(h->src_cid) != FV_VSOCK_CID || le64toh(h->dst_cid) != VIRTIO_VSOCK_HOST_CID ||
	    le16toh(h->type) != VSOCK_TYPE_STREAM || le32toh(h->len) > payload)
		return;
	struct fuzz_conn *c = fuzz_conn(s, le32toh(h->dst_port), le32toh(h->src_port), true);

	c->credit_known = true;
	c->buf_alloc = le32toh(h->buf_alloc);
	c->fwd_cnt = le32toh(h->fwd_cnt);
	if (le16toh(h->op) == VSOCK_OP_RW)
		c->guest_sent += le32toh(h->len);
}

static void fuzz_packet(struct fv *f, struct fuzz_vsock *s, struct fv_in *in)
{
	uint8_t sel = fv_u8(in), b;
	struct vsock_hdr h = { .src_cid = htole64(FV_VSOCK_CID), .dst_cid = htole64(VIRTIO_VSOCK_HOST_CID),
			       .type = htole16(VSOCK_TYPE_STREAM) };
	struct fv_posted p = { .indirect = sel & 0x20 };

	if ((sel & 3) == 3)
		h.src_cid = htole64(fv_u64(in));
	if (sel & 4)
		h.dst_cid = htole64(fv_u64(in));
	if (sel & 8)
		h.type = htole16(fv_u16(in));
	uint32_t raw_len = sel & 0x40 ? fv_u32(in) : 0;

	h.src_port = htole32(fuzz_port(in, false));
	h.dst_port = htole32(fuzz_port(in, true));
	h.op = htole16(fv_u8(in));
	h.flags = htole32(fv_u8(in));
	b = fv_u8(in);
	h.buf_alloc = htole32(b < 0xf0 ? b * 64u : fv_u32(in));
	h.fwd_cnt = htole32(fv_u32(in));
	uint32_t payload = fv_u16(in) % FUZZ_MAX_PAYLOAD;

	h.len = htole32(sel & 0x40 ? raw_len : payload);
	memcpy(fuzz_pkt, &h, sizeof(h));
	for (uint32_t i = 0; i < payload; i++)
		fuzz_pkt[VSOCK_HDR_SIZE + i] = (uint8_t)(i * 7);
	uint32_t first = sel & 0x10 ? 20 : VSOCK_HDR_SIZE + payload;

	p.segs[p.n++] = (struct fv_seg){ .len = first, .data = fuzz_pkt, .data_len = first };
	if (sel & 0x10)
		p.segs[p.n++] = (struct fv_seg){ .len = VSOCK_HDR_SIZE + payload - first, .data = fuzz_pkt + first,
						 .data_len = VSOCK_HDR_SIZE + payload - first };
	if (!fv_post(f, VIRTIO_VSOCK_TXQ, &p, &s->tx_desc, fuzz_idle(s)))
		return;
	s->tx_ndesc[p.head] = (uint8_t)p.ndesc;
	s->tx_chains++;
	fuzz_learn(s, &h, payload);
	fv_kick(f, VIRTIO_VSOCK_TXQ);
}

static void fuzz_post(struct fv *f, struct fuzz_vsock *s, struct fv_in *in)
{
	uint8_t b = fv_u8(in);

	for (unsigned int i = 0; i < 1 + b % 4u; i++) {
		uint32_t len = fv_u16(in) % FUZZ_MAX_PAYLOAD;
		struct fv_posted p = { .n = 1, .segs[0] = { .len = len, .write = true } };

		if ((b & 4) && len > 20) {
			p.segs[0].len = 20;
			p.segs[p.n++] = (struct fv_seg){ .len = len - 20, .write = true };
		}
		if (s->rx_end - s->rx_first == FUZZ_QSIZE || !fv_post(f, VIRTIO_VSOCK_RXQ, &p, &s->rx_desc, fuzz_idle(s)))
			break;
		s->rx[s->rx_end++ % FUZZ_QSIZE] = p;
	}
	fv_kick(f, VIRTIO_VSOCK_RXQ);
}

/* --- what the device sent ---------------------------------------------------------------------- */

/* One packet the device put into receive chain p, used bytes long. */
static void fuzz_check_packet(struct fuzz_vsock *s, const struct fv_posted *p, const struct vsock_hdr *h,
			      uint32_t used)
{
	uint16_t op = le16toh(h->op);
	uint32_t len = le32toh(h->len);

	fv_check(le64toh(h->src_cid) == VIRTIO_VSOCK_HOST_CID && le64toh(h->dst_cid) == FV_VSOCK_CID);
	fv_check(le16toh(h->type) == VSOCK_TYPE_STREAM);
	/* A reset for a packet that matched no connection has no buffer to advertise. */
	fv_check(le32toh(h->buf_alloc) == VSOCK_BUF_ALLOC || (op == VSOCK_OP_RST && h->buf_alloc == 0));
	fv_check(op >= VSOCK_OP_REQUEST && op <= VSOCK_OP_CREDIT_UPDATE);
	fv_check(le32toh(h->flags) == (op == VSOCK_OP_SHUTDOWN ? VSOCK_SHUTDOWN_SEND : 0));
	fv_check(used == VSOCK_HDR_SIZE + len && used <= p->cap && (len == 0 || op == VSOCK_OP_RW));

	bool starts = op == VSOCK_OP_REQUEST || op == VSOCK_OP_RESPONSE;
	struct fuzz_conn *c = fuzz_conn(s, le32toh(h->src_port), le32toh(h->dst_port), starts);

	if (starts) { /* a connection (again) on these ports: its counts start at 0 */
		c->tx_cnt = c->guest_sent = 0;
		c->counted = true;
		return;
	}
	if (c == NULL || !c->counted)
		return; /* the model forgot these ports (more than FUZZ_CONNS pairs), or never knew them */
	fv_check(le32toh(h->fwd_cnt) <= c->guest_sent); /* no byte is counted the guest did not send */
	if (op != VSOCK_OP_RW)
		return;
	c->tx_cnt += len;
	fv_check(c->credit_known && c->tx_cnt - c->fwd_cnt <= c->buf_alloc); /* §5.10.6.3 */
}

static void fuzz_collect(struct fv *f, struct fuzz_vsock *s)
{
	uint16_t idx = fv_used_idx(f, VIRTIO_VSOCK_TXQ);
	uint32_t id, used;

	for (; s->tx_used != idx; s->tx_used++) {
		fv_used(f, VIRTIO_VSOCK_TXQ, s->tx_used, &id, &used);
		fv_check(used == 0 && s->tx_chains > 0 && id < FUZZ_QSIZE);
		s->tx_chains--;
		s->tx_desc -= s->tx_ndesc[id];
	}
	for (idx = fv_used_idx(f, VIRTIO_VSOCK_RXQ); s->rx_used != idx; s->rx_used++) {
		const struct fv_posted *p = &s->rx[s->rx_first++ % FUZZ_QSIZE];
		struct vsock_hdr h;

		fv_used(f, VIRTIO_VSOCK_RXQ, s->rx_used, &id, &used);
		fv_check(s->rx_first <= s->rx_end && id == p->head); /* in the order posted */
		fv_check(fv_written(f, p, sizeof(h), (uint8_t *)&h) == sizeof(h));
		fuzz_check_packet(s, p, &h, used);
		s->rx_desc -= p->ndesc;
	}
}

/* The driver resets the device (every connection goes) and sets it up again. */
static void fuzz_restart(struct fv *f, struct fuzz_vsock *s, uint64_t features)
{
	memset(s, 0, sizeof(*s));
	fv_check(fv_driver_init(f, features, FUZZ_QSIZE));
}

static void fuzz_op(struct fv *f, struct fuzz_vsock *s, struct fv_host *h, struct fv_in *in,
		    uint64_t features)
{
	switch (fv_u8(in) % 6) {
	case 0:
		fuzz_packet(f, s, in);
		break;
	case 1:
		fuzz_post(f, s, in);
		break;
	case 2:
		fv_host_event(h, in);
		fv_pump(f);
		break;
	case 3:
		fv_pump(f);
		break;
	case 4:
		fv_kick(f, fv_u8(in) % 3);
		break;
	default:
		fuzz_restart(f, s, features);
		return;
	}
	fuzz_collect(f, s);
	if (f->status & FV_NEEDS_RESET)
		fuzz_restart(f, s, features);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fv_in in = { data, len };
	struct fuzz_vsock *s = &fuzz_vs;
	struct fv *f = &fuzz_fv;
	struct fv_host h;

	if (len < 1)
		return 0;
	uint64_t features = fv_u8(&in) & 1 ? 1ull << VIRTIO_F_EVENT_IDX : 0;

	fv_begin(f);
	fv_host_create(&h, FV_VSOCK, &(struct fv_host_opts){ 0 });
	fv_attach(f, h.dev);
	fuzz_restart(f, s, features);
	while (in.len > 0)
		fuzz_op(f, s, &h, &in, features);
	fv_detach(f);
	fv_host_destroy(&h);
	fv_end(f);
	return 0;
}
