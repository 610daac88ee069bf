/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Games that know the device: requests that are well formed as chains but wrong for the device,
 * and resets while kiln's I/O thread holds receive chains, with data arriving afterwards from the
 * host side (issue 10, defect 1: a device reset behind its back pushed into a zeroed queue, and
 * kiln died of SIGSEGV). The host side acts only when the console is COM1 (host_act).
 */
#include "device_games.h"
#include "games.h"
#include "requests.h"

#define NET_HDR_LEN 12
#define NET_F_MRG_RXBUF 15
#define NET_RX_LEN (NET_HDR_LEN + 1514)
#define VSOCK_HOST_PORT_GUEST_SIDE 5000 /* the guest port the host side connects to */
#define VSOCK_DATA "hostile-vsock-01"
#define VSOCK_DATA_LEN 16

static void expect_status(const struct vdev *d, uint32_t want)
{
	uint32_t s = dev_status(d);

	check(s == want, "Status 0x%x, want 0x%x", s, want);
}

static void expect_needs_reset(const struct vdev *d)
{
	uint32_t s = status_wait(d, S_NEEDS_RESET);

	check(s & S_NEEDS_RESET, "the device needs a reset: Status 0x%x", s);
}

/* The driver drops DRIVER_OK, which is refused, then resets: what defect 1 did. */
static void drop_then_reset(const struct vdev *d)
{
	dev_set_status(d, S_UP);
	expect_status(d, S_LIVE | S_NEEDS_RESET);
	dev_set_status(d, 0);
	expect_status(d, 0);
}

/* --- virtio-rng ------------------------------------------------------------------------------------ */
static void rng_readable(struct vdev *d)
{
	const struct seg s = { 0, 16, false };
	struct vring_used_elem e;

	chain_post(d, 0, &s, 1);
	kick(d, 0);
	check(used_wait(d, 0, &e) && e.len == 0, "returned with nothing written");
	expect_status(d, S_LIVE);
}

static void rng_big_buffer(struct vdev *d)
{
	const struct seg s = { GUEST_SCRATCH, GUEST_SCRATCH_SIZE, true };
	struct vring_used_elem e;

	chain_post(d, 0, &s, 1);
	kick(d, 0);
	check(used_wait(d, 0, &e) && e.len > 0 && e.len <= s.len, "served, within the buffer");
	expect_status(d, S_LIVE);
}

/* 67584 requests, a ring's worth per kick: avail and used idx wrap past 65535 (§2.7.6, §2.7.8). */
static void rng_idx_wrap(struct vdev *d)
{
	const struct seg s = { 0, 8, true };
	const unsigned int rounds = 65536 / QSZ + 8;
	unsigned int done;

	vq_suppress_interrupts(d, 0);
	done = ring_cycle(d, 0, &s, rounds);
	check(done == rounds, "%u of %u rounds of %u requests served", done, rounds, QSZ);
	expect_status(d, S_LIVE);
}

static void rng_reset_storm(struct vdev *d)
{
	for (unsigned int i = 0; i < 32; i++) {
		dev_good_request_post_kick(d);
		dev_set_status(d, 0);
		if (!dev_activate(d, 0))
			break;
	}
	expect_status(d, S_LIVE);
	check(dev_good_request(d), "a good request is served after them");
}

/* --- virtio-blk ------------------------------------------------------------------------------------ */
static void blk_past_end(struct vdev *d)
{
	blk_post_read(d, 1ull << 40, 512);
	kick(d, 0);
	check(blk_status(d) == BLK_S_IOERR, "answered with IOERR");
	expect_status(d, S_LIVE);
}

static void blk_unknown_type(struct vdev *d)
{
	blk_post_req(d, 0x7fff, 0, NULL, 0, 512);
	kick(d, 0);
	check(blk_status(d) == BLK_S_UNSUPP, "answered with UNSUPP");
	expect_status(d, S_LIVE);
}

static void blk_get_id_no_room(struct vdev *d)
{
	blk_post_req(d, BLK_T_GET_ID, 0, NULL, 0, 0); /* the status byte is all the writable room */
	kick(d, 0);
	check(blk_status(d) == BLK_S_OK, "answered with OK");
	expect_status(d, S_LIVE);
}

/* The 16-byte header of a read of sector 0 in eight 2-byte descriptors: still a header. */
static void blk_split_header(struct vdev *d)
{
	struct seg s[10];
	uint8_t hdr[16] = { 0 }; /* type IN, sector 0 */
	struct vring_used_elem e;
	uint16_t head;

	for (unsigned int i = 0; i < 8; i++) {
		memcpy(next_buf(d, 0, i), hdr + 2 * i, 2);
		s[i] = (struct seg){ 0, 2, false };
	}
	s[8] = (struct seg){ 0, 512, true };
	s[9] = (struct seg){ 0, 1, true };
	head = chain_post(d, 0, s, ARRAY_SIZE(s));
	kick(d, 0);
	check(used_wait(d, 0, &e) && *(const uint8_t *)vq_buf(d, 0, head + 9u) == BLK_S_OK &&
		      memcmp((const void *)vq_buf(d, 0, head + 8u), DISK_MAGIC, sizeof(DISK_MAGIC) - 1) == 0,
	      "sector 0 is read");
}

/* One segment (§5.2.6: sector, num_sectors, flags), refused: past the end, or a flag it may not have. */
static void blk_segment(struct vdev *d, uint32_t type, uint64_t sector, uint32_t flags, int want)
{
	const struct { uint64_t sector; uint32_t num_sectors, flags; } seg = { sector, 8, flags };

	blk_post_req(d, type, 0, &seg, sizeof(seg), 0);
	kick(d, 0);
	check(blk_status(d) == want, "answered with status %d", want);
	expect_status(d, S_LIVE);
}

static void blk_discard_refused(struct vdev *d)
{
	if (!check(dev_activate(d, (1u << BLK_F_DISCARD) | (1u << BLK_F_WRITE_ZEROES)),
		   "activated with DISCARD and WRITE_ZEROES"))
		return;
	blk_segment(d, BLK_T_WRITE_ZEROES, 1ull << 40, 0, BLK_S_IOERR);
	blk_segment(d, BLK_T_DISCARD, 0, 1 /* UNMAP: for WRITE_ZEROES only */, BLK_S_UNSUPP);
	blk_segment(d, BLK_T_WRITE_ZEROES, 0, 0x80000000u /* no such flag */, BLK_S_UNSUPP);
}

static void blk_no_status_byte(struct vdev *d)
{
	const struct seg s = { 0, 16, false }; /* a header (zeroes: a read of sector 0), nothing else */

	memset(next_buf(d, 0, 0), 0, 16);
	chain_post(d, 0, &s, 1);
	kick(d, 0);
	expect_needs_reset(d);
}

/* --- virtio-vsock ---------------------------------------------------------------------------------- */
static void vsock_len_beyond_chain(struct vdev *d)
{
	struct vsock_hdr h = vsock_hdr(d, 50001, VSOCK_NOBODY_PORT, VSOCK_OP_RW);

	h.len = 100;
	vsock_post_tx(d, &h, NULL, 0);
	kick(d, VSOCK_TXQ);
	expect_needs_reset(d);
}

static void vsock_short_header(struct vdev *d)
{
	const struct seg s = { 0, 20, false };

	memset(next_buf(d, VSOCK_TXQ, 0), 0, 20);
	chain_post(d, VSOCK_TXQ, &s, 1);
	kick(d, VSOCK_TXQ);
	expect_needs_reset(d);
}

static void vsock_tiny_rx_buffer(struct vdev *d)
{
	const struct seg s = { 0, 8, true };
	const struct vsock_hdr h = vsock_hdr(d, 50002, VSOCK_NOBODY_PORT, VSOCK_OP_REQUEST);

	chain_post(d, VSOCK_RXQ, &s, 1);
	vsock_post_tx(d, &h, NULL, 0); /* its answer, a reset, needs that receive buffer */
	kick(d, VSOCK_TXQ);
	expect_needs_reset(d);
}

static void vsock_wrong_cid(struct vdev *d)
{
	struct vsock_hdr h = vsock_hdr(d, 50003, VSOCK_NOBODY_PORT, VSOCK_OP_REQUEST);
	struct vring_used_elem e;

	h.src_cid = 99;
	vsock_post_tx(d, &h, NULL, 0);
	kick(d, VSOCK_TXQ);
	check(used_wait(d, VSOCK_TXQ, &e), "dropped and returned");
	expect_status(d, S_LIVE);
	check(dev_good_request(d), "a good request is served after it");
}

/*
 * The host connects and sends; kiln then holds a receive chain for the connection's next data.
 * The driver drops DRIVER_OK and resets, and the host sends again: kiln must have reset the device
 * (dropping the connection), not push into the queue the reset cleared.
 */
static void vsock_reset_holding_rx(struct vdev *d)
{
	struct vring_used_elem e;
	const struct vsock_hdr *h;
	struct vsock_hdr resp;

	vsock_post_rx(d, 4);
	host_act("vsock-connect %u", VSOCK_HOST_PORT_GUEST_SIDE);
	h = vsock_rx_wait(d, &e);
	if (!check(h != NULL && h->op == VSOCK_OP_REQUEST && h->dst_port == VSOCK_HOST_PORT_GUEST_SIDE,
		   "the host's connection request arrives"))
		return;
	resp = vsock_hdr(d, VSOCK_HOST_PORT_GUEST_SIDE, h->src_port, VSOCK_OP_RESPONSE);
	vsock_post_tx(d, &resp, NULL, 0);
	kick(d, VSOCK_TXQ);
	check(used_wait(d, VSOCK_TXQ, &e), "the guest's response is taken");
	host_act("vsock-send %s", VSOCK_DATA);
	h = vsock_rx_wait(d, &e);
	check(h != NULL && h->op == VSOCK_OP_RW && h->len == VSOCK_DATA_LEN &&
		      memcmp(h + 1, VSOCK_DATA, VSOCK_DATA_LEN) == 0,
	      "the host's data arrives");
	drop_then_reset(d);
	host_act("vsock-send %s", VSOCK_DATA);
	host_act("vsock-expect-eof");
}

/* --- virtio-net ------------------------------------------------------------------------------------ */
static void net_short_tx(struct vdev *d)
{
	const struct seg s = { 0, 4, false };

	chain_post(d, NET_TXQ, &s, 1);
	kick(d, NET_TXQ);
	expect_needs_reset(d);
}

/* A vnet header (§5.1.6) asking for checksum and segmentation offloads that make no sense. */
static void net_nonsense_header(struct vdev *d)
{
	static const uint8_t hdr[NET_HDR_LEN] = {
		1,          /* flags: NEEDS_CSUM */
		1,          /* gso_type: TCPV4 */
		0xff, 0xff, /* hdr_len */
		1, 0,       /* gso_size */
		0xf0, 0xff, /* csum_start */
		0xf0, 0xff, /* csum_offset */
	};
	struct vring_used_elem e;

	net_post_tx(d);
	memcpy((void *)vq_buf(d, NET_TXQ, d->good_head), hdr, sizeof(hdr));
	kick(d, NET_TXQ);
	check(used_wait(d, NET_TXQ, &e), "the frame is returned (sent or dropped)");
	expect_status(d, S_LIVE);
}

static void net_post_rx(struct vdev *d, uint32_t len, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		const struct seg s = { 0, len, true };

		chain_post(d, NET_RXQ, &s, 1);
	}
	kick(d, NET_RXQ);
}

/* As vsock_reset_holding_rx, with a frame from the tap: after the first, kiln holds the next chain. */
static void net_reset_holding_rx(struct vdev *d)
{
	struct vring_used_elem e;

	net_post_rx(d, NET_RX_LEN, 2);
	host_act("net-send");
	check(used_wait(d, NET_RXQ, &e) && e.len > NET_HDR_LEN, "a frame from the tap arrives");
	drop_then_reset(d);
	host_act("net-send");
}

/*
 * MRG_RXBUF (§5.1.6.3.1) with half the ring in receive buffers of 12 bytes, a header's worth, the
 * other half large enough for kiln to start (it waits for room for a 64 KiB frame): each frame is
 * spread over several small buffers. Then a reset while kiln holds the rest.
 */
static void net_mergeable_small_buffers(struct vdev *d)
{
	struct vring_used_elem e;
	uint32_t bytes = 0;

	if (!check(dev_activate(d, 1u << NET_F_MRG_RXBUF), "activated with MRG_RXBUF"))
		return;
	net_post_rx(d, NET_HDR_LEN, QSZ / 2);
	net_post_rx(d, BUF_SIZE, QSZ / 2); /* the descriptors share NBUF buffers: frames are not read */
	host_act("net-send");
	while (bytes < NET_HDR_LEN + 14 + 20 + 8 && used_wait(d, NET_RXQ, &e))
		bytes += e.len;
	check(bytes >= NET_HDR_LEN + 14 + 20 + 8, "a UDP frame arrives across buffers: %u bytes", bytes);
	expect_status(d, S_LIVE);
	host_act("net-send");
	drop_then_reset(d);
	host_act("net-send");
}

static void net_tiny_rx_buffer(struct vdev *d)
{
	net_post_rx(d, 8, 1);
	host_act("net-send");
	expect_needs_reset(d);
}

/* --- virtio-console -------------------------------------------------------------------------------- */
static void console_post_rx(struct vdev *d, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		const struct seg s = { 0, 16, true };

		chain_post(d, CONSOLE_RXQ, &s, 1);
	}
	kick(d, CONSOLE_RXQ);
}

/* Receive buffers in the ring before DRIVER_OK: the device may fill them at once. */
static void console_rx_before_driver_ok(struct vdev *d)
{
	const struct seg s = { 0, 16, true };
	struct vring_used_elem e;

	if (!check(dev_up(d, 0) == S_UP, "FEATURES_OK"))
		return;
	chain_post(d, CONSOLE_RXQ, &s, 1);
	dev_set_status(d, S_LIVE);
	expect_status(d, S_LIVE);
	check(used_wait(d, CONSOLE_RXQ, &e) && e.len > 0, "console input arrives");
}

/* MULTIPORT control messages (§5.3.6.2) that make no sense: ignored; only a broken ring would count. */
static void console_post_ctrl(struct vdev *d, uint32_t id, uint16_t event, uint16_t value, uint32_t len)
{
	const struct seg s = { 0, len, false };
	uint8_t *msg = next_buf(d, CONSOLE_CTRL_TXQ, 0);

	memcpy(msg, &id, 4);
	memcpy(msg + 4, &event, 2);
	memcpy(msg + 6, &value, 2);
	chain_post(d, CONSOLE_CTRL_TXQ, &s, 1);
}

static void console_ctrl_nonsense(struct vdev *d)
{
	static const uint32_t rx_len[] = { 4, 8, 8, 8, 8, 8 }; /* the first too small for a message */
	static const struct { uint32_t id; uint16_t event, value; uint32_t len; } msgs[] = {
		{ 0, CONSOLE_DEVICE_READY, 1, 2 }, /* too short */
		{ 0, 99, 1, 8 },                   /* no such event */
		{ 0, CONSOLE_RESIZE, 1, 8 },       /* the device's to send, not the driver's */
		{ 7, CONSOLE_PORT_READY, 1, 8 },   /* no port 7 */
		{ 0, CONSOLE_PORT_OPEN, 1, 8 },    /* before the port is ready */
		{ 0, CONSOLE_DEVICE_READY, 1, 8 },
		{ 0, CONSOLE_DEVICE_READY, 1, 8 }, /* again */
		{ 0, CONSOLE_PORT_READY, 1, 8 },
	};
	struct vring_used_elem e;
	bool added = false;
	unsigned int i;

	if (!check(dev_activate(d, 1u << CONSOLE_F_MULTIPORT), "activated with MULTIPORT"))
		return;
	for (i = 0; i < ARRAY_SIZE(rx_len); i++) {
		const struct seg s = { 0, rx_len[i], true };

		chain_post(d, CONSOLE_CTRL_RXQ, &s, 1);
	}
	for (i = 0; i < ARRAY_SIZE(msgs); i++)
		console_post_ctrl(d, msgs[i].id, msgs[i].event, msgs[i].value, msgs[i].len);
	kick(d, CONSOLE_CTRL_TXQ);
	for (i = 0; i < ARRAY_SIZE(msgs) && used_wait(d, CONSOLE_CTRL_TXQ, &e); i++)
		;
	check(i == ARRAY_SIZE(msgs), "every control message is returned");
	expect_status(d, S_LIVE);
	check(used_wait(d, CONSOLE_CTRL_RXQ, &e) && e.len == 0, "the short control buffer comes back empty");
	for (i = 1; i < ARRAY_SIZE(rx_len) && !added && used_wait(d, CONSOLE_CTRL_RXQ, &e); i++)
		added = e.len == 8 && ((const uint16_t *)vq_buf(d, CONSOLE_CTRL_RXQ, e.id))[2] == CONSOLE_DEVICE_ADD;
	check(added, "DEVICE_ADD answers DEVICE_READY");
	drop_then_reset(d); /* with replies still owed */
}

/* The host side keeps console input waiting: a reset with receive buffers posted, input flowing. */
static void console_reset_with_input(struct vdev *d)
{
	struct vring_used_elem e;

	console_post_rx(d, 2);
	check(used_wait(d, CONSOLE_RXQ, &e) && e.len > 0, "console input arrives");
	console_post_rx(d, 4);
	drop_then_reset(d);
	check(dev_activate(d, 0), "activated again");
	console_post_rx(d, 1);
	check(used_wait(d, CONSOLE_RXQ, &e) && e.len > 0, "console input still arrives");
}

struct device_game {
	uint32_t id;
	bool needs_host;
	bool activates; /* the game sets the device up itself */
	const char *name;
	void (*game)(struct vdev *d);
};

static void play(struct vdev *d, const struct device_game *g)
{
	check_context(d->kind->name, g->name);
	if (g->activates || check(dev_activate(d, 0), "activated"))
		g->game(d);
	game_recover(d, g->name);
}

static const struct device_game device_games[] = {
	{ DEV_ID_RNG, false, false, "a request with a readable buffer", rng_readable },
	{ DEV_ID_RNG, false, false, "a 1 MiB writable buffer", rng_big_buffer },
	{ DEV_ID_RNG, false, false, "avail and used idx past 65535", rng_idx_wrap },
	{ DEV_ID_RNG, false, false, "32 kicks, each followed by a reset", rng_reset_storm },
	{ DEV_ID_BLK, false, false, "a read past the disk's end", blk_past_end },
	{ DEV_ID_BLK, false, false, "a request without a status byte", blk_no_status_byte },
	{ DEV_ID_BLK, false, false, "an unknown request type", blk_unknown_type },
	{ DEV_ID_BLK, false, false, "GET_ID with no room but the status byte", blk_get_id_no_room },
	{ DEV_ID_BLK, false, false, "a header in eight descriptors", blk_split_header },
	{ DEV_ID_BLK, false, true, "DISCARD and WRITE_ZEROES segments refused", blk_discard_refused },
	{ DEV_ID_VSOCK, false, false, "a packet longer than its chain", vsock_len_beyond_chain },
	{ DEV_ID_VSOCK, false, false, "a chain shorter than a packet header", vsock_short_header },
	{ DEV_ID_VSOCK, false, false, "a receive buffer shorter than a packet header", vsock_tiny_rx_buffer },
	{ DEV_ID_VSOCK, false, false, "a packet from another CID", vsock_wrong_cid },
	{ DEV_ID_VSOCK, true, false, "reset holding a receive chain, then host data", vsock_reset_holding_rx },
	{ DEV_ID_NET, false, false, "a transmit chain shorter than the header", net_short_tx },
	{ DEV_ID_NET, false, false, "a frame with a nonsense vnet header", net_nonsense_header },
	{ DEV_ID_NET, true, false, "reset holding a receive chain, then a frame", net_reset_holding_rx },
	{ DEV_ID_NET, true, true, "MRG_RXBUF, frames spread over 12-byte buffers", net_mergeable_small_buffers },
	{ DEV_ID_NET, true, false, "a receive buffer shorter than the header", net_tiny_rx_buffer },
	{ DEV_ID_CONSOLE, false, true, "receive buffers posted before DRIVER_OK", console_rx_before_driver_ok },
	{ DEV_ID_CONSOLE, false, true, "MULTIPORT control messages that make no sense", console_ctrl_nonsense },
	{ DEV_ID_CONSOLE, false, false, "reset with receive buffers and input waiting", console_reset_with_input },
};

void device_games_run(struct vdev *d)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(device_games); i++) {
		const struct device_game *g = &device_games[i];

		if (g->id != d->kind->id)
			continue;
		if (g->needs_host && !host_can_act()) {
			gprintf("# %s: %s: skipped, the host side cannot act with a virtio console\n",
				d->kind->name, g->name);
			continue;
		}
		play(d, g);
	}
}
