/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio/net.c (virtio 1.2 §5.1) and io/tap.c: a SOCK_DGRAM socketpair plays the tap (one datagram
 * per frame, the 12-byte vnet header first, as a tap with IFF_VNET_HDR reads and writes); the
 * test drives the I/O loop by hand, dispatching whatever epoll reports to its handler.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/loop.h"
#include "io/tap.h"
#include "support/fake_transport.h"
#include "support/virtq_builder.h"
#include "virtio/net.h"

#define RAM_SIZE KiB(512)
#define QSIZE 64
#define HDR sizeof(struct virtio_net_hdr)
#define MTU 1500
#define MRG_BUF 2048 /* 33 of them hold the 65562 bytes a merged receive waits for */

static const uint8_t test_mac[6] = { 0x02, 0x00, 0x00, 0x4b, 0x49, 0x4c };

struct fx {
	int host;   /* the host's end of the "tap" */
	int dev_fd; /* the device's end, which it owns */
	struct io_loop loop;
	struct virtio_net *net;
	struct virtio_dev *dev;
	struct virtq_builder rx, tx;
	struct fake_transport t;
};

/* A device on a socketpair, activated with the offered features less `without`. */
static int start(void **state, uint64_t without)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (f == NULL || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	f->host = sv[1];
	f->dev_fd = sv[0];
	if (io_loop_init(&f->loop) < 0 || virtio_net_create_on_fd(sv[0], 0, test_mac, MTU, 0, &f->net) < 0)
		return -1;
	f->dev = virtio_net_dev(f->net);
	f->dev->driver_features = f->dev->device_features & ~without;
	bool event_idx = virtio_has_feature(f->dev, VIRTIO_F_EVENT_IDX);

	vqb_init(&f->rx, QSIZE, RAM_SIZE);
	vqb_init(&f->tx, QSIZE, RAM_SIZE);
	f->dev->mem = &f->rx.mem;
	f->dev->io = &f->loop;
	if (vqb_queue(&f->rx, &f->dev->queues[VIRTIO_NET_RXQ], event_idx) != 0 ||
	    vqb_queue(&f->tx, &f->dev->queues[VIRTIO_NET_TXQ], event_idx) != 0)
		return -1;
	fake_transport_attach(&f->t, f->dev);
	if (f->dev->ops->activate(f->dev) != 0)
		return -1;
	*state = f;
	return 0;
}

/* Everything offered: MRG_RXBUF, EVENT_IDX, MTU. */
static int setup_mrg(void **state)
{
	return start(state, 0);
}

/* One chain per frame, no EVENT_IDX, no MTU check. */
static int setup_plain(void **state)
{
	return start(state, (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_F_EVENT_IDX) |
				    (1ull << VIRTIO_NET_F_MTU));
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_net_destroy(f->net);
	io_loop_destroy(&f->loop);
	vqb_free(&f->rx);
	vqb_free(&f->tx);
	close(f->host);
	free(f);
	return 0;
}

/* One round of the I/O loop, by hand: dispatches what epoll reports now; returns how many. */
static int pump(struct fx *f)
{
	struct epoll_event ev[4];
	int n = epoll_wait(f->loop.epoll_fd, ev, 4, 0);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		struct ev_handler *h = ev[i].data.ptr;

		assert_non_null(h);
		h->ready(h, ev[i].events);
	}
	return n;
}

/* A frame of len bytes after the header: byte i is seed + i. */
static void fill_frame(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i);
}

/* The host sends a header (gso_type, num_buffers 0xffff: the tap leaves it alone) and a frame. */
static void host_sends(struct fx *f, size_t frame_len, uint8_t gso_type, uint8_t seed)
{
	uint8_t *buf = malloc(HDR + frame_len);
	struct virtio_net_hdr h = { .gso_type = gso_type, .num_buffers = 0xffff };

	assert_non_null(buf);
	memcpy(buf, &h, HDR);
	fill_frame(buf + HDR, frame_len, seed);
	assert_int_equal(send(f->host, buf, HDR + frame_len, 0), (ssize_t)(HDR + frame_len));
	free(buf);
}

/* The guest posts count receive chains of one writable buffer each; returns the first's address. */
static gpa_t post_rx(struct fx *f, unsigned int count, uint32_t size)
{
	gpa_t first = 0;

	for (unsigned int i = 0; i < count; i++) {
		gpa_t buf = vqb_alloc(&f->rx, size);
		struct vqb_seg seg = { buf, size, true };

		first = i == 0 ? buf : first;
		vqb_publish(&f->rx, vqb_chain(&f->rx, &seg, 1));
	}
	return first;
}

static uint16_t num_buffers_at(struct fx *f, gpa_t buf)
{
	struct virtio_net_hdr h;

	memcpy(&h, vqb_host(&f->rx, buf), HDR);
	return le16toh(h.num_buffers);
}

/* The guest queues a frame of len bytes (pattern seed) for transmission, header in its own buffer. */
static void guest_queues_frame(struct fx *f, size_t len, uint8_t seed)
{
	gpa_t hdr = vqb_alloc(&f->tx, HDR);
	gpa_t data = vqb_alloc(&f->tx, len);
	struct vqb_seg segs[] = { { hdr, HDR, false }, { data, (uint32_t)len, false } };
	struct virtio_net_hdr h = { .flags = 1, .csum_start = htole16(34), .csum_offset = htole16(16) };

	memcpy(vqb_host(&f->tx, hdr), &h, HDR);
	fill_frame(vqb_host(&f->tx, data), len, seed);
	vqb_publish(&f->tx, vqb_chain(&f->tx, segs, 2));
}

/* --- transmit ---------------------------------------------------------------------------------- */

static void tx_frame_reaches_the_tap_with_its_header(void **state)
{
	struct fx *f = *state;
	uint8_t got[256], want[HDR + 60];
	struct virtio_net_hdr h = { .flags = 1, .csum_start = htole16(34), .csum_offset = htole16(16) };

	guest_queues_frame(f, 60, 7);
	f->dev->ops->queue_notify(f->dev, VIRTIO_NET_TXQ);
	memcpy(want, &h, HDR);
	fill_frame(want + HDR, 60, 7);
	/* The tap takes the header too (IFF_VNET_HDR): one datagram, header then frame. */
	assert_int_equal(recv(f->host, got, sizeof(got), MSG_DONTWAIT), sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(vqb_used_idx(&f->tx), 1);
	assert_int_equal(vqb_used(&f->tx, 0).len, 0);
	assert_int_equal(f->t.used[VIRTIO_NET_TXQ], 1);
	assert_int_equal(f->t.needs_reset, 0);
	/* Metrics: one frame of 60 bytes out, the header not counted. */
	assert_int_equal(f->dev->stats.requests, 1);
	assert_int_equal(f->dev->stats.bytes_from_guest, 60);
	assert_int_equal(f->dev->stats.errors, 0);
}

/* After a drain the driver is asked to kick on its next chain (§2.7.10), with and without EVENT_IDX. */
static void tx_drain_asks_for_the_next_kick(void **state)
{
	struct fx *f = *state;
	bool event_idx = virtio_has_feature(f->dev, VIRTIO_F_EVENT_IDX);
	uint8_t got[256];

	for (uint16_t i = 1; i <= 3; i++) {
		guest_queues_frame(f, 60, (uint8_t)i);
		f->dev->ops->queue_notify(f->dev, VIRTIO_NET_TXQ);
		assert_int_equal(recv(f->host, got, sizeof(got), MSG_DONTWAIT), HDR + 60);
		assert_int_equal(vqb_used_idx(&f->tx), i);
		if (event_idx)
			assert_int_equal(vqb_avail_event(&f->tx), i);
		else
			assert_int_equal(vqb_used_flags(&f->tx) & VIRTQ_USED_F_NO_NOTIFY, 0);
	}
}

/* A full tap: the chain waits (never dropped), EPOLLOUT resumes the queue without another kick. */
static void tx_waits_for_a_full_tap(void **state)
{
	struct fx *f = *state;
	int small = 4096;
	unsigned int sent = 0;
	uint8_t got[2048];
	const unsigned int frames = 30; /* two descriptors each: the ring never wraps onto a waiting one */

	assert_int_equal(setsockopt(f->dev_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	for (unsigned int i = 0; i < frames; i++)
		guest_queues_frame(f, 1000, (uint8_t)i);
	f->dev->ops->queue_notify(f->dev, VIRTIO_NET_TXQ);
	assert_true(vqb_used_idx(&f->tx) < frames); /* the socket filled up */
	for (int rounds = 0; sent < frames && rounds < 1000; rounds++) {
		ssize_t r;

		while ((r = recv(f->host, got, sizeof(got), MSG_DONTWAIT)) > 0) {
			uint8_t want[1000];

			assert_int_equal(r, HDR + 1000);
			fill_frame(want, sizeof(want), (uint8_t)sent);
			assert_memory_equal(got + HDR, want, sizeof(want)); /* in order, none lost */
			sent++;
		}
		pump(f);
	}
	assert_int_equal(sent, frames);
	assert_int_equal(vqb_used_idx(&f->tx), frames);
	assert_int_equal(pump(f), 0); /* writable again: the tap left the loop */
	assert_int_equal(f->t.needs_reset, 0);
}

static void tx_chain_without_header_needs_reset(void **state)
{
	struct fx *f = *state;
	uint8_t got[64];
	gpa_t b = vqb_alloc(&f->tx, 8);
	struct vqb_seg seg = { b, 8, false };

	vqb_publish(&f->tx, vqb_chain(&f->tx, &seg, 1));
	f->dev->ops->queue_notify(f->dev, VIRTIO_NET_TXQ);
	assert_int_equal(f->t.needs_reset, 1);
	assert_true(f->dev->queues[VIRTIO_NET_TXQ].broken);
	assert_int_equal(vqb_used_idx(&f->tx), 0);
	assert_int_equal(recv(f->host, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

static void tx_looping_chain_needs_reset(void **state)
{
	struct fx *f = *state;
	gpa_t b = vqb_alloc(&f->tx, 64);

	vqb_set_desc(&f->tx, 0, b, 64, VIRTQ_DESC_F_NEXT, 0); /* its own next */
	vqb_publish(&f->tx, 0);
	f->dev->ops->queue_notify(f->dev, VIRTIO_NET_TXQ);
	assert_int_equal(f->t.needs_reset, 1);
	assert_int_equal(vqb_used_idx(&f->tx), 0);
}

/* --- receive ----------------------------------------------------------------------------------- */

/* Without MRG_RXBUF: one chain per frame (here header and data in two buffers), num_buffers 1. */
static void rx_frame_lands_in_one_chain(void **state)
{
	struct fx *f = *state;
	gpa_t buf = vqb_alloc(&f->rx, HDR + 1514);
	struct vqb_seg segs[] = { { buf, HDR, true }, { buf + HDR, 1514, true } };
	uint8_t want[100];

	vqb_publish(&f->rx, vqb_chain(&f->rx, segs, 2));
	host_sends(f, 100, VIRTIO_NET_HDR_GSO_NONE, 3);
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 1);
	assert_int_equal(vqb_used(&f->rx, 0).len, HDR + 100);
	assert_int_equal(num_buffers_at(f, buf), 1);
	fill_frame(want, sizeof(want), 3);
	assert_memory_equal(vqb_host(&f->rx, buf + HDR), want, sizeof(want));
	assert_int_equal(f->t.used[VIRTIO_NET_RXQ], 1);
}

/* With MRG_RXBUF: a short frame takes one buffer; the next frame the next one. */
static void rx_merged_short_frames(void **state)
{
	struct fx *f = *state;
	gpa_t first = post_rx(f, 40, MRG_BUF);

	host_sends(f, 1000, VIRTIO_NET_HDR_GSO_NONE, 1);
	host_sends(f, 60, VIRTIO_NET_HDR_GSO_NONE, 2);
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 2);
	assert_int_equal(vqb_used(&f->rx, 0).len, HDR + 1000);
	assert_int_equal(vqb_used(&f->rx, 1).len, HDR + 60);
	assert_int_equal(num_buffers_at(f, first), 1);
	assert_int_equal(num_buffers_at(f, first + MRG_BUF), 1);
	assert_int_equal(f->t.used[VIRTIO_NET_RXQ], 1); /* one interrupt for the batch */
}

/* A frame longer than a buffer spans several; num_buffers says how many, bytes are contiguous. */
static void rx_merged_frame_spans_buffers(void **state)
{
	struct fx *f = *state;
	gpa_t first = post_rx(f, 40, MRG_BUF);
	const size_t len = 5000;
	uint8_t *want = malloc(len), *got = malloc(HDR + len);

	assert_non_null(want);
	assert_non_null(got);
	host_sends(f, len, 1 /* GSO_TCPV4 */, 9);
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 3);
	assert_int_equal(vqb_used(&f->rx, 0).len, MRG_BUF);
	assert_int_equal(vqb_used(&f->rx, 1).len, MRG_BUF);
	assert_int_equal(vqb_used(&f->rx, 2).len, HDR + len - 2 * MRG_BUF);
	assert_int_equal(num_buffers_at(f, first), 3);
	for (int i = 0; i < 3; i++) /* post_rx's buffers are adjacent in guest RAM */
		memcpy(got + i * MRG_BUF, vqb_host(&f->rx, first + (gpa_t)i * MRG_BUF),
		       i < 2 ? MRG_BUF : HDR + len - 2 * MRG_BUF);
	fill_frame(want, len, 9);
	assert_memory_equal(got + HDR, want, len);
	free(want);
	free(got);
}

/* Without enough buffers the frame stays in the tap, the tap leaves the loop; a kick resumes. */
static void rx_backpressure_until_kick(void **state)
{
	struct fx *f = *state;
	gpa_t first = post_rx(f, 10, MRG_BUF); /* 20 KiB: less than a GSO frame may need */

	host_sends(f, 300, VIRTIO_NET_HDR_GSO_NONE, 5);
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 0);
	assert_int_equal(vqb_avail_event(&f->rx), 10); /* EVENT_IDX: kick me on your next buffer */
	assert_int_equal(pump(f), 0);                  /* the frame waits; nothing spins */

	post_rx(f, 30, MRG_BUF);
	f->dev->ops->queue_notify(f->dev, VIRTIO_NET_RXQ);
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 1);
	assert_int_equal(vqb_used(&f->rx, 0).len, HDR + 300);
	assert_int_equal(num_buffers_at(f, first), 1);
	assert_int_equal(f->t.needs_reset, 0);
}

/* Without MRG_RXBUF: an empty ring holds the frame back until the guest posts and kicks. */
static void rx_waits_for_a_chain(void **state)
{
	struct fx *f = *state;

	host_sends(f, 80, VIRTIO_NET_HDR_GSO_NONE, 4);
	assert_int_equal(pump(f), 1);
	assert_int_equal(pump(f), 0);
	gpa_t buf = post_rx(f, 1, 1526);

	f->dev->ops->queue_notify(f->dev, VIRTIO_NET_RXQ);
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 1);
	assert_int_equal(num_buffers_at(f, buf), 1);
}

/* §5.1.4.1: with MTU negotiated, a plain frame beyond it is dropped; GSO frames and runts aside. */
static void rx_mtu_and_runts(void **state)
{
	struct fx *f = *state;
	gpa_t first = post_rx(f, 40, MRG_BUF);

	host_sends(f, MTU + 14 + 4 + 1, VIRTIO_NET_HDR_GSO_NONE, 1); /* too long */
	host_sends(f, 10, VIRTIO_NET_HDR_GSO_NONE, 1);               /* shorter than an Ethernet header */
	host_sends(f, MTU + 14, VIRTIO_NET_HDR_GSO_NONE, 2);         /* the longest that fits */
	host_sends(f, 3000, 1 /* GSO_TCPV4 */, 3);                    /* segmented later: any length */
	assert_int_equal(pump(f), 1);
	assert_int_equal(vqb_used_idx(&f->rx), 3);
	assert_int_equal(vqb_used(&f->rx, 0).len, HDR + MTU + 14);
	assert_int_equal(vqb_used(&f->rx, 0).id, 0); /* the dropped frames' buffers took the next one */
	assert_int_equal(num_buffers_at(f, first), 1);
	assert_int_equal(num_buffers_at(f, first + MRG_BUF), 2);
	/* Metrics: four frames read, two dropped, the bytes of the two delivered. */
	assert_int_equal(f->dev->stats.requests, 4);
	assert_int_equal(f->dev->stats.errors, 2);
	assert_int_equal(f->dev->stats.bytes_to_guest, MTU + 14 + 3000);
}

static void rx_buffer_without_room_for_header_needs_reset(void **state)
{
	struct fx *f = *state;

	post_rx(f, 1, 8);
	host_sends(f, 60, VIRTIO_NET_HDR_GSO_NONE, 0);
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->t.needs_reset, 1);
	assert_true(f->dev->queues[VIRTIO_NET_RXQ].broken);
	assert_int_equal(vqb_used_idx(&f->rx), 0);
}

/* Once the receiveq broke, the frames left in the tap do not wake the I/O loop (no busy loop). */
static void rx_broken_queue_leaves_the_loop(void **state)
{
	struct fx *f = *state;

	post_rx(f, 1, 8);
	host_sends(f, 60, VIRTIO_NET_HDR_GSO_NONE, 0);
	host_sends(f, 60, VIRTIO_NET_HDR_GSO_NONE, 1);
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->t.needs_reset, 1);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->t.needs_reset, 1);
}

static void reset_stops_receiving(void **state)
{
	struct fx *f = *state;

	post_rx(f, 40, MRG_BUF);
	f->dev->ops->reset(f->dev);
	host_sends(f, 60, VIRTIO_NET_HDR_GSO_NONE, 0);
	assert_int_equal(pump(f), 0);
	assert_int_equal(vqb_used_idx(&f->rx), 0);
	f->dev->ops->queue_notify(f->dev, VIRTIO_NET_RXQ); /* a stray kick after reset does nothing */
	assert_int_equal(pump(f), 0);
}

/* --- config, features, MAC, tap ---------------------------------------------------------------- */

static void config_space_and_features(void **state)
{
	struct fx *f = *state;
	struct virtio_net_config c;
	uint16_t status = 0;
	uint64_t feat = f->dev->device_features;

	f->dev->ops->config_read(f->dev, 0, &c, sizeof(c));
	assert_memory_equal(c.mac, test_mac, 6);
	assert_int_equal(le16toh(c.status), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(le16toh(c.max_virtqueue_pairs), 1);
	assert_int_equal(le16toh(c.mtu), MTU);
	f->dev->ops->config_read(f->dev, 6, &status, 2);
	assert_int_equal(le16toh(status), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(f->dev->device_id, VIRTIO_ID_NET);
	assert_int_equal(f->dev->num_queues, 2);
	for (unsigned int bit = 0; bit < 64; bit++) {
		bool want = bit == VIRTIO_NET_F_MAC || bit == VIRTIO_NET_F_STATUS || bit == VIRTIO_NET_F_MTU ||
			    bit == VIRTIO_NET_F_MRG_RXBUF || bit == VIRTIO_F_INDIRECT_DESC || bit == VIRTIO_F_EVENT_IDX;

		assert_int_equal((feat >> bit) & 1, want); /* a socket takes no offloads: none offered */
	}
}

/* Offloads the tap takes are offered both ways; without CSUM none, as they all need it (§5.1.3.1). */
static void offloads_become_features(void **state)
{
	static const struct {
		unsigned int tun;
		uint64_t want;
	} cases[] = {
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO, 0x7f83 },
		{ TUN_F_CSUM, (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) },
		{ TUN_F_TSO4, 0 },
	};
	const uint64_t offload_bits = 0x7f83; /* CSUM, GUEST_CSUM, GUEST_TSO4 .. HOST_UFO */

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct virtio_net *n;
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
		assert_int_equal(virtio_net_create_on_fd(sv[0], cases[i].tun, test_mac, MTU, 1, &n), 0);
		assert_int_equal(virtio_net_dev(n)->device_features & offload_bits, cases[i].want);
		assert_string_equal(virtio_net_dev(n)->name, "virtio-net1");
		virtio_net_destroy(n);
		close(sv[1]);
	}
}

static void default_mac_is_stable_local_unicast(void **state)
{
	uint8_t a[6], b[6], c[6];
	static const uint8_t tap0[6] = { 0x02, 0x16, 0xd0, 0xac, 0x07, 0xef };

	(void)state;
	virtio_net_default_mac("tap0", a);
	virtio_net_default_mac("tap0", b);
	virtio_net_default_mac("tap1", c);
	assert_memory_equal(a, b, 6);
	assert_memory_equal(a, tap0, 6); /* documented: 02 + FNV-1a-64("tap0"), low byte first */
	assert_memory_not_equal(a, c, 6);
	assert_int_equal(c[0], 0x02);
}

static void tap_open_refuses_a_missing_tap(void **state)
{
	char err[256] = "";
	unsigned int offloads = 0;
	int fd = -1;

	(void)state;
	assert_int_equal(tap_open("kiln-nosuch0", &fd, &offloads, err, sizeof(err)), -ENODEV);
	assert_string_equal(err, "tap kiln-nosuch0: no such device (create it with `ip tuntap add kiln-nosuch0 "
				 "mode tap`)");
	assert_int_equal(fd, -1);
	assert_int_equal(tap_open("a-name-of-16-byt", &fd, &offloads, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 15 bytes"));
}

static void create_names_the_missing_tap(void **state)
{
	struct kiln_net cfg = { .tap = "kiln-nosuch1" };
	struct virtio_net *n = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(virtio_net_create(&cfg, 0, &n, err, sizeof(err)), -ENODEV);
	assert_null(n);
	assert_non_null(strstr(err, "tap kiln-nosuch1: no such device"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(tx_frame_reaches_the_tap_with_its_header, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(tx_drain_asks_for_the_next_kick, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(tx_drain_asks_for_the_next_kick, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(tx_waits_for_a_full_tap, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(tx_chain_without_header_needs_reset, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(tx_looping_chain_needs_reset, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(rx_frame_lands_in_one_chain, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(rx_merged_short_frames, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(rx_merged_frame_spans_buffers, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(rx_backpressure_until_kick, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(rx_waits_for_a_chain, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(rx_mtu_and_runts, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(rx_buffer_without_room_for_header_needs_reset, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(rx_broken_queue_leaves_the_loop, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(reset_stops_receiving, setup_mrg, teardown),
		cmocka_unit_test_setup_teardown(config_space_and_features, setup_mrg, teardown),
		cmocka_unit_test(offloads_become_features),
		cmocka_unit_test(default_mac_is_stable_local_unicast),
		cmocka_unit_test(tap_open_refuses_a_missing_tap),
		cmocka_unit_test(create_names_the_missing_tap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
