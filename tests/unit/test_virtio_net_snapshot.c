/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net in a snapshot, through the real virtio-mmio transport (virtio/mmio_snapshot.c): a
 * device driven by the test driver is saved, its guest RAM copied to a second driver, and a new
 * device on a new "tap" (a SOCK_DGRAM socketpair end, as in test_virtio_mmio_net.c) loads it. The
 * receive chains the first device held and a transmit chain its full tap left pending are taken
 * again, in order, by the second; the MTU the driver read is kept; a MAC that differs from the
 * device's configuration, an MTU below 68 and a malformed device part are refused with one line.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/mmio_driver.h"
#include "support/snap_image.h"
#include "virtio/mmio_snapshot.h"
#include "virtio/net.h"

#define QSIZE 64
#define HDR sizeof(struct virtio_net_hdr)
#define FRAME 60
#define RAM_SIZE MiB(2)
#define MRG_BUF KiB(32) /* two hold less than a GSO frame (65562 bytes), three more */
#define TX_CHAINS (QSIZE / 2)

#define BASE_FEATURES                                                                                    \
	((1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_MTU) |        \
	 (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX))

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x4b, 0x49, 0x4c };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x00, 0x4b, 0x49, 0x4d };

/* One side of the snapshot: a device, its tap's host end, and the driver in front of it. */
struct side {
	struct virtio_net *net;
	int host;   /* the host's end of the "tap" */
	int dev_fd; /* the device's end, which it owns */
	struct mmio_driver drv;
};

struct pair {
	struct side from, to;
	struct snap_writer w;
	struct snap_reader r;
	char why[256];
};

static void side_init(struct side *s, const uint8_t mac[6], uint16_t mtu)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	s->host = sv[1];
	s->dev_fd = sv[0];
	assert_int_equal(virtio_net_create_on_fd(sv[0], 0, mac, mtu, 0, &s->net), 0);
	assert_int_equal(mmio_driver_init(&s->drv, virtio_net_dev(s->net), RAM_SIZE), 0);
}

static void side_destroy(struct side *s)
{
	if (s->net == NULL)
		return;
	virtio_net_destroy(s->net);
	mmio_driver_destroy(&s->drv);
	close(s->host);
	s->net = NULL;
}

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	snap_writer_init(&p->w);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	side_destroy(&p->from);
	side_destroy(&p->to);
	snap_reader_close(&p->r);
	snap_writer_free(&p->w);
	free(p);
	return 0;
}

static void fill_frame(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

/* The host's tap end sends a header and a frame of FRAME bytes made from seed. */
static void host_sends(struct side *s, uint8_t seed)
{
	uint8_t buf[HDR + FRAME] = { 0 };

	fill_frame(buf + HDR, FRAME, seed);
	assert_int_equal(send(s->host, buf, sizeof(buf), 0), sizeof(buf));
}

/* The driver posts one receive chain of one buffer of len bytes: its head. */
static uint16_t post_rx(struct side *s, uint32_t len, gpa_t *buf)
{
	struct virtq_builder *vq = mmio_driver_vq(&s->drv, VIRTIO_NET_RXQ);
	struct vqb_seg seg = { vqb_alloc(vq, len), len, true };
	uint16_t head = vqb_chain(vq, &seg, 1);

	*buf = seg.addr;
	vqb_publish(vq, head);
	return head;
}

/* Publishes a transmit chain (header, frame made from seed). */
static void publish_tx(struct side *s, uint8_t seed)
{
	struct virtq_builder *vq = mmio_driver_vq(&s->drv, VIRTIO_NET_TXQ);
	gpa_t hdr = vqb_alloc(vq, HDR), data = vqb_alloc(vq, FRAME);
	struct vqb_seg segs[] = { { hdr, HDR, false }, { data, FRAME, false } };

	fill_frame(vqb_host(vq, data), FRAME, seed);
	vqb_publish(vq, vqb_chain(vq, segs, 2));
}

/* Saves from's device as VIRT/0 and reads the image back into p->r. */
static void save(struct pair *p)
{
	virtio_mmio_save(&p->from.drv.m, 0, &p->w);
	assert_int_equal(snap_image_read_back(&p->w, &p->r), 0);
}

/* The restore: `to` takes from's guest RAM, then loads VIRT/0 from p->r. 0 or -errno. */
static int load(struct pair *p)
{
	mmio_driver_copy_guest(&p->to.drv, &p->from.drv);
	return virtio_mmio_load(&p->to.drv.m, &p->r, 0, p->why, sizeof(p->why));
}

/*
 * With MRG_RXBUF the device holds receive chains until a GSO frame fits: two of 32 KiB are held,
 * the frame waits in the tap. The restored device takes those two again, first to last, once
 * more are posted: the next frame lands in the first held chain, the one after in the second.
 */
static void held_receive_chains_are_taken_again(void **state)
{
	struct pair *p = *state;
	gpa_t buf[4];
	uint16_t head[4];
	uint8_t want[FRAME];

	side_init(&p->from, mac_a, 1500);
	assert_int_equal(mmio_driver_start(&p->from.drv, BASE_FEATURES | (1ull << VIRTIO_NET_F_MRG_RXBUF), 2,
					   QSIZE), MMIO_S_RUNNING);
	head[0] = post_rx(&p->from, MRG_BUF, &buf[0]);
	head[1] = post_rx(&p->from, MRG_BUF, &buf[1]);
	mmio_driver_kick(&p->from.drv, VIRTIO_NET_RXQ);
	host_sends(&p->from, 0x10);
	mmio_driver_pump(&p->from.drv);
	assert_int_equal(vqb_used_idx(mmio_driver_vq(&p->from.drv, VIRTIO_NET_RXQ)), 0); /* both held */
	save(p);

	side_init(&p->to, mac_a, 1500);
	assert_int_equal(load(p), 0);
	virtio_mmio_kick_all(&p->to.drv.m);
	mmio_driver_pump(&p->to.drv);
	head[2] = post_rx(&p->to, MRG_BUF, &buf[2]);
	head[3] = post_rx(&p->to, MRG_BUF, &buf[3]);
	mmio_driver_kick(&p->to.drv, VIRTIO_NET_RXQ);
	host_sends(&p->to, 0x20);
	host_sends(&p->to, 0x30);
	mmio_driver_pump(&p->to.drv);

	struct virtq_builder *vq = mmio_driver_vq(&p->to.drv, VIRTIO_NET_RXQ);
	assert_int_equal(vqb_used_idx(vq), 2);
	for (uint16_t i = 0; i < 2; i++) {
		struct virtq_used_elem e = vqb_used(vq, i);
		const uint8_t *b = vqb_host(vq, buf[i]);
		struct virtio_net_hdr h;

		assert_int_equal(e.id, head[i]);
		assert_int_equal(e.len, HDR + FRAME);
		memcpy(&h, b, HDR);
		assert_int_equal(le16toh(h.num_buffers), 1);
		fill_frame(want, FRAME, (uint8_t)(0x20 + 0x10 * i));
		assert_memory_equal(b + HDR, want, FRAME);
	}
}

/*
 * The tap's send buffer fills: frames 0..k-1 reach the first tap and their chains are used, chain
 * k waits. The restored device writes frame k first, then the rest: each frame exactly once.
 */
static void pending_transmit_chain_is_sent_after_restore(void **state)
{
	struct pair *p = *state;
	uint8_t got[256], want[FRAME];
	int small = 4096;
	uint16_t k = 0;

	side_init(&p->from, mac_a, 1500);
	assert_int_equal(mmio_driver_start(&p->from.drv, BASE_FEATURES, 2, QSIZE), MMIO_S_RUNNING);
	assert_int_equal(setsockopt(p->from.dev_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	for (unsigned int i = 0; i < TX_CHAINS; i++)
		publish_tx(&p->from, (uint8_t)i);
	mmio_driver_kick(&p->from.drv, VIRTIO_NET_TXQ);
	mmio_driver_pump(&p->from.drv);
	uint16_t used = vqb_used_idx(mmio_driver_vq(&p->from.drv, VIRTIO_NET_TXQ));
	while (recv(p->from.host, got, sizeof(got), MSG_DONTWAIT) == HDR + FRAME)
		k++;
	assert_int_equal(k, used);
	assert_true(k < TX_CHAINS); /* the tap filled up: a chain waits for EPOLLOUT */
	save(p);

	side_init(&p->to, mac_a, 1500);
	assert_int_equal(load(p), 0);
	virtio_mmio_kick_all(&p->to.drv.m);
	/* The new tap fills up too: what the host reads makes room (EPOLLOUT) for the rest. */
	unsigned int next = k;
	for (unsigned int round = 0; round < TX_CHAINS && next < TX_CHAINS; round++) {
		mmio_driver_pump(&p->to.drv);
		for (; recv(p->to.host, got, sizeof(got), MSG_DONTWAIT) == HDR + FRAME; next++) {
			fill_frame(want, FRAME, (uint8_t)next);
			assert_memory_equal(got + HDR, want, FRAME);
		}
	}
	assert_int_equal(next, TX_CHAINS);
	assert_int_equal(recv(p->to.host, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(vqb_used_idx(mmio_driver_vq(&p->to.drv, VIRTIO_NET_TXQ)), TX_CHAINS);
}

/* The driver read the MTU once; the new tap's MTU does not change what the guest's config says. */
static void the_guest_keeps_its_mtu(void **state)
{
	struct pair *p = *state;

	side_init(&p->from, mac_a, 1500);
	assert_int_equal(mmio_driver_start(&p->from.drv, BASE_FEATURES, 2, QSIZE), MMIO_S_RUNNING);
	save(p);
	side_init(&p->to, mac_a, 9000);
	assert_int_equal(load(p), 0);
	/* Config offset 8: max_virtqueue_pairs, then mtu (§5.1.4). */
	assert_int_equal(mmio_driver_read(&p->to.drv, MMIO_CONFIG + 8) >> 16, 1500);
	assert_int_equal(mmio_driver_status(&p->to.drv), MMIO_S_RUNNING);
}

static void assert_refused(struct pair *p, const char *a, const char *b)
{
	assert_true(load(p) < 0);
	assert_null(strchr(p->why, '\n'));
	if (strstr(p->why, a) == NULL || (b && strstr(p->why, b) == NULL))
		fail_msg("\"%s\" does not name %s %s", p->why, a, b ? b : "");
}

/* The state says one MAC, the restored configuration another: refused, naming both. */
static void another_mac_is_refused(void **state)
{
	struct pair *p = *state;

	side_init(&p->from, mac_a, 1500);
	assert_int_equal(mmio_driver_start(&p->from.drv, BASE_FEATURES, 2, QSIZE), MMIO_S_RUNNING);
	save(p);
	side_init(&p->to, mac_b, 1500);
	assert_refused(p, "02:00:00:4b:49:4c", "02:00:00:4b:49:4d");
}

/* §5.1.4.1: an MTU is 68 to 65535; a state file saying less is refused. */
static void an_mtu_below_68_is_refused(void **state)
{
	struct pair *p = *state;

	side_init(&p->from, mac_a, 67);
	save(p);
	side_init(&p->to, mac_a, 1500);
	assert_refused(p, "virtio-net0: MTU 67", NULL);
}

/* VIRT/0 again, holding the first len bytes of the saved section's payload and then extra. */
static void rewrap(struct pair *p, uint64_t len, const uint8_t *extra, size_t extra_len)
{
	const struct snap_section *s = &p->r.sections[0];
	uint8_t *payload = malloc(s->len);

	assert_non_null(payload);
	assert_int_equal(p->r.nsections, 1);
	assert_true(len <= s->len);
	memcpy(payload, s->data, s->len);
	snap_reader_close(&p->r);
	snap_writer_free(&p->w);
	snap_writer_init(&p->w);
	snap_begin(&p->w, VIRTIO_SNAP_TAG, 0);
	snap_put_bytes(&p->w, payload, len);
	if (extra_len > 0)
		snap_put_bytes(&p->w, extra, extra_len);
	snap_end(&p->w);
	free(payload);
	assert_int_equal(snap_image_read_back(&p->w, &p->r), 0);
}

/* The device's part cut short (no MTU), or followed by a byte: refused as malformed. */
static void a_malformed_device_part_is_refused(void **state)
{
	struct pair *p = *state;
	const uint8_t one = 1;

	side_init(&p->from, mac_a, 1500);
	save(p);
	uint64_t len = p->r.sections[0].len;
	rewrap(p, len - 2, NULL, 0);
	side_init(&p->to, mac_a, 1500);
	assert_refused(p, "virtio-net0", "malformed");
	side_destroy(&p->to);

	rewrap(p, len - 2, (const uint8_t[]){ 0xdc, 0x05 }, 2); /* the same bytes: 1500 */
	side_init(&p->to, mac_a, 1500);
	assert_int_equal(load(p), 0);
	side_destroy(&p->to);

	rewrap(p, len, &one, 1);
	side_init(&p->to, mac_a, 1500);
	assert_refused(p, "virtio-net0", "malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(held_receive_chains_are_taken_again, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_transmit_chain_is_sent_after_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(the_guest_keeps_its_mtu, setup, teardown),
		cmocka_unit_test_setup_teardown(another_mac_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(an_mtu_below_68_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_malformed_device_part_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
