/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock behind the real virtio-mmio transport, its host side Unix sockets in a temporary
 * directory: a host-initiated connection carries data both ways; then the hostile sequences of
 * support/mmio_cases.h, among them the exact case of issue 10's defect 1 (a reset with DRIVER_OK
 * removed first while the device holds a receive chain, then host data arrives); then snapshots:
 * the device saved and restored into a new one through the transport (virtio/mmio_snapshot.c), the
 * restored device's TRANSPORT_RESET and new connections, and damaged device sections refused.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/mmio_cases.h"
#include "virtio/mmio_snapshot.h"
#include "virtio/vsock.h"
#include "virtio/vsock_conn.h"

#define QSIZE 32
#define CID 3
#define GUEST_PORT 5000
#define RXBUF 4096
#define RX_POSTED 8
#define EVENT_LEN 4 /* struct virtio_vsock_event, §5.10.6.6 */

struct vsock_test {
	char dir[64];
	char uds[108];
	struct virtio_vsock *vs;
	int host_fd;         /* the host end of the current connection, or -1 */
	uint32_t hport;      /* its host port */
	unsigned int seq;
	uint16_t rx_seen;    /* rx used entries read so far */
	gpa_t rx_buf[QSIZE]; /* each posted rx chain's buffer, by head */
	uint16_t ev_seen;    /* event used entries read so far */
	gpa_t ev_buf[QSIZE]; /* each posted event buffer, by head */
};

/* A packet the guest received, header in host byte order. */
struct pkt {
	struct vsock_hdr h;
	uint8_t data[RXBUF];
};

static int vsock_create(struct mmio_case *c)
{
	struct vsock_test *t = calloc(1, sizeof(*t));
	char err[256];

	if (t == NULL)
		return -1;
	c->priv = t;
	t->host_fd = -1;
	strcpy(t->dir, "/tmp/kiln-mmio-vsock-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->uds, sizeof(t->uds), "%s/v.sock", t->dir);
	struct kiln_vsock cfg = { .guest_cid = CID, .uds_path = t->uds };

	if (virtio_vsock_create(&cfg, &t->vs, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	c->dev = virtio_vsock_dev(t->vs);
	return 0;
}

static void vsock_destroy(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;

	virtio_vsock_destroy(t->vs); /* unlinks the socket */
	if (t->host_fd >= 0)
		close(t->host_fd);
	rmdir(t->dir);
	free(t);
}

/* --- the guest --------------------------------------------------------------------------------- */

/* Posts n rx chains as Linux does (header part, data part) and kicks the rx queue. */
static void post_rx(struct mmio_case *c, unsigned int n)
{
	struct vsock_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_VSOCK_RXQ);

	for (unsigned int i = 0; i < n; i++) {
		gpa_t buf = vqb_alloc(vq, VSOCK_HDR_SIZE + RXBUF);
		struct vqb_seg segs[] = { { buf, VSOCK_HDR_SIZE, true }, { buf + VSOCK_HDR_SIZE, RXBUF, true } };
		uint16_t head = vqb_chain(vq, segs, 2);

		t->rx_buf[head] = buf;
		vqb_publish(vq, head);
	}
	mmio_driver_kick(&c->drv, VIRTIO_VSOCK_RXQ);
}

static void vsock_started(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;

	t->rx_seen = t->ev_seen = 0;
	post_rx(c, RX_POSTED);
	mmio_driver_pump(&c->drv);
}

/* The next packet the guest received, which must have op; its buffer is posted again. */
static void guest_expect(struct mmio_case *c, struct pkt *p, uint16_t op)
{
	struct vsock_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_VSOCK_RXQ);

	assert_int_not_equal(vqb_used_idx(vq), t->rx_seen);
	struct virtq_used_elem e = vqb_used(vq, t->rx_seen++);
	const uint8_t *buf = vqb_host(vq, t->rx_buf[e.id]);

	assert_true(e.len >= VSOCK_HDR_SIZE && e.len <= VSOCK_HDR_SIZE + RXBUF);
	memcpy(&p->h, buf, sizeof(p->h));
	memcpy(p->data, buf + VSOCK_HDR_SIZE, e.len - VSOCK_HDR_SIZE);
	assert_int_equal(le64toh(p->h.src_cid), VIRTIO_VSOCK_HOST_CID);
	assert_int_equal(le64toh(p->h.dst_cid), CID);
	assert_int_equal(le16toh(p->h.op), op);
	assert_int_equal(le32toh(p->h.len), e.len - VSOCK_HDR_SIZE);
	p->h.len = le32toh(p->h.len);
	p->h.src_port = le32toh(p->h.src_port);
	p->h.dst_port = le32toh(p->h.dst_port);
	post_rx(c, 1);
}

/* Publishes one tx packet from GUEST_PORT to host port hport (header part, payload part). */
static void guest_publish(struct mmio_case *c, uint16_t op, uint32_t hport, const void *data, uint32_t len)
{
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_VSOCK_TXQ);
	struct vsock_hdr h = {
		.src_cid = htole64(CID),
		.dst_cid = htole64(VIRTIO_VSOCK_HOST_CID),
		.src_port = htole32(GUEST_PORT),
		.dst_port = htole32(hport),
		.len = htole32(len),
		.type = htole16(VSOCK_TYPE_STREAM),
		.op = htole16(op),
		.buf_alloc = htole32(KiB(64)),
	};
	struct vqb_seg segs[] = { { vqb_alloc(vq, sizeof(h)), sizeof(h), false }, { vqb_alloc(vq, len + 1), len, false } };

	memcpy(vqb_host(vq, segs[0].addr), &h, sizeof(h));
	if (len > 0)
		memcpy(vqb_host(vq, segs[1].addr), data, len);
	vqb_publish(vq, vqb_chain(vq, segs, len > 0 ? 2 : 1));
}

/* Sends one packet, kicks, and runs the I/O side; the chain comes back. */
static void guest_send(struct mmio_case *c, uint16_t op, uint32_t hport, const void *data, uint32_t len)
{
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_VSOCK_TXQ);
	uint16_t used = vqb_used_idx(vq);

	guest_publish(c, op, hport, data, len);
	mmio_driver_kick(&c->drv, VIRTIO_VSOCK_TXQ);
	mmio_driver_pump(&c->drv);
	assert_int_equal(vqb_used_idx(vq), (uint16_t)(used + 1));
}

/* --- the host ---------------------------------------------------------------------------------- */

static int host_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(a.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void host_write(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* The host end reads exactly text (nonblocking: it is there already). */
static void host_expect(int fd, const char *text)
{
	char got[64] = { 0 };

	assert_int_equal(recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT), (ssize_t)strlen(text));
	assert_string_equal(got, text);
}

static void host_expect_eof(int fd)
{
	char b;
	ssize_t r = recv(fd, &b, 1, MSG_DONTWAIT);

	assert_true(r == 0 || (r < 0 && errno == ECONNRESET));
}

/* --- requests ---------------------------------------------------------------------------------- */

/* A host client connects to the guest's GUEST_PORT (Firecracker's handshake) and the guest accepts. */
static void establish(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;
	struct pkt p;
	char ok[32];

	if (t->host_fd >= 0)
		close(t->host_fd);
	t->host_fd = host_connect(t->uds);
	host_write(t->host_fd, "CONNECT 5000\n");
	mmio_driver_pump(&c->drv);
	guest_expect(c, &p, VSOCK_OP_REQUEST);
	assert_int_equal(p.h.dst_port, GUEST_PORT);
	t->hport = p.h.src_port;
	guest_send(c, VSOCK_OP_RESPONSE, t->hport, NULL, 0);
	snprintf(ok, sizeof(ok), "OK %u\n", t->hport);
	host_expect(t->host_fd, ok);
}

/* Host -> guest: the bytes arrive as one OP_RW packet, with an interrupt. */
static void host_to_guest(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_VSOCK_RXQ);
	char text[32];
	struct pkt p;

	snprintf(text, sizeof(text), "to guest %u", t->seq++);
	vqb_set_used_event(vq, t->rx_seen); /* EVENT_IDX: interrupt at the next used entry */
	(void)mmio_driver_irqs(&c->drv);
	host_write(t->host_fd, text);
	mmio_driver_pump(&c->drv);
	guest_expect(c, &p, VSOCK_OP_RW);
	assert_int_equal(p.h.len, strlen(text));
	assert_memory_equal(p.data, text, strlen(text));
	assert_true(mmio_driver_irqs(&c->drv) >= 1);
	assert_true(mmio_driver_take_interrupt(&c->drv) & MMIO_INT_USED);
}

/* A connection, data both ways, then the guest resets it and the host end sees EOF. */
static void vsock_good_request(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;
	char text[32];

	establish(c);
	host_to_guest(c);
	snprintf(text, sizeof(text), "to host %u", t->seq++);
	guest_send(c, VSOCK_OP_RW, t->hport, text, (uint32_t)strlen(text));
	host_expect(t->host_fd, text);
	guest_send(c, VSOCK_OP_RST, t->hport, NULL, 0);
	host_expect_eof(t->host_fd);
}

/* An OP_RST for no connection: the device takes it and answers nothing. */
static unsigned int vsock_post_request(struct mmio_case *c)
{
	guest_publish(c, VSOCK_OP_RST, 4321, NULL, 0);
	return VIRTIO_VSOCK_TXQ;
}

/*
 * Host data on an established connection: the device fills one rx chain with it and takes the
 * next, which it holds, its read having found the socket empty (EAGAIN).
 */
static void vsock_hold_chains(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;

	establish(c);
	host_to_guest(c);
	assert_true(t->vs->rx_held);
}

static void vsock_host_input(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;

	host_write(t->host_fd, "data after the reset");
}

/* The restored case's driver knows what c's had posted. */
static void vsock_carry(const struct mmio_case *from, struct mmio_case *to)
{
	const struct vsock_test *t = from->priv;
	struct vsock_test *rt = to->priv;

	rt->seq = t->seq;
	rt->rx_seen = t->rx_seen;
	rt->ev_seen = t->ev_seen;
	memcpy(rt->rx_buf, t->rx_buf, sizeof(rt->rx_buf));
	memcpy(rt->ev_buf, t->ev_buf, sizeof(rt->ev_buf));
}

static const struct mmio_case_device vsock_device = {
	.features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
	.num_queues = 3,
	.queue_size = QSIZE,
	.ram_size = MiB(2),
	.create = vsock_create,
	.destroy = vsock_destroy,
	.started = vsock_started,
	.good_request = vsock_good_request,
	.post_request = vsock_post_request,
	.hold_chains = vsock_hold_chains,
	.host_input = vsock_host_input,
	.carry = vsock_carry,
};

static int setup(void **state)
{
	return mmio_case_setup(state, &vsock_device);
}

/* Issue 10, defect 1, step by step: afterwards the host end of the connection sees it closed. */
static void reset_after_driver_ok_removed_closes_connections(void **state)
{
	struct mmio_case *c = *state;
	struct vsock_test *t = c->priv;

	mmio_case_start(c);
	vsock_hold_chains(c);
	mmio_driver_set_status(&c->drv, MMIO_S_RUNNING);
	mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
	mmio_driver_set_status(&c->drv, 0);
	vsock_host_input(c);
	mmio_driver_pump(&c->drv);
	host_expect_eof(t->host_fd);
	assert_int_equal(mmio_driver_status(&c->drv), 0);
	mmio_case_recover(c);
}

/* --- snapshots --------------------------------------------------------------------------------- */

/* The guest posts one event buffer of len bytes and kicks the event queue. */
static void post_event(struct mmio_case *c, uint32_t len)
{
	struct vsock_test *t = c->priv;

	mmio_driver_post_writable(&c->drv, VIRTIO_VSOCK_EVENTQ, len, 1, t->ev_buf);
}

/* The events the guest received since the last call: how many, each of them a TRANSPORT_RESET. */
static unsigned int guest_resets(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_VSOCK_EVENTQ);
	unsigned int n = 0;

	for (; t->ev_seen != vqb_used_idx(vq); t->ev_seen++, n++) {
		struct virtq_used_elem e = vqb_used(vq, t->ev_seen);
		uint32_t id;

		assert_int_equal(e.len, EVENT_LEN);
		memcpy(&id, vqb_host(vq, t->ev_buf[e.id]), sizeof(id));
		assert_int_equal(le32toh(id), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	}
	return n;
}

/* The head of the next rx chain the guest will find used. */
static uint16_t next_rx_head(struct mmio_case *c)
{
	struct vsock_test *t = c->priv;
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_VSOCK_RXQ);

	assert_int_not_equal(vqb_used_idx(vq), t->rx_seen);
	return (uint16_t)vqb_used(vq, t->rx_seen).id;
}

/*
 * The connection stays with the snapshotted device; the restored one starts with none and tells
 * the driver so (one TRANSPORT_RESET, with an interrupt), takes again the rx chain the snapshotted
 * one held, answers the old connection's packets with OP_RST, and serves a new connection from its
 * own uds path, both ways.
 */
static void restore_resets_the_transport(void **state)
{
	struct mmio_case *c = *state, *r;
	struct vsock_test *t = c->priv;
	struct mmio_case_snap s;
	struct pkt p;

	mmio_case_start(c);
	post_event(c, EVENT_LEN);
	vsock_hold_chains(c);
	uint16_t held = t->vs->rx_elem.head;
	uint32_t old_port = t->hport;

	mmio_case_snap_take(c, &s);
	r = mmio_case_snap_restore(c, &s);
	assert_int_equal(mmio_driver_status(&r->drv), MMIO_S_RUNNING);
	assert_int_equal(guest_resets(r), 1);
	assert_true(mmio_driver_take_interrupt(&r->drv) & MMIO_INT_USED);
	host_to_guest(c); /* the snapshotted device's connection is its own still */

	guest_send(r, VSOCK_OP_RW, old_port, "lost", 4);
	assert_int_equal(next_rx_head(r), held);
	guest_expect(r, &p, VSOCK_OP_RST);
	assert_int_equal(p.h.src_port, old_port);
	vsock_good_request(r);
	assert_int_equal(guest_resets(r), 0);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
}

/* With no event buffer at the restore, the reset goes into the first one the driver posts; one reset only. */
static void transport_reset_waits_for_an_event_buffer(void **state)
{
	struct mmio_case *c = *state, *r;
	struct mmio_case_snap s;

	mmio_case_start(c);
	mmio_case_snap_take(c, &s);
	r = mmio_case_snap_restore(c, &s);
	assert_int_equal(guest_resets(r), 0);
	post_event(r, EVENT_LEN);
	mmio_driver_pump(&r->drv);
	assert_int_equal(guest_resets(r), 1);
	post_event(r, EVENT_LEN);
	mmio_driver_pump(&r->drv);
	assert_int_equal(guest_resets(r), 0);
	vsock_good_request(r);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
}

/* A driver that resets the restored device before it had an event buffer has no old connections: no reset event. */
static void driver_reset_cancels_the_transport_reset(void **state)
{
	struct mmio_case *c = *state, *r;
	struct mmio_case_snap s;

	mmio_case_start(c);
	mmio_case_snap_take(c, &s);
	r = mmio_case_snap_restore(c, &s);
	mmio_case_recover(r);
	post_event(r, EVENT_LEN);
	mmio_driver_pump(&r->drv);
	assert_int_equal(guest_resets(r), 0);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
}

/* A driver midway through its negotiation is restored there, and goes on to start the device. */
static void restore_before_driver_ok(void **state)
{
	struct mmio_case *c = *state, *r;
	struct mmio_case_snap s;

	assert_int_equal(mmio_driver_negotiate(&c->drv, vsock_device.features), MMIO_S_NEGOTIATED);
	mmio_case_snap_take(c, &s);
	r = mmio_case_snap_restore(c, &s);
	assert_int_equal(mmio_driver_status(&r->drv), MMIO_S_NEGOTIATED);
	mmio_case_recover(r);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
}

/* A device that broke (a tx packet without a header) is broken after the restore too, until a reset. */
static void broken_device_stays_broken(void **state)
{
	struct mmio_case *c = *state, *r;
	struct mmio_case_snap s;

	mmio_case_start(c);
	post_event(c, EVENT_LEN);
	struct virtq_builder *vq = mmio_driver_vq(&c->drv, VIRTIO_VSOCK_TXQ);
	struct vqb_seg short_hdr = { vqb_alloc(vq, 20), 20, false };
	vqb_publish(vq, vqb_chain(vq, &short_hdr, 1));
	mmio_driver_kick(&c->drv, VIRTIO_VSOCK_TXQ);
	mmio_driver_pump(&c->drv);
	assert_true(mmio_driver_status(&c->drv) & MMIO_S_NEEDS_RESET);

	mmio_case_snap_take(c, &s);
	r = mmio_case_snap_restore(c, &s);
	assert_true(mmio_driver_status(&r->drv) & MMIO_S_NEEDS_RESET);
	assert_true(((struct vsock_test *)r->priv)->vs->broken);
	assert_int_equal(guest_resets(r), 0);
	mmio_case_recover(r);
	mmio_case_free(r);
	mmio_case_snap_free(&s);
}

/*
 * Damaged device parts of a good section (the transport's part is fine; the device's is u64 CID,
 * bool broken): each refused with a one-line reason, and nothing of the restored device is left.
 */
static void damaged_device_sections_refused(void **state)
{
	static const struct mmio_case_damage cases[] = {
		{ "another CID", 0, 9, 0x01, -EINVAL, "guest CID is 2, its machine's 3" },
		{ "a bool that is 2", 0, 1, 0x02, -EBADMSG, "its device state is malformed" },
		{ "cut short", -1, 0, 0, -EBADMSG, "its device state is malformed" },
		{ "a byte too many", 1, 0, 0, -EBADMSG, "its device state is malformed" },
		{ "no device part", -9, 0, 0, -EBADMSG, "its device state is malformed" },
	};

	mmio_case_start(*state);
	mmio_case_expect_refusals(*state, cases, ARRAY_SIZE(cases));
}

/* --- a real I/O thread ------------------------------------------------------------------------- */

struct writer {
	pthread_t thread;
	int fd;
	atomic_bool stop;
	atomic_bool wrote; /* something was sent, or the connection went */
};

/* A host client writes to its connection until told to stop or the connection goes. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char chunk[512] = { 'x' };

	while (!atomic_load(&w->stop)) {
		ssize_t r = send(w->fd, chunk, sizeof(chunk), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0)
			atomic_store(&w->wrote, true);
		if (r < 0 && errno != EAGAIN)
			break;
	}
	atomic_store(&w->wrote, true);
	return NULL;
}

/*
 * The exact sequence of defect 1 with real threads: while the I/O thread moves a host client's
 * data into rx chains, this thread (a vCPU) removes DRIVER_OK and resets the device. No timing is
 * asserted: nothing may crash or touch freed memory (ASan), the client sees its connection closed,
 * and the next driver gets service.
 */
static void reset_races_host_data_on_the_io_thread(void **state)
{
	struct mmio_case *c = *state;
	struct vsock_test *t = c->priv;

	for (int i = 0; i < 20; i++) {
		struct writer w = { .fd = -1 };

		mmio_case_start(c);
		vsock_hold_chains(c);
		w.fd = t->host_fd;
		assert_int_equal(mmio_driver_start_thread(&c->drv), 0);
		assert_int_equal(pthread_create(&w.thread, NULL, writer_main, &w), 0);
		post_rx(c, RX_POSTED);
		while (!atomic_load(&w.wrote)) /* data is on its way to the I/O thread */
			sched_yield();
		mmio_driver_set_status(&c->drv, MMIO_S_NEGOTIATED);
		mmio_driver_set_status(&c->drv, 0);
		atomic_store(&w.stop, true);
		pthread_join(w.thread, NULL);
		mmio_driver_stop_thread(&c->drv);
		mmio_driver_pump(&c->drv); /* the dropped connection is closed on the I/O side */
		host_expect_eof(t->host_fd);
	}
	mmio_case_recover(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MMIO_CASES(setup),
		MMIO_CASE(reset_after_driver_ok_removed_closes_connections, setup),
		MMIO_CASE(reset_races_host_data_on_the_io_thread, setup),
		MMIO_CASE(restore_resets_the_transport, setup),
		MMIO_CASE(transport_reset_waits_for_an_event_buffer, setup),
		MMIO_CASE(driver_reset_cancels_the_transport_reset, setup),
		MMIO_CASE(restore_before_driver_ok, setup),
		MMIO_CASE(broken_device_stays_broken, setup),
		MMIO_CASE(damaged_device_sections_refused, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
