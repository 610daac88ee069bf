/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock (virtio 1.2 §5.10): the device, its virtqueues and the packet protocol (§5.10.6).
 * Stream sockets only (VIRTIO_VSOCK_F_STREAM is implied when no feature bit is negotiated, §5.10.3);
 * no SEQPACKET. The connections and their host sockets are in vsock_conn.c and vsock_host.c.
 *
 * tx: each chain holds one packet, a 44-byte header then len bytes of payload. The header is copied
 * once and checked: a chain too short for its header or for len, or len above VSOCK_MAX_PKT, breaks
 * the queue (NEEDS_RESET); a packet not from the guest's CID to the host's is dropped; a type other
 * than STREAM or an unknown op gets OP_RST (§5.10.6.4).
 * rx: kiln's packets, one per chain: control packets owed by connections (and RSTs for packets that
 * matched none) first, then data read straight from host sockets behind the header.
 * event: the only event is TRANSPORT_RESET, owed to the driver after a restore (see Snapshots below).
 */
#include "virtio/vsock.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "virtio/iov.h"
#include "virtio/vsock_conn.h"

static struct virtio_vsock *vsock_of(struct virtio_dev *d)
{
	return container_of(d, struct virtio_vsock, dev);
}

/* --- rx ---------------------------------------------------------------------------------------- */

int vsock_rx_take(struct virtio_vsock *v)
{
	struct virtq *q = &v->dev.queues[VIRTIO_VSOCK_RXQ];
	int rc;

	if (v->rx_held)
		return 1;
	if (v->broken)
		return -EBADMSG;
	do {
		rc = virtq_pop(q, &v->rx_elem, v->rx_iov, ARRAY_SIZE(v->rx_iov));
	} while (rc == 0 && virtq_enable_kicks(q));
	if (rc > 0 && v->rx_elem.in_len < VSOCK_HDR_SIZE) {
		log_guest(LOG_WARN, "virtio-vsock", "an rx buffer too small for a packet header");
		rc = -EBADMSG;
	}
	if (rc < 0)
		v->broken = true;
	v->rx_held = rc > 0;
	return rc;
}

ssize_t vsock_rx_read(struct virtio_vsock *v, int fd, uint32_t max)
{
	const struct virtq_elem *e = &v->rx_elem;
	uint64_t room = e->in_len - VSOCK_HDR_SIZE;
	unsigned int n;
	ssize_t r;

	if (room == 0)
		return -ENOBUFS;
	n = iov_slice(v->rx_iov + e->out_num, e->in_num, VSOCK_HDR_SIZE, room < max ? room : max,
		      v->slice_iov);
	do {
		r = readv(fd, v->slice_iov, (int)n);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* Returns the held chain with hdr and len payload bytes (already there) in it. */
static void vsock_rx_put(struct virtio_vsock *v, const struct vsock_hdr *hdr, uint32_t len)
{
	const struct virtq_elem *e = &v->rx_elem;
	struct iovec h[VSOCK_HDR_SIZE];
	unsigned int n = iov_slice(v->rx_iov + e->out_num, e->in_num, 0, VSOCK_HDR_SIZE, h);

	iov_from_buf(h, n, hdr);
	virtq_push(&v->dev.queues[VIRTIO_VSOCK_RXQ], e->head, VSOCK_HDR_SIZE + len);
	v->rx_held = false;
	v->rx_used = true;
}

static struct vsock_hdr vsock_hdr_to_guest(const struct virtio_vsock *v, uint32_t local_port,
					   uint32_t peer_port, uint16_t op)
{
	return (struct vsock_hdr){
		.src_cid = htole64(VIRTIO_VSOCK_HOST_CID),
		.dst_cid = htole64(v->guest_cid),
		.src_port = htole32(local_port),
		.dst_port = htole32(peer_port),
		.type = htole16(VSOCK_TYPE_STREAM),
		.op = htole16(op),
	};
}

void vsock_rx_send(struct virtio_vsock *v, struct vsock_conn *c, uint16_t op, uint32_t flags, uint32_t len)
{
	struct vsock_hdr h = vsock_hdr_to_guest(v, c->local_port, c->peer_port, op);

	h.len = htole32(len);
	h.flags = htole32(flags);
	h.buf_alloc = htole32(VSOCK_BUF_ALLOC);
	h.fwd_cnt = htole32(c->fwd_cnt);
	/* Every header carries the credit: no separate OP_CREDIT_UPDATE is owed any more. */
	c->fwd_cnt_sent = c->fwd_cnt;
	c->ctl &= ~VSOCK_CTL_CREDIT;
	if (c->ctl == 0)
		vsock_list_del(&c->ctl_link);
	vsock_rx_put(v, &h, len);
}

/* Owes the guest an OP_RST for a packet that matched no connection (dropped when too many wait). */
static void vsock_orphan_rst(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port)
{
	if (v->orphans_len == VSOCK_MAX_ORPHANS) {
		log_guest(LOG_DEBUG, "virtio-vsock", "too many resets owed; dropping one");
		return;
	}
	v->orphans[(v->orphans_head + v->orphans_len++) % VSOCK_MAX_ORPHANS] =
		(struct vsock_orphan){ local_port, peer_port };
}

/* The next control packet c owes, most urgent first; takes its bit unless it is the credit. */
static uint16_t vsock_ctl_next(struct vsock_conn *c, uint32_t *flags)
{
	static const struct { unsigned int bit; uint16_t op; } order[] = {
		{ VSOCK_CTL_RST, VSOCK_OP_RST },
		{ VSOCK_CTL_REQUEST, VSOCK_OP_REQUEST },
		{ VSOCK_CTL_RESPONSE, VSOCK_OP_RESPONSE },
		{ VSOCK_CTL_SHUTDOWN, VSOCK_OP_SHUTDOWN },
	};

	*flags = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++) {
		if (c->ctl & order[i].bit) {
			c->ctl &= ~order[i].bit;
			if (order[i].op == VSOCK_OP_SHUTDOWN)
				*flags = VSOCK_SHUTDOWN_SEND;
			return order[i].op;
		}
	}
	return VSOCK_OP_CREDIT_UPDATE; /* vsock_rx_send clears VSOCK_CTL_CREDIT */
}

void vsock_rx_flush_ctl(struct virtio_vsock *v)
{
	while (v->orphans_len > 0 || !vsock_list_empty(&v->ctl_queue)) {
		if (vsock_rx_take(v) <= 0)
			return;
		if (v->orphans_len > 0) {
			const struct vsock_orphan *o = &v->orphans[v->orphans_head];
			struct vsock_hdr h = vsock_hdr_to_guest(v, o->local_port, o->peer_port, VSOCK_OP_RST);

			v->orphans_head = (v->orphans_head + 1) % VSOCK_MAX_ORPHANS;
			v->orphans_len--;
			vsock_rx_put(v, &h, 0);
			continue;
		}
		struct vsock_conn *c = container_of(v->ctl_queue.next, struct vsock_conn, ctl_link);
		uint32_t flags;
		uint16_t op = vsock_ctl_next(c, &flags);

		vsock_rx_send(v, c, op, flags, 0);
		vsock_conn_ctl_sent(c, op);
	}
}

void vsock_signal(struct virtio_vsock *v)
{
	if (v->rx_used)
		v->dev.transport->used(&v->dev, VIRTIO_VSOCK_RXQ);
	if (v->tx_used)
		v->dev.transport->used(&v->dev, VIRTIO_VSOCK_TXQ);
	if (v->event_used)
		v->dev.transport->used(&v->dev, VIRTIO_VSOCK_EVENTQ);
	v->rx_used = v->tx_used = v->event_used = false;
	if (v->broken && !v->broken_reported) {
		/* The driver must reset the device, which drops every connection: do it now. */
		v->broken_reported = true;
		vsock_listen_stop(v);
		vsock_conns_close_all(v);
		v->rx_held = false;
		v->dev.transport->needs_reset(&v->dev);
	}
}

/* --- tx ---------------------------------------------------------------------------------------- */

/* A packet for no connection: OP_REQUEST connects; anything but OP_RST gets OP_RST. */
static void vsock_tx_no_conn(struct virtio_vsock *v, uint16_t op, const struct vsock_hdr *h)
{
	uint32_t local_port = le32toh(h->dst_port), peer_port = le32toh(h->src_port);

	if (op == VSOCK_OP_RST)
		return;
	if (op == VSOCK_OP_REQUEST) {
		int rc = vsock_conn_guest_connect(v, local_port, peer_port, le32toh(h->buf_alloc),
						  le32toh(h->fwd_cnt));
		if (rc == 0)
			return;
		log_guest(LOG_DEBUG, "virtio-vsock", "guest connect to host port %u: %s", local_port,
			  strerror(-rc));
		virtio_stat_add(&v->dev.stats.errors, 1);
	}
	vsock_orphan_rst(v, local_port, peer_port);
}

/* One packet for an existing connection c. */
static void vsock_tx_conn(struct virtio_vsock *v, struct vsock_conn *c, uint16_t op,
			  const struct vsock_hdr *h, const struct virtq_elem *e)
{
	uint32_t len = le32toh(h->len);
	unsigned int n;

	vsock_conn_peer_credit(c, le32toh(h->buf_alloc), le32toh(h->fwd_cnt));
	switch (op) {
	case VSOCK_OP_RW:
		n = iov_slice(v->tx_iov, e->out_num, VSOCK_HDR_SIZE, len, v->slice_iov);
		vsock_conn_guest_data(c, v->slice_iov, n, len);
		break;
	case VSOCK_OP_RESPONSE:
		vsock_conn_guest_accepted(c);
		break;
	case VSOCK_OP_SHUTDOWN:
		vsock_conn_guest_shutdown(c, le32toh(h->flags));
		break;
	case VSOCK_OP_RST:
		vsock_conn_free(c);
		break;
	case VSOCK_OP_CREDIT_UPDATE: /* taken above */
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		vsock_conn_ctl(c, VSOCK_CTL_CREDIT);
		break;
	case VSOCK_OP_REQUEST: /* for a connection that exists: a confused driver */
	default:
		log_guest(LOG_DEBUG, "virtio-vsock", "port %u: unexpected op %u; resetting", c->local_port,
			  op);
		vsock_conn_reset(c);
		break;
	}
}

/* One tx chain; -EBADMSG when it is malformed. */
static int vsock_tx_packet(struct virtio_vsock *v, const struct virtq_elem *e)
{
	struct vsock_hdr h;

	if (e->out_len < VSOCK_HDR_SIZE) {
		log_guest(LOG_WARN, "virtio-vsock", "a tx packet without a header");
		return -EBADMSG;
	}
	iov_to_buf(v->tx_iov, e->out_num, 0, &h, sizeof(h));
	uint32_t len = le32toh(h.len);
	uint16_t op = le16toh(h.op);

	if (len > e->out_len - VSOCK_HDR_SIZE || len > VSOCK_MAX_PKT) {
		log_guest(LOG_WARN, "virtio-vsock", "a tx packet of %u bytes in a chain of %llu", len,
			  (unsigned long long)e->out_len);
		return -EBADMSG;
	}
	if (le64toh(h.src_cid) != v->guest_cid || le64toh(h.dst_cid) != VIRTIO_VSOCK_HOST_CID) {
		log_guest(LOG_WARN, "virtio-vsock", "dropped a packet from CID %llu to CID %llu",
			  (unsigned long long)le64toh(h.src_cid), (unsigned long long)le64toh(h.dst_cid));
		return 0;
	}
	struct vsock_conn *c = vsock_conn_find(v, le32toh(h.dst_port), le32toh(h.src_port));

	if (le16toh(h.type) != VSOCK_TYPE_STREAM) {
		if (op != VSOCK_OP_RST)
			vsock_orphan_rst(v, le32toh(h.dst_port), le32toh(h.src_port));
	} else if (c == NULL) {
		vsock_tx_no_conn(v, op, &h);
	} else if (c->state != VSOCK_CONN_CLOSING) { /* else an OP_RST is on its way */
		vsock_tx_conn(v, c, op, &h, e);
	}
	return 0;
}

/* Serves tx chains until the ring stays empty with kicks enabled (§2.7.10). */
static void vsock_tx_drain(struct virtio_vsock *v)
{
	struct virtq *q = &v->dev.queues[VIRTIO_VSOCK_TXQ];

	do {
		virtq_disable_kicks(q);
		for (;;) {
			struct virtq_elem e;
			int rc = virtq_pop(q, &e, v->tx_iov, ARRAY_SIZE(v->tx_iov));

			if (rc == 0)
				break;
			if (rc > 0)
				rc = vsock_tx_packet(v, &e);
			if (rc < 0) {
				v->broken = true;
				return;
			}
			virtq_push(q, e.head, 0);
			v->tx_used = true;
			virtio_stat_add(&v->dev.stats.requests, 1);
			vsock_rx_flush_ctl(v); /* answers go out as the packets come in */
		}
	} while (virtq_enable_kicks(q));
}

/* --- event ------------------------------------------------------------------------------------- */

/*
 * Sends the TRANSPORT_RESET owed, once the driver has an event buffer (§5.10.6.6: struct
 * virtio_vsock_event, le32 id). A driver that left the event queue unused gets none; a buffer too
 * small for the event breaks the device, as an rx buffer too small for a header does.
 */
static void vsock_event_flush(struct virtio_vsock *v)
{
	struct virtq *q = &v->dev.queues[VIRTIO_VSOCK_EVENTQ];
	const uint32_t event = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	struct iovec part[sizeof(event)]; /* a slice skips empty iovecs: at most one per byte */
	struct virtq_elem e;
	int rc;

	if (!v->reset_owed)
		return;
	if (q->used == NULL) {
		v->reset_owed = false;
		return;
	}
	/* tx_iov is scratch outside vsock_tx_drain; rx_iov may hold the held rx chain. */
	do {
		rc = virtq_pop(q, &e, v->tx_iov, ARRAY_SIZE(v->tx_iov));
	} while (rc == 0 && virtq_enable_kicks(q));
	if (rc > 0 && e.in_len < sizeof(event)) {
		log_guest(LOG_WARN, "virtio-vsock", "an event buffer too small for an event");
		rc = -EBADMSG;
	}
	if (rc < 0)
		v->broken = true;
	if (rc <= 0)
		return;
	iov_from_buf(part, iov_slice(v->tx_iov + e.out_num, e.in_num, 0, sizeof(event), part), &event);
	virtq_push(q, e.head, sizeof(event));
	v->reset_owed = false;
	v->event_used = true;
}

/* --- device ops -------------------------------------------------------------------------------- */

static void vsock_queue_notify(struct virtio_dev *d, unsigned int q)
{
	struct virtio_vsock *v = vsock_of(d);

	pthread_mutex_lock(&v->lock);
	if (v->active && !v->broken)
		vsock_event_flush(v); /* first: the driver drops its old connections before new packets */
	if (v->active && !v->broken) {
		if (q == VIRTIO_VSOCK_RXQ)
			vsock_conns_rx_ready(v);
		else if (q == VIRTIO_VSOCK_TXQ)
			vsock_tx_drain(v);
		vsock_rx_flush_ctl(v);
	}
	vsock_signal(v);
	pthread_mutex_unlock(&v->lock);
}

/* §5.10.4: le64 guest_cid, read-only. */
static void vsock_config_read(struct virtio_dev *d, uint64_t offset, void *data, unsigned int len)
{
	uint64_t cid = htole64(vsock_of(d)->guest_cid);

	if (offset < sizeof(cid) && len <= sizeof(cid) - offset)
		memcpy(data, (const uint8_t *)&cid + offset, len);
}

static int vsock_activate(struct virtio_dev *d)
{
	struct virtio_vsock *v = vsock_of(d);

	pthread_mutex_lock(&v->lock);
	v->broken = v->broken_reported = v->reset_owed = false;
	int rc = vsock_listen_start(v);

	v->active = rc == 0;
	pthread_mutex_unlock(&v->lock);
	if (rc < 0)
		log_error("virtio-vsock", "%s: cannot watch the listener: %s", v_path(v), strerror(-rc));
	return rc;
}

/* The driver reset the device: every connection goes (the I/O thread closes them; the host ends see EOF). */
static void vsock_reset(struct virtio_dev *d)
{
	struct virtio_vsock *v = vsock_of(d);

	pthread_mutex_lock(&v->lock);
	v->active = false;
	vsock_listen_stop(v);
	vsock_conns_drop_all(v);
	v->rx_held = v->reset_owed = false;
	pthread_mutex_unlock(&v->lock);
}

/*
 * Snapshots. Saved: the guest's CID, which the restored machine's must equal, and whether the device
 * broke (the transport keeps NEEDS_RESET; this keeps the device from serving until the driver resets
 * it). The rx chain the device may hold is taken again after a restore (chains_held): it holds no
 * data, as a read into it is sent at once.
 *
 * Connections do not survive a snapshot, as in Firecracker: they are host sockets of the process that
 * took it. The restored device starts with none, its listener at uds_path made afresh by create (the
 * snapshotted process's stale socket file replaced), and owes the driver a TRANSPORT_RESET event
 * (§5.10.6.6), sent as soon as the event queue has a buffer: a driver then drops every connection
 * it had (Linux resets each socket, ECONNRESET). Data in flight is lost to the restored guest: what
 * a connection's buffer held for its host socket, what the host sockets' kernel buffers held, and
 * the control packets owed stay with the snapshotted process (which delivers them if it runs on);
 * what the guest's own sockets held goes with them. New connections work as before, both ways.
 */
static void vsock_save(struct virtio_dev *d, struct snap_writer *w)
{
	struct virtio_vsock *v = vsock_of(d);

	pthread_mutex_lock(&v->lock);
	snap_put_u64(w, v->guest_cid);
	snap_put_bool(w, v->broken);
	pthread_mutex_unlock(&v->lock);
}

static int vsock_load(struct virtio_dev *d, struct snap_cursor *c, char *why, size_t whylen)
{
	struct virtio_vsock *v = vsock_of(d);
	uint64_t cid = snap_get_u64(c);
	bool broken = snap_get_bool(c);

	if (c->err < 0)
		return 0; /* the transport's snap_cursor_finish says the section is malformed */
	if (cid != v->guest_cid)
		return fail_with(why, whylen, -EINVAL, "%s: the snapshot's guest CID is %llu, its machine's %llu",
				 d->name, (unsigned long long)cid, (unsigned long long)v->guest_cid);
	pthread_mutex_lock(&v->lock);
	if (v->active && broken) {
		v->broken = v->broken_reported = true;
		vsock_listen_stop(v);
	} else if (v->active) {
		v->reset_owed = true; /* sent at the kick every queue gets after a restore */
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static unsigned int vsock_chains_held(struct virtio_dev *d, unsigned int q)
{
	struct virtio_vsock *v = vsock_of(d);

	pthread_mutex_lock(&v->lock);
	unsigned int held = q == VIRTIO_VSOCK_RXQ && v->rx_held;
	pthread_mutex_unlock(&v->lock);
	return held;
}

static const struct virtio_dev_ops vsock_ops = {
	.config_read = vsock_config_read,
	.activate = vsock_activate,
	.reset = vsock_reset,
	.queue_notify = vsock_queue_notify,
	.save = vsock_save,
	.load = vsock_load,
	.chains_held = vsock_chains_held,
};

/* --- create / destroy -------------------------------------------------------------------------- */

/* kiln_config_validate checks the same; here it guards the copy into sun_path for any caller. */
static int vsock_check_config(const struct kiln_vsock *cfg, char *err, size_t errlen)
{
	/* Room for "_<port>" after the path: guest connects go to "<uds_path>_<port>". */
	const size_t max = KILN_MAX_VSOCK_UDS;
	_Static_assert(KILN_MAX_VSOCK_UDS + sizeof("_4294967295") <= sizeof(((struct sockaddr_un *)0)->sun_path),
		       "uds_path_PORT fits in sun_path");

	if (cfg->guest_cid < 3) {
		snprintf(err, errlen, "vsock: guest CID %u is reserved (use 3 or above)", cfg->guest_cid);
		return -EINVAL;
	}
	if (cfg->uds_path == NULL || cfg->uds_path[0] == '\0') {
		snprintf(err, errlen, "vsock: no uds path");
		return -EINVAL;
	}
	if (strlen(cfg->uds_path) > max) {
		snprintf(err, errlen, "vsock: %s: path too long (%zu bytes; at most %zu, leaving room for "
			 "_PORT)", cfg->uds_path, strlen(cfg->uds_path), max);
		return -ENAMETOOLONG;
	}
	return 0;
}

int virtio_vsock_create(const struct kiln_vsock *cfg, struct virtio_vsock **out, char *err, size_t errlen)
{
	int rc = vsock_check_config(cfg, err, errlen);
	struct virtio_vsock *v;

	if (rc < 0)
		return rc;
	v = calloc(1, sizeof(*v));
	if (v == NULL || (v->conns = calloc(VSOCK_MAX_CONNS, sizeof(*v->conns))) == NULL) {
		free(v);
		snprintf(err, errlen, "vsock: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&v->lock, NULL);
	v->guest_cid = cfg->guest_cid;
	v->addr.sun_family = AF_UNIX;
	strcpy(v->addr.sun_path, cfg->uds_path); /* fits: checked above */
	v->listen_handler.ready = vsock_listen_ready;
	v->max_conns = VSOCK_MAX_CONNS;
	vsock_conns_init(v);
	v->dev = (struct virtio_dev){
		.ops = &vsock_ops,
		.name = "virtio-vsock",
		.device_id = VIRTIO_ID_VSOCK,
		.device_features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
		.num_queues = 3,
		.queue_max_size = VSOCK_QUEUE_SIZE,
	};
	v->listen_fd = -1;
	rc = vsock_listen_open(v, err, errlen);
	if (rc < 0) {
		virtio_vsock_destroy(v);
		return rc;
	}
	*out = v;
	return 0;
}

struct virtio_dev *virtio_vsock_dev(struct virtio_vsock *v)
{
	return &v->dev;
}

unsigned int virtio_vsock_limit_conns(struct virtio_vsock *v, uint64_t max)
{
	pthread_mutex_lock(&v->lock);
	v->max_conns = max < VSOCK_MAX_CONNS ? (unsigned int)max : VSOCK_MAX_CONNS;
	unsigned int now = v->max_conns;
	pthread_mutex_unlock(&v->lock);
	return now;
}

void virtio_vsock_destroy(struct virtio_vsock *v)
{
	if (v == NULL)
		return;
	vsock_listen_stop(v);
	vsock_conns_close_all(v);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v_path(v));
	}
	pthread_mutex_destroy(&v->lock);
	free(v->conns);
	free(v);
}
