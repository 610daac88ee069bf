/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio/vsock*.c (virtio 1.2 §5.10): the test plays the guest driver through virtq builders and the
 * host through real Unix sockets in a temporary directory; it drives the I/O loop by hand.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/loop.h"
#include "support/fake_transport.h"
#include "support/virtq_builder.h"
#include "virtio/vsock.h"
#include "virtio/vsock_conn.h"

#define QSIZE 64
#define RAM_SIZE MiB(8)
#define CID 3
#define RXBUF 4096
#define GUEST_PORT 5000

struct fx {
	char dir[64];
	char uds[108];
	struct io_loop loop;
	struct virtio_vsock *vs;
	struct virtio_dev *dev;
	struct virtq_builder rx, tx, ev;
	struct fake_transport t;
	bool event_idx;
	gpa_t rx_addr[QSIZE]; /* each posted rx chain's buffer, by head */
	uint16_t rx_seen;     /* used rx entries read so far */
};

struct pkt {
	struct vsock_hdr h; /* converted to host byte order */
	uint32_t len;
	uint8_t data[RXBUF];
};

/* --- set-up -------------------------------------------------------------------------------------- */

static int setup_fx(void **state, bool event_idx)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL)
		return -1;
	f->event_idx = event_idx;
	strcpy(f->dir, "/tmp/kiln-vsock-XXXXXX");
	if (mkdtemp(f->dir) == NULL || io_loop_init(&f->loop) < 0)
		return -1;
	snprintf(f->uds, sizeof(f->uds), "%s/v.sock", f->dir);
	struct kiln_vsock cfg = { .guest_cid = CID, .uds_path = f->uds };

	if (virtio_vsock_create(&cfg, &f->vs, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	f->dev = virtio_vsock_dev(f->vs);
	vqb_init(&f->rx, QSIZE, RAM_SIZE);
	vqb_init(&f->tx, QSIZE, RAM_SIZE);
	vqb_init(&f->ev, QSIZE, KiB(64));
	f->dev->mem = &f->rx.mem;
	f->dev->io = &f->loop;
	if (vqb_queue(&f->rx, &f->dev->queues[VIRTIO_VSOCK_RXQ], event_idx) != 0 ||
	    vqb_queue(&f->tx, &f->dev->queues[VIRTIO_VSOCK_TXQ], event_idx) != 0 ||
	    vqb_queue(&f->ev, &f->dev->queues[VIRTIO_VSOCK_EVENTQ], event_idx) != 0)
		return -1;
	f->dev->driver_features = f->dev->device_features;
	fake_transport_attach(&f->t, f->dev);
	if (f->dev->ops->activate(f->dev) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_fx(state, false);
}

static int setup_event_idx(void **state)
{
	return setup_fx(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_vsock_destroy(f->vs);
	io_loop_destroy(&f->loop);
	vqb_free(&f->rx);
	vqb_free(&f->tx);
	vqb_free(&f->ev);
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Rounds of the I/O loop, by hand, until nothing is ready. */
static void pump(struct fx *f)
{
	for (int round = 0; round < 200; round++) {
		struct epoll_event ev[16];
		int n = epoll_wait(f->loop.epoll_fd, ev, 16, 0);

		assert_true(n >= 0);
		if (n == 0)
			return;
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = ev[i].data.ptr;

			assert_non_null(h);
			h->ready(h, ev[i].events);
		}
	}
}

/* --- the guest ----------------------------------------------------------------------------------- */

/* Posts n rx chains as Linux 6.1 does (a header part, a 4 KiB data part), then kicks. */
static void guest_post_rx(struct fx *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		gpa_t buf = vqb_alloc(&f->rx, VSOCK_HDR_SIZE + RXBUF);
		struct vqb_seg segs[] = { { buf, VSOCK_HDR_SIZE, true },
					  { buf + VSOCK_HDR_SIZE, RXBUF, true } };
		uint16_t head = vqb_chain(&f->rx, segs, 2);

		f->rx_addr[head] = buf;
		vqb_publish(&f->rx, head);
	}
	f->dev->ops->queue_notify(f->dev, VIRTIO_VSOCK_RXQ);
}

/* The next packet the device put in the rx queue; false when there is none. */
static bool guest_recv(struct fx *f, struct pkt *p)
{
	if (vqb_used_idx(&f->rx) == f->rx_seen)
		return false;
	struct virtq_used_elem e = vqb_used(&f->rx, f->rx_seen++);
	const uint8_t *buf = vqb_host(&f->rx, f->rx_addr[e.id]);

	memcpy(&p->h, buf, sizeof(p->h));
	p->h.src_cid = le64toh(p->h.src_cid);
	p->h.dst_cid = le64toh(p->h.dst_cid);
	p->h.src_port = le32toh(p->h.src_port);
	p->h.dst_port = le32toh(p->h.dst_port);
	p->h.len = le32toh(p->h.len);
	p->h.type = le16toh(p->h.type);
	p->h.op = le16toh(p->h.op);
	p->h.flags = le32toh(p->h.flags);
	p->h.buf_alloc = le32toh(p->h.buf_alloc);
	p->h.fwd_cnt = le32toh(p->h.fwd_cnt);
	assert_true(e.len >= VSOCK_HDR_SIZE);
	p->len = e.len - VSOCK_HDR_SIZE;
	assert_int_equal(p->len, p->h.len);
	assert_true(p->len <= RXBUF);
	memcpy(p->data, buf + VSOCK_HDR_SIZE, p->len);
	assert_int_equal(p->h.src_cid, VIRTIO_VSOCK_HOST_CID);
	assert_int_equal(p->h.dst_cid, CID);
	assert_int_equal(p->h.type, VSOCK_TYPE_STREAM);
	return true;
}

/* The next packet, which must have op. */
static void guest_expect(struct fx *f, struct pkt *p, uint16_t op)
{
	assert_true(guest_recv(f, p));
	assert_int_equal(p->h.op, op);
}

struct gpkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
	const void *data;
	uint32_t len;     /* payload bytes in the chain */
	uint32_t hdr_len; /* the len field (default: len) */
	bool set_hdr_len;
	uint32_t hdr_seg; /* bytes of the header part (default 44) */
};

/* Publishes one tx chain (a header part, then the payload part) and kicks. */
static void guest_send_pkt(struct fx *f, const struct gpkt *g)
{
	uint32_t hdr_seg = g->hdr_seg ? g->hdr_seg : VSOCK_HDR_SIZE;
	struct vsock_hdr h = {
		.src_cid = htole64(g->src_cid ? g->src_cid : CID),
		.dst_cid = htole64(g->dst_cid ? g->dst_cid : VIRTIO_VSOCK_HOST_CID),
		.src_port = htole32(g->src_port),
		.dst_port = htole32(g->dst_port),
		.len = htole32(g->set_hdr_len ? g->hdr_len : g->len),
		.type = htole16(g->type ? g->type : VSOCK_TYPE_STREAM),
		.op = htole16(g->op),
		.flags = htole32(g->flags),
		.buf_alloc = htole32(g->buf_alloc),
		.fwd_cnt = htole32(g->fwd_cnt),
	};
	gpa_t hb = vqb_alloc(&f->tx, VSOCK_HDR_SIZE);
	gpa_t db = vqb_alloc(&f->tx, g->len ? g->len : 1);
	struct vqb_seg segs[] = { { hb, hdr_seg, false }, { db, g->len, false } };

	memcpy(vqb_host(&f->tx, hb), &h, hdr_seg < sizeof(h) ? hdr_seg : sizeof(h));
	if (g->len)
		memcpy(vqb_host(&f->tx, db), g->data, g->len);
	vqb_publish(&f->tx, vqb_chain(&f->tx, segs, g->len ? 2 : 1));
	f->dev->ops->queue_notify(f->dev, VIRTIO_VSOCK_TXQ);
}

/* A well-formed packet from the guest's port gport to host port hport. */
static void guest_send(struct fx *f, uint16_t op, uint32_t gport, uint32_t hport, uint32_t flags,
		       uint32_t buf_alloc, uint32_t fwd_cnt, const void *data, uint32_t len)
{
	struct gpkt g = { .src_port = gport, .dst_port = hport, .op = op, .flags = flags,
			  .buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt, .data = data, .len = len };

	guest_send_pkt(f, &g);
}

/* --- the host ------------------------------------------------------------------------------------ */

static int host_connect_path(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(a.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static int host_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(a.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void host_write(int fd, const void *data, size_t len)
{
	assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads what is there now (nonblocking): bytes, 0 at EOF, -errno. */
static ssize_t host_read(int fd, void *buf, size_t len)
{
	ssize_t r = recv(fd, buf, len, MSG_DONTWAIT);

	return r < 0 ? -errno : r;
}

static void host_expect_eof(int fd)
{
	char c;
	ssize_t r = host_read(fd, &c, 1);

	assert_true(r == 0 || r == -ECONNRESET);
}

/* A host-initiated connection to the guest's GUEST_PORT, accepted; its host port in *hport. */
static int establish_host(struct fx *f, uint32_t buf_alloc, uint32_t *hport)
{
	int fd = host_connect_path(f->uds);
	struct pkt p;
	char line[32] = { 0 }, want[32];

	host_write(fd, "CONNECT 5000\n", 13);
	pump(f);
	guest_post_rx(f, 1);
	guest_expect(f, &p, VSOCK_OP_REQUEST);
	assert_int_equal(p.h.dst_port, GUEST_PORT);
	assert_true(p.h.src_port >= 1024);
	assert_int_equal(p.h.buf_alloc, VSOCK_BUF_ALLOC);
	*hport = p.h.src_port;
	guest_send(f, VSOCK_OP_RESPONSE, GUEST_PORT, *hport, 0, buf_alloc, 0, NULL, 0);
	snprintf(want, sizeof(want), "OK %u\n", *hport);
	assert_int_equal(host_read(fd, line, sizeof(line) - 1), (ssize_t)strlen(want));
	assert_string_equal(line, want);
	return fd;
}

static void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* --- create -------------------------------------------------------------------------------------- */

static void create_errors_name_the_path(void **state)
{
	(void)state;
	struct virtio_vsock *v;
	char err[256], longpath[120];
	struct kiln_vsock missing = { .guest_cid = 3, .uds_path = "/nonexistent-kiln-dir/v.sock" };
	struct kiln_vsock low = { .guest_cid = 2, .uds_path = "/tmp/x.sock" };

	assert_int_equal(virtio_vsock_create(&missing, &v, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-kiln-dir/v.sock"));
	assert_int_equal(virtio_vsock_create(&low, &v, err, sizeof(err)), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	struct kiln_vsock toolong = { .guest_cid = 3, .uds_path = longpath };

	assert_int_equal(virtio_vsock_create(&toolong, &v, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "too long"));
}

static void create_replaces_only_stale_sockets(void **state)
{
	struct fx *f = *state;
	struct virtio_vsock *v;
	char err[256], path[128];
	struct kiln_vsock cfg = { .guest_cid = 4, .uds_path = path };

	/* A regular file is left alone. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	fclose(file);
	assert_int_equal(virtio_vsock_create(&cfg, &v, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, path));
	/* A live listener (the fixture's device) is in use. */
	cfg.uds_path = f->uds;
	assert_int_equal(virtio_vsock_create(&cfg, &v, err, sizeof(err)), -EADDRINUSE);
	pump(f); /* the probe connection comes and goes */
	/* A socket file nobody listens on is replaced. */
	snprintf(path, sizeof(path), "%s/stale", f->dir);
	cfg.uds_path = path;
	close(host_listen(path));
	assert_int_equal(virtio_vsock_create(&cfg, &v, err, sizeof(err)), 0);
	virtio_vsock_destroy(v);
	assert_int_equal(access(path, F_OK), -1); /* destroy unlinks it */
}

static void config_space_holds_the_cid(void **state)
{
	struct fx *f = *state;
	uint64_t cid = 0;
	uint32_t hi = 1;

	f->dev->ops->config_read(f->dev, 0, &cid, 8);
	assert_int_equal(le64toh(cid), CID);
	f->dev->ops->config_read(f->dev, 4, &hi, 4);
	assert_int_equal(hi, 0);
	assert_int_equal(f->dev->device_id, VIRTIO_ID_VSOCK);
	assert_int_equal(f->dev->num_queues, 3);
}

/* --- host-initiated ------------------------------------------------------------------------------ */

static void host_connect_handshake(void **state)
{
	struct fx *f = *state;
	uint32_t hport, hport2;
	int fd = establish_host(f, KiB(64), &hport);
	int fd2 = establish_host(f, KiB(64), &hport2);

	assert_int_not_equal(hport, hport2); /* host ports are unique */
	assert_int_equal(f->t.needs_reset, 0);
	assert_true(f->t.used[VIRTIO_VSOCK_RXQ] > 0);
	close(fd);
	close(fd2);
}

static void host_data_respects_guest_credit(void **state)
{
	struct fx *f = *state;
	uint32_t hport, got = 0;
	const uint32_t credit = 10000;
	int fd = establish_host(f, credit, &hport);
	static uint8_t sent[30000], recvd[30000];
	struct pkt p;

	fill_pattern(sent, sizeof(sent), 1);
	host_write(fd, sent, sizeof(sent));
	guest_post_rx(f, 16);
	pump(f);
	while (guest_recv(f, &p)) {
		assert_int_equal(p.h.op, VSOCK_OP_RW);
		assert_int_equal(p.h.src_port, hport);
		assert_int_equal(p.h.dst_port, GUEST_PORT);
		memcpy(recvd + got, p.data, p.len);
		got += p.len;
	}
	assert_int_equal(got, credit); /* exactly the window, not a byte more */
	/* The guest's reader consumed it all: a credit update opens the window again. */
	guest_send(f, VSOCK_OP_CREDIT_UPDATE, GUEST_PORT, hport, 0, credit, got, NULL, 0);
	pump(f);
	while (guest_recv(f, &p)) {
		memcpy(recvd + got, p.data, p.len);
		got += p.len;
	}
	assert_int_equal(got, 2 * credit);
	guest_send(f, VSOCK_OP_CREDIT_UPDATE, GUEST_PORT, hport, 0, 2 * credit, got, NULL, 0);
	guest_post_rx(f, 16);
	pump(f);
	while (guest_recv(f, &p)) {
		memcpy(recvd + got, p.data, p.len);
		got += p.len;
	}
	assert_int_equal(got, sizeof(sent));
	assert_memory_equal(recvd, sent, sizeof(sent));
	close(fd);
}

static void guest_data_reaches_host_with_credit_updates(void **state)
{
	struct fx *f = *state;
	uint32_t hport, total = 0;
	int fd = establish_host(f, KiB(64), &hport);
	static uint8_t sent[VSOCK_BUF_ALLOC], recvd[VSOCK_BUF_ALLOC];
	struct pkt p;

	/* The whole advertised window, while the host reads nothing: kiln keeps what the socket won't. */
	fill_pattern(sent, sizeof(sent), 2);
	for (uint32_t off = 0; off < sizeof(sent); off += VSOCK_MAX_PKT)
		guest_send(f, VSOCK_OP_RW, GUEST_PORT, hport, 0, KiB(64), 0, sent + off, VSOCK_MAX_PKT);
	pump(f);
	for (int tries = 0; total < sizeof(sent) && tries < 1000; tries++) {
		ssize_t r = host_read(fd, recvd + total, sizeof(recvd) - total);

		if (r > 0)
			total += (uint32_t)r;
		pump(f); /* EPOLLOUT: the rest goes out */
	}
	assert_int_equal(total, sizeof(sent));
	assert_memory_equal(recvd, sent, sizeof(sent));
	/* Once the guest has rx buffers it hears that all of it was forwarded. */
	guest_post_rx(f, 4);
	guest_expect(f, &p, VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(p.h.fwd_cnt, sizeof(sent));
	assert_int_equal(p.h.buf_alloc, VSOCK_BUF_ALLOC);
	assert_false(guest_recv(f, &p));
	/* OP_CREDIT_REQUEST gets an OP_CREDIT_UPDATE. */
	guest_send(f, VSOCK_OP_CREDIT_REQUEST, GUEST_PORT, hport, 0, KiB(64), 0, NULL, 0);
	guest_expect(f, &p, VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(f->t.needs_reset, 0);
	close(fd);
}

static void guest_beyond_credit_is_reset(void **state)
{
	struct fx *f = *state;
	uint32_t hport;
	int fd = establish_host(f, KiB(64), &hport);
	static uint8_t data[VSOCK_MAX_PKT];
	struct pkt p;

	for (uint32_t off = 0; off < VSOCK_BUF_ALLOC; off += VSOCK_MAX_PKT)
		guest_send(f, VSOCK_OP_RW, GUEST_PORT, hport, 0, KiB(64), 0, data, VSOCK_MAX_PKT);
	guest_send(f, VSOCK_OP_RW, GUEST_PORT, hport, 0, KiB(64), 0, data, 1); /* no credit left */
	guest_post_rx(f, 4);
	guest_expect(f, &p, VSOCK_OP_RST);
	assert_int_equal(p.h.src_port, hport);
	/* The host gets what fit in the socket, then EOF; nothing is kept past the window. */
	ssize_t r;
	static uint8_t sink[VSOCK_BUF_ALLOC];

	while ((r = host_read(fd, sink, sizeof(sink))) > 0)
		;
	assert_true(r == 0 || r == -ECONNRESET);
	assert_int_equal(f->t.needs_reset, 0);
	close(fd);
}

static void host_eof_and_orderly_close(void **state)
{
	struct fx *f = *state;
	uint32_t hport;
	int fd = establish_host(f, KiB(64), &hport);
	struct pkt p;
	char buf[8];

	/* The host half-closes: the guest hears OP_SHUTDOWN SEND; the other way still works. */
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	guest_post_rx(f, 4);
	pump(f);
	guest_expect(f, &p, VSOCK_OP_SHUTDOWN);
	assert_int_equal(p.h.flags, VSOCK_SHUTDOWN_SEND);
	guest_send(f, VSOCK_OP_RW, GUEST_PORT, hport, 0, KiB(64), 0, "bye", 3);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "bye", 3);
	/* The guest closes too: kiln ends the connection with OP_RST and the host reads EOF. */
	guest_send(f, VSOCK_OP_SHUTDOWN, GUEST_PORT, hport, VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND, KiB(64),
		   0, NULL, 0);
	guest_expect(f, &p, VSOCK_OP_RST);
	host_expect_eof(fd);
	close(fd);
}

static void guest_shutdown_send_gives_host_eof(void **state)
{
	struct fx *f = *state;
	uint32_t hport;
	int fd = establish_host(f, KiB(64), &hport);
	char buf[8];

	guest_send(f, VSOCK_OP_RW, GUEST_PORT, hport, 0, KiB(64), 0, "last", 4);
	guest_send(f, VSOCK_OP_SHUTDOWN, GUEST_PORT, hport, VSOCK_SHUTDOWN_SEND, KiB(64), 0, NULL, 0);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 4);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	host_write(fd, "reply", 5); /* the other direction is still open */
	guest_post_rx(f, 2);
	pump(f);
	struct pkt p;

	guest_expect(f, &p, VSOCK_OP_RW);
	assert_int_equal(p.len, 5);
	close(fd);
}

static void guest_rst_gives_host_eof(void **state)
{
	struct fx *f = *state;
	uint32_t hport;
	int fd = establish_host(f, KiB(64), &hport);

	guest_send(f, VSOCK_OP_RST, GUEST_PORT, hport, 0, 0, 0, NULL, 0);
	host_expect_eof(fd);
	close(fd);
}

static void no_guest_listener_closes_host_client(void **state)
{
	struct fx *f = *state;
	int fd = host_connect_path(f->uds);
	struct pkt p;

	host_write(fd, "CONNECT 6000\n", 13);
	pump(f);
	guest_post_rx(f, 1);
	guest_expect(f, &p, VSOCK_OP_REQUEST);
	guest_send(f, VSOCK_OP_RST, 6000, p.h.src_port, 0, 0, 0, NULL, 0);
	host_expect_eof(fd);
	close(fd);
}

static void bad_handshake_closes_host_client(void **state)
{
	struct fx *f = *state;
	const char *lines[] = { "HELLO 5000\n", "CONNECT x\n", "CONNECT 99999999999\n",
				"CONNECT 5000 CONNECT 5000 CONNECT 5000\n" };

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		int fd = host_connect_path(f->uds);

		host_write(fd, lines[i], strlen(lines[i]));
		pump(f);
		host_expect_eof(fd);
		close(fd);
	}
	guest_post_rx(f, 1);
	struct pkt p;

	assert_false(guest_recv(f, &p)); /* the guest heard of none of them */
}

static void handshake_keeps_bytes_after_the_line(void **state)
{
	struct fx *f = *state;
	int fd = host_connect_path(f->uds);
	struct pkt p;
	char ok[32] = { 0 };

	host_write(fd, "CONN", 4); /* the line may come in pieces, with data behind it */
	pump(f);
	host_write(fd, "ECT 5000\nearly", 14);
	pump(f);
	guest_post_rx(f, 2);
	guest_expect(f, &p, VSOCK_OP_REQUEST);
	guest_send(f, VSOCK_OP_RESPONSE, GUEST_PORT, p.h.src_port, 0, KiB(64), 0, NULL, 0);
	assert_true(host_read(fd, ok, sizeof(ok) - 1) > 0);
	assert_memory_equal(ok, "OK ", 3);
	pump(f);
	guest_expect(f, &p, VSOCK_OP_RW);
	assert_int_equal(p.len, 5);
	assert_memory_equal(p.data, "early", 5);
	close(fd);
}

/* --- guest-initiated ----------------------------------------------------------------------------- */

static void guest_connect_reaches_uds_port_listener(void **state)
{
	struct fx *f = *state;
	char path[128], buf[8];
	struct pkt p;

	snprintf(path, sizeof(path), "%s_5001", f->uds);
	int lfd = host_listen(path);

	guest_post_rx(f, 4);
	guest_send(f, VSOCK_OP_REQUEST, 7777, 5001, 0, KiB(64), 0, NULL, 0);
	guest_expect(f, &p, VSOCK_OP_RESPONSE);
	assert_int_equal(p.h.src_port, 5001);
	assert_int_equal(p.h.dst_port, 7777);
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

	assert_true(fd >= 0);
	guest_send(f, VSOCK_OP_RW, 7777, 5001, 0, KiB(64), 0, "ping", 4);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	host_write(fd, "pong", 4);
	pump(f);
	guest_expect(f, &p, VSOCK_OP_RW);
	assert_memory_equal(p.data, "pong", 4);
	close(fd);
	close(lfd);
}

static void guest_connect_without_listener_gets_rst(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	guest_post_rx(f, 4);
	guest_send(f, VSOCK_OP_REQUEST, 7778, 5002, 0, KiB(64), 0, NULL, 0);
	guest_expect(f, &p, VSOCK_OP_RST);
	assert_int_equal(p.h.src_port, 5002);
	assert_int_equal(p.h.dst_port, 7778);
	/* Packets for connections that do not exist get OP_RST too, except OP_RST itself. */
	guest_send(f, VSOCK_OP_RW, 7779, 5003, 0, KiB(64), 0, "x", 1);
	guest_expect(f, &p, VSOCK_OP_RST);
	guest_send(f, VSOCK_OP_RST, 7779, 5003, 0, 0, 0, NULL, 0);
	assert_false(guest_recv(f, &p));
}

static void connections_are_bounded(void **state)
{
	struct fx *f = *state;
	char path[128];
	struct pkt p;

	snprintf(path, sizeof(path), "%s_5005", f->uds);
	int lfd = host_listen(path);

	assert_int_equal(listen(lfd, VSOCK_MAX_CONNS + 16), 0);
	/* No rx buffers: every OP_RESPONSE stays owed, every connection open. */
	for (uint32_t i = 0; i < VSOCK_MAX_CONNS; i++)
		guest_send(f, VSOCK_OP_REQUEST, 10000 + i, 5005, 0, KiB(64), 0, NULL, 0);
	guest_send(f, VSOCK_OP_REQUEST, 9999, 5005, 0, KiB(64), 0, NULL, 0);
	guest_post_rx(f, 1);
	guest_expect(f, &p, VSOCK_OP_RST); /* the one too many, first: refusals are not held back */
	assert_int_equal(p.h.dst_port, 9999);
	assert_int_equal(f->t.needs_reset, 0);
	close(lfd);
}

/* A bound below VSOCK_MAX_CONNS (what the VM's fd limit leaves) counts both kinds of connection. */
static void lowered_limit_bounds_both_kinds(void **state)
{
	struct fx *f = *state;
	char path[128], c;
	struct pkt p;

	assert_int_equal(virtio_vsock_limit_conns(f->vs, UINT64_MAX), VSOCK_MAX_CONNS);
	assert_int_equal(virtio_vsock_limit_conns(f->vs, 3), 3);
	snprintf(path, sizeof(path), "%s_5005", f->uds);
	int lfd = host_listen(path);
	int early = host_connect_path(f->uds); /* the first: a host client in its handshake */

	pump(f);
	guest_post_rx(f, 8);
	for (uint32_t port = 10000; port < 10002; port++) { /* the second and third */
		guest_send(f, VSOCK_OP_REQUEST, port, 5005, 0, KiB(64), 0, NULL, 0);
		guest_expect(f, &p, VSOCK_OP_RESPONSE);
	}
	guest_send(f, VSOCK_OP_REQUEST, 10002, 5005, 0, KiB(64), 0, NULL, 0);
	guest_expect(f, &p, VSOCK_OP_RST);
	assert_int_equal(p.h.dst_port, 10002);
	int late = host_connect_path(f->uds);

	pump(f);
	host_expect_eof(late); /* refused: accepted and closed at once */
	assert_int_equal(host_read(early, &c, 1), -EAGAIN); /* still served */
	/* The guest ends one: its slot serves the next request. */
	guest_send(f, VSOCK_OP_RST, 10000, 5005, 0, 0, 0, NULL, 0);
	guest_send(f, VSOCK_OP_REQUEST, 10003, 5005, 0, KiB(64), 0, NULL, 0);
	guest_expect(f, &p, VSOCK_OP_RESPONSE);
	assert_int_equal(p.h.dst_port, 10003);
	assert_int_equal(f->t.needs_reset, 0);
	close(late);
	close(early);
	close(lfd);
}

/* --- the VM ends, the driver resets ------------------------------------------------------------ */

static void destroy_and_reset_close_host_sockets(void **state)
{
	struct fx *f = *state;
	uint32_t hport;
	int fd = establish_host(f, KiB(64), &hport);
	int pending = host_connect_path(f->uds); /* still in its handshake */

	pump(f);
	f->dev->ops->reset(f->dev);
	pump(f); /* the I/O thread closes them */
	host_expect_eof(fd);
	host_expect_eof(pending);
	close(fd);
	close(pending);

	/* After a new activate, destroy closes what is open and removes the socket file. */
	assert_int_equal(f->dev->ops->activate(f->dev), 0);
	fd = host_connect_path(f->uds);
	host_write(fd, "CONNECT 5000\n", 13);
	pump(f);
	virtio_vsock_destroy(f->vs);
	host_expect_eof(fd);
	close(fd);
	assert_int_equal(access(f->uds, F_OK), -1);
	struct kiln_vsock cfg = { .guest_cid = CID, .uds_path = f->uds };
	char err[256];

	assert_int_equal(virtio_vsock_create(&cfg, &f->vs, err, sizeof(err)), 0); /* for teardown */
}

/* --- a hostile guest ----------------------------------------------------------------------------- */

static void malformed_headers_break_the_queue(void **state)
{
	struct fx *f = *state;
	static const uint8_t big[VSOCK_MAX_PKT + 1];
	struct gpkt cases[] = {
		/* no whole header; len above what the chain carries; len above the largest packet */
		{ .op = VSOCK_OP_RW, .hdr_seg = 40 },
		{ .op = VSOCK_OP_RW, .data = "abc", .len = 3, .set_hdr_len = true, .hdr_len = 4 },
		{ .op = VSOCK_OP_RW, .data = big, .len = sizeof(big) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(teardown(state), 0);
		assert_int_equal(setup(state), 0);
		f = *state;
		cases[i].src_port = 1;
		cases[i].dst_port = 2;
		guest_send_pkt(f, &cases[i]);
		assert_int_equal(f->t.needs_reset, 1);
		/* Nothing more is served until the driver resets. */
		guest_send(f, VSOCK_OP_REQUEST, 7, 8, 0, 0, 0, NULL, 0);
		assert_int_equal(f->t.needs_reset, 1);
	}
}

static void small_rx_buffer_breaks_the_queue(void **state)
{
	struct fx *f = *state;
	gpa_t buf = vqb_alloc(&f->rx, 16);
	struct vqb_seg seg = { buf, 16, true };

	vqb_publish(&f->rx, vqb_chain(&f->rx, &seg, 1));
	guest_send(f, VSOCK_OP_REQUEST, 7, 8, 0, 0, 0, NULL, 0); /* owes an OP_RST: no such listener */
	assert_int_equal(f->t.needs_reset, 1);
	assert_int_equal(vqb_used_idx(&f->rx), 0); /* nothing was written into it */
}

static void foreign_cids_are_dropped_and_odd_packets_reset(void **state)
{
	struct fx *f = *state;
	struct pkt p;
	struct gpkt wrong_src = { .src_cid = 9, .src_port = 1, .dst_port = 2, .op = VSOCK_OP_REQUEST };
	struct gpkt wrong_dst = { .dst_cid = 5, .src_port = 1, .dst_port = 2, .op = VSOCK_OP_REQUEST };
	struct gpkt seqpacket = { .type = 2, .src_port = 1, .dst_port = 2, .op = VSOCK_OP_REQUEST };
	struct gpkt unknown_op = { .src_port = 1, .dst_port = 2, .op = 42 };

	guest_post_rx(f, 8);
	guest_send_pkt(f, &wrong_src);
	guest_send_pkt(f, &wrong_dst);
	assert_false(guest_recv(f, &p));
	guest_send_pkt(f, &seqpacket);
	guest_expect(f, &p, VSOCK_OP_RST);
	guest_send_pkt(f, &unknown_op);
	guest_expect(f, &p, VSOCK_OP_RST);
	assert_int_equal(f->t.needs_reset, 0);
	assert_int_equal(vqb_used_idx(&f->tx), 4); /* every chain went back */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_errors_name_the_path),
		cmocka_unit_test_setup_teardown(create_replaces_only_stale_sockets, setup, teardown),
		cmocka_unit_test_setup_teardown(config_space_holds_the_cid, setup, teardown),
		cmocka_unit_test_setup_teardown(host_connect_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(host_data_respects_guest_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_data_reaches_host_with_credit_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(host_data_respects_guest_credit, setup_event_idx, teardown),
		cmocka_unit_test_setup_teardown(guest_data_reaches_host_with_credit_updates, setup_event_idx,
						teardown),
		cmocka_unit_test_setup_teardown(guest_beyond_credit_is_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(host_eof_and_orderly_close, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_shutdown_send_gives_host_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_rst_gives_host_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(no_guest_listener_closes_host_client, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_handshake_closes_host_client, setup, teardown),
		cmocka_unit_test_setup_teardown(handshake_keeps_bytes_after_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_connect_reaches_uds_port_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_connect_without_listener_gets_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(connections_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(lowered_limit_bounds_both_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(destroy_and_reset_close_host_sockets, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_headers_break_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(small_rx_buffer_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(foreign_cids_are_dropped_and_odd_packets_reset, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
