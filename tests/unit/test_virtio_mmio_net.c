/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net behind the real virtio-mmio transport; a SOCK_DGRAM socketpair plays the tap (one
 * datagram per frame, vnet header first). A frame each way; the hostile sequences of
 * support/mmio_cases.h, among them a reset while the device holds receive chains (issue 10,
 * defect 1); and resets racing a real I/O thread that is receiving frames.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/mmio_cases.h"
#include "virtio/net.h"

#define QSIZE 64
#define HDR sizeof(struct virtio_net_hdr)
#define FRAME 60
#define RX_BUF (HDR + 1514)
#define RX_POSTED 8 /* receive chains the driver keeps posted */

static const uint8_t test_mac[6] = { 0x02, 0x00, 0x00, 0x4b, 0x49, 0x4c };

struct net_test {
	struct virtio_net *net;
	int host;          /* the host's end of the "tap" */
	int dev_fd;        /* the device's end, which it owns */
	pthread_t flood;   /* resets_race_the_io_thread's frame source */
	bool flooding;
	atomic_bool flood_stop;
	uint8_t seed;      /* a new frame for each request */
	uint16_t rx_seen;  /* receive used entries checked so far */
	gpa_t rx_buf[QSIZE]; /* each posted receive chain's buffer, by head */
};

static int net_create(struct mmio_case *c)
{
	struct net_test *t = calloc(1, sizeof(*t));
	int sv[2];

	if (t == NULL)
		return -1;
	c->priv = t;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	t->host = sv[1];
	t->dev_fd = sv[0];
	if (virtio_net_create_on_fd(sv[0], 0, test_mac, 1500, 0, &t->net) < 0)
		return -1;
	c->dev = virtio_net_dev(t->net);
	return 0;
}

static void flood_stop(struct net_test *t)
{
	if (!t->flooding)
		return;
	atomic_store(&t->flood_stop, true);
	pthread_join(t->flood, NULL);
	t->flooding = false;
}

static void net_destroy(struct mmio_case *c)
{
	struct net_test *t = c->priv;

	flood_stop(t);
	virtio_net_destroy(t->net);
	close(t->host);
	free(t);
}

static void fill_frame(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i);
}

/* The host's tap end sends a header and a frame of FRAME bytes made from seed. */
static void host_sends(struct net_test *t, uint8_t seed)
{
	uint8_t buf[HDR + FRAME];
	struct virtio_net_hdr h = { .num_buffers = 0xffff }; /* the tap leaves it; the device sets it */

	memcpy(buf, &h, HDR);
	fill_frame(buf + HDR, FRAME, seed);
	assert_int_equal(send(t->host, buf, sizeof(buf), 0), sizeof(buf));
}

/* The driver posts n receive chains of one buffer each, and kicks the receiveq. */
static void post_rx(struct mmio_case *c, unsigned int n)
{
	struct net_test *t = c->priv;

	mmio_driver_post_writable(&c->drv, VIRTIO_NET_RXQ, RX_BUF, n, t->rx_buf);
}

static void net_started(struct mmio_case *c)
{
	struct net_test *t = c->priv;

	post_rx(c, RX_POSTED);
	mmio_driver_pump(&c->drv);
	/* Frames that waited in the tap (across a reset) take the first chains. */
	t->rx_seen = vqb_used_idx(mmio_driver_vq(&c->drv, VIRTIO_NET_RXQ));
}

/* Publishes a transmit chain (header, frame); returns the frame's seed. */
static uint8_t publish_tx(struct mmio_case *c)
{
	struct net_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_NET_TXQ);
	gpa_t hdr = vqb_alloc(vq, HDR), data = vqb_alloc(vq, FRAME);
	struct vqb_seg segs[] = { { hdr, HDR, false }, { data, FRAME, false } };
	uint8_t seed = t->seed++;

	fill_frame(vqb_host(vq, data), FRAME, seed);
	vqb_publish(vq, vqb_chain(vq, segs, 2));
	return seed;
}

static unsigned int net_post_request(struct mmio_case *c)
{
	(void)publish_tx(c);
	return VIRTIO_NET_TXQ;
}

/* Guest -> tap: the frame and its header arrive as one datagram; the chain comes back. */
static void net_transmit(struct mmio_case *c)
{
	struct net_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_NET_TXQ);
	uint16_t used = vqb_used_idx(vq);
	uint8_t seed = publish_tx(c), got[256], want[FRAME];

	mmio_driver_kick(&c->drv, VIRTIO_NET_TXQ);
	mmio_driver_pump(&c->drv);
	assert_int_equal(vqb_used_idx(vq), (uint16_t)(used + 1));
	assert_int_equal(recv(t->host, got, sizeof(got), MSG_DONTWAIT), HDR + FRAME);
	fill_frame(want, FRAME, seed);
	assert_memory_equal(got + HDR, want, FRAME);
}

/* Tap -> guest: the frame lands in the next posted chain, num_buffers 1, with an interrupt. */
static void net_receive(struct mmio_case *c)
{
	struct net_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_NET_RXQ);
	uint8_t seed = t->seed++, want[FRAME];
	struct virtio_net_hdr h;

	vqb_set_used_event(vq, t->rx_seen); /* EVENT_IDX: interrupt at the next used entry */
	(void)mmio_driver_irqs(&c->drv);
	host_sends(t, seed);
	mmio_driver_pump(&c->drv);
	assert_int_equal(vqb_used_idx(vq), (uint16_t)(t->rx_seen + 1));
	struct virtq_used_elem e = vqb_used(vq, t->rx_seen++);
	const uint8_t *buf = vqb_host(vq, t->rx_buf[e.id]);

	assert_int_equal(e.len, HDR + FRAME);
	memcpy(&h, buf, HDR);
	assert_int_equal(le16toh(h.num_buffers), 1);
	fill_frame(want, FRAME, seed);
	assert_memory_equal(buf + HDR, want, FRAME);
	assert_true(mmio_driver_irqs(&c->drv) >= 1);
	assert_true(mmio_driver_take_interrupt(&c->drv) & MMIO_INT_USED);
	post_rx(c, 1); /* the driver gives the buffer back */
	mmio_driver_pump(&c->drv);
}

static void net_good_request(struct mmio_case *c)
{
	net_transmit(c);
	net_receive(c);
}

/*
 * One frame in with RX_POSTED chains posted: the device fills one and takes the next, which it
 * holds, its read having found the tap empty (EAGAIN).
 */
static void net_hold_chains(struct mmio_case *c)
{
	net_receive(c);
}

static void net_host_input(struct mmio_case *c)
{
	struct net_test *t = c->priv;

	host_sends(t, t->seed++);
	host_sends(t, t->seed++);
}

static const struct mmio_case_device net_device = {
	/* No MRG_RXBUF: one chain per frame, so that a chain is held between frames. */
	.features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_MTU) |
		    (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
	.num_queues = 2,
	.queue_size = QSIZE,
	.ram_size = MiB(2),
	.create = net_create,
	.destroy = net_destroy,
	.started = net_started,
	.good_request = net_good_request,
	.post_request = net_post_request,
	.hold_chains = net_hold_chains,
	.host_input = net_host_input,
};

static int setup(void **state)
{
	return mmio_case_setup(state, &net_device);
}

/* Frames that arrived while the device was reset wait in the tap for the next driver. */
static void frames_wait_in_the_tap_across_a_reset(void **state)
{
	struct mmio_case *c = *state;
	struct net_test *t = c->priv;

	mmio_case_start(c);
	net_hold_chains(c);
	mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
	mmio_driver_set_status(&c->drv, 0);
	host_sends(t, 0x77);
	mmio_driver_pump(&c->drv);
	mmio_case_start(c);
	assert_int_equal(vqb_used_idx(mmio_driver_vq(&c->drv, VIRTIO_NET_RXQ)), 1);
	net_good_request(c);
}

/* A transmit chain waits for room in the tap; the driver resets: the chain is dropped, not written. */
static void reset_while_a_transmit_chain_waits(void **state)
{
	struct mmio_case *c = *state;
	struct net_test *t = c->priv;
	struct virtq_builder *vq;
	int small = 4096;
	uint8_t frame[HDR + FRAME];

	mmio_case_start(c);
	vq = mmio_driver_vq(&c->drv, VIRTIO_NET_TXQ);
	assert_int_equal(setsockopt(t->dev_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	for (int i = 0; i < QSIZE / 2; i++)
		(void)publish_tx(c);
	mmio_driver_kick(&c->drv, VIRTIO_NET_TXQ);
	mmio_driver_pump(&c->drv);
	uint16_t used = vqb_used_idx(vq);

	assert_true(used < QSIZE / 2); /* the tap filled up: a chain waits for EPOLLOUT */
	mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
	mmio_driver_set_status(&c->drv, 0);
	while (recv(t->host, frame, sizeof(frame), MSG_DONTWAIT) > 0) /* room in the tap again */
		;
	mmio_driver_pump(&c->drv);
	assert_int_equal(recv(t->host, frame, sizeof(frame), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(vqb_used_idx(vq), used);
	mmio_case_recover(c);
}

/* --- a real I/O thread ------------------------------------------------------------------------- */

/* The host floods the tap with frames until told to stop (a full socket just drops them). */
static void *flood_main(void *arg)
{
	struct net_test *t = arg;
	uint8_t buf[HDR + FRAME] = { 0 };

	while (!atomic_load(&t->flood_stop))
		if (send(t->host, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno != EAGAIN)
			break;
	return NULL;
}

/*
 * The I/O thread receives frames into posted chains while this thread, as a vCPU, starts the
 * device, breaks the status rules and resets it, over and over. No timing is asserted: kiln must
 * not crash or corrupt memory (ASan), and afterwards the device serves a good request.
 */
static void resets_race_the_io_thread(void **state)
{
	struct mmio_case *c = *state;
	struct net_test *t = c->priv;
	uint8_t frame[HDR + FRAME];

	assert_int_equal(mmio_driver_start_thread(&c->drv), 0);
	assert_int_equal(pthread_create(&t->flood, NULL, flood_main, t), 0);
	t->flooding = true;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(mmio_driver_start(&c->drv, net_device.features, 2, QSIZE), MMIO_S_RUNNING);
		post_rx(c, RX_POSTED);
		if (i % 2 == 0)
			mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
		mmio_driver_set_status(&c->drv, 0);
	}
	flood_stop(t);
	mmio_driver_stop_thread(&c->drv);
	while (recv(t->dev_fd, frame, sizeof(frame), MSG_DONTWAIT) > 0) /* what the guest did not take */
		;
	mmio_case_start(c);
	net_good_request(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MMIO_CASES(setup),
		MMIO_CASE(frames_wait_in_the_tap_across_a_reset, setup),
		MMIO_CASE(reset_while_a_transmit_chain_waits, setup),
		MMIO_CASE(resets_race_the_io_thread, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
