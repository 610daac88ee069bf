/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock connections and their host Unix sockets (Firecracker's model, see vsock.h).
 *
 * Guest -> host: OP_RW payloads are written to the socket straight from the tx chain; what the
 * socket does not take waits in a per-connection ring of VSOCK_BUF_ALLOC bytes, the buffer kiln
 * advertises, so a guest that respects its credit can never overflow it (one that does not is reset).
 * fwd_cnt grows as the socket takes bytes, and the guest hears of it (OP_CREDIT_UPDATE, or the
 * header of any packet kiln sends) once half of its window is spent (§5.10.6.3).
 * Host -> guest: the socket is watched for EPOLLIN only while the guest has credit for the
 * connection and the rx queue had a buffer; one read goes straight into each rx chain after the
 * header. Without rx buffers the connection waits on v->rx_waiters for the guest's next rx kick.
 * A connection ends with OP_RST once both directions are done, on OP_RST from the guest, or when the
 * host socket fails; the host end sees EOF when kiln closes the socket.
 */
#include "virtio/vsock_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "virtio/iov.h"

#define VSOCK_READS_PER_EVENT 16

/* --- lists, slots and the lookup table ------------------------------------------------------- */

void vsock_list_init(struct vsock_link *l)
{
	l->prev = l->next = l;
}

bool vsock_list_empty(const struct vsock_link *l)
{
	return l->next == l;
}

static bool vsock_linked(const struct vsock_link *n)
{
	return n->next != NULL;
}

static void vsock_list_add_tail(struct vsock_link *l, struct vsock_link *n)
{
	n->prev = l->prev;
	n->next = l;
	l->prev->next = n;
	l->prev = n;
}

void vsock_list_del(struct vsock_link *n)
{
	if (!vsock_linked(n))
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

void vsock_conns_init(struct virtio_vsock *v)
{
	vsock_list_init(&v->ctl_queue);
	vsock_list_init(&v->rx_waiters);
	v->next_port = VSOCK_FIRST_HOST_PORT;
}

static struct vsock_conn **vsock_bucket(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port)
{
	return &v->hash[(local_port * 2654435761u ^ peer_port) % VSOCK_HASH_SIZE];
}

struct vsock_conn *vsock_conn_find(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port)
{
	struct vsock_conn *c = *vsock_bucket(v, local_port, peer_port);

	while (c != NULL && (c->local_port != local_port || c->peer_port != peer_port))
		c = c->hash_next;
	return c;
}

static void vsock_hash_del(struct vsock_conn *c)
{
	struct vsock_conn **p = vsock_bucket(c->v, c->local_port, c->peer_port);

	while (*p != c)
		p = &(*p)->hash_next;
	*p = c->hash_next;
}

static void vsock_conn_ready(struct ev_handler *h, uint32_t events);

struct vsock_conn *vsock_conn_alloc(struct virtio_vsock *v, int fd)
{
	struct vsock_conn *c = v->free_conns;

	if (v->conns_open >= v->max_conns)
		return NULL;
	if (c != NULL)
		v->free_conns = c->free_next;
	else
		c = &v->conns[v->conns_made++]; /* max_conns <= VSOCK_MAX_CONNS slots */
	v->conns_open++;
	*c = (struct vsock_conn){ .handler.ready = vsock_conn_ready, .v = v, .state = VSOCK_CONN_HANDSHAKE,
				  .fd = fd };
	return c;
}

void vsock_conn_set_ports(struct vsock_conn *c, enum vsock_conn_state state, uint32_t local_port,
			  uint32_t peer_port)
{
	struct vsock_conn **b = vsock_bucket(c->v, local_port, peer_port);

	c->state = state;
	c->local_port = local_port;
	c->peer_port = peer_port;
	c->hash_next = *b;
	*b = c;
}

static void vsock_conn_close_fd(struct vsock_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->events != 0)
		io_loop_remove(c->v->dev.io, c->fd);
	c->events = 0;
	close(c->fd);
	c->fd = -1;
}

/* --- freeing ---------------------------------------------------------------------------------- */

void vsock_conn_free(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;

	vsock_conn_close_fd(c);
	vsock_list_del(&c->ctl_link);
	vsock_list_del(&c->wait_link);
	if (vsock_conn_has_ports(c))
		vsock_hash_del(c);
	free(c->buf);
	c->buf = NULL;
	c->state = VSOCK_CONN_FREE;
	c->free_next = v->free_conns;
	v->free_conns = c;
	v->conns_open--;
	if (v->accept_paused && vsock_listen_start(v) < 0)
		log_warn("virtio-vsock", "%s: cannot watch the listener again", v_path(v));
}

void vsock_conns_close_all(struct virtio_vsock *v)
{
	for (unsigned int i = 0; i < v->conns_made; i++) {
		if (v->conns[i].state != VSOCK_CONN_FREE)
			vsock_conn_free(&v->conns[i]);
	}
	v->orphans_len = 0;
}

/*
 * The vCPU thread may not close fds (its seccomp table): each socket is watched for EPOLLIN or
 * EPOLLOUT instead, which an open socket reports at once, and the I/O thread closes it then.
 */
void vsock_conns_drop_all(struct virtio_vsock *v)
{
	for (unsigned int i = 0; i < v->conns_made; i++) {
		struct vsock_conn *c = &v->conns[i];

		if (c->state == VSOCK_CONN_FREE || c->state == VSOCK_CONN_DROPPED)
			continue;
		if (c->fd < 0) {
			vsock_conn_free(c);
			continue;
		}
		vsock_list_del(&c->ctl_link);
		vsock_list_del(&c->wait_link);
		if (vsock_conn_has_ports(c))
			vsock_hash_del(c);
		c->state = VSOCK_CONN_DROPPED;
		if (c->events != 0)
			io_loop_remove(v->dev.io, c->fd);
		c->events = 0;
		if (io_loop_add(v->dev.io, c->fd, EPOLLIN | EPOLLOUT, &c->handler) == 0)
			c->events = EPOLLIN | EPOLLOUT;
		else
			log_warn("virtio-vsock", "a connection stays open until the VM ends");
	}
	v->orphans_len = 0;
}

/* --- state ------------------------------------------------------------------------------------- */

void vsock_conn_ctl(struct vsock_conn *c, unsigned int bits)
{
	c->ctl |= bits;
	if (!vsock_linked(&c->ctl_link))
		vsock_list_add_tail(&c->v->ctl_queue, &c->ctl_link);
}

void vsock_conn_reset(struct vsock_conn *c)
{
	/* The guest never heard of it: nothing to tell. */
	if (c->state == VSOCK_CONN_HANDSHAKE || (c->ctl & VSOCK_CTL_REQUEST)) {
		vsock_conn_free(c);
		return;
	}
	if (c->state == VSOCK_CONN_CLOSING)
		return;
	vsock_conn_close_fd(c);
	vsock_list_del(&c->wait_link);
	c->state = VSOCK_CONN_CLOSING;
	c->ctl = 0;
	vsock_conn_ctl(c, VSOCK_CTL_RST);
}

/* How many more payload bytes the guest can take on c (§5.10.6.3: peer_free). */
static uint32_t vsock_conn_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static uint32_t vsock_conn_wanted(const struct vsock_conn *c)
{
	uint32_t want = 0;

	if (c->fd < 0)
		return 0;
	if (c->state == VSOCK_CONN_HANDSHAKE)
		return EPOLLIN;
	if (c->state != VSOCK_CONN_ESTABLISHED)
		return 0;
	if (c->buf_len > 0)
		want |= EPOLLOUT;
	if (!c->host_eof && !c->guest_shut_rcv && !vsock_linked(&c->wait_link) && vsock_conn_credit(c) > 0)
		want |= EPOLLIN;
	return want;
}

void vsock_conn_watch(struct vsock_conn *c)
{
	uint32_t want = vsock_conn_wanted(c);

	if (want == c->events)
		return;
	if (c->events != 0)
		io_loop_remove(c->v->dev.io, c->fd);
	c->events = 0;
	if (want == 0)
		return;
	int rc = io_loop_add(c->v->dev.io, c->fd, want, &c->handler);

	if (rc < 0) {
		log_warn("virtio-vsock", "watching a connection's socket: %s; resetting it", strerror(-rc));
		vsock_conn_reset(c);
		return;
	}
	c->events = want;
}

void vsock_conn_peer_credit(struct vsock_conn *c, uint32_t buf_alloc, uint32_t fwd_cnt)
{
	c->peer_buf_alloc = buf_alloc;
	c->peer_fwd_cnt = fwd_cnt;
	vsock_conn_watch(c);
}

/* Both directions are done: the guest's data all reached the socket and nothing more flows. */
static void vsock_conn_check_done(struct vsock_conn *c)
{
	if (c->state != VSOCK_CONN_ESTABLISHED || !c->guest_shut_send || c->buf_len > 0)
		return;
	if (c->host_eof || c->guest_shut_rcv)
		vsock_conn_reset(c);
}

void vsock_conn_ctl_sent(struct vsock_conn *c, uint16_t op)
{
	if (op == VSOCK_OP_RST) {
		vsock_conn_free(c);
	} else if (op == VSOCK_OP_RESPONSE) {
		c->state = VSOCK_CONN_ESTABLISHED;
		vsock_conn_watch(c);
	}
}

/* --- guest -> host ----------------------------------------------------------------------------- */

ssize_t vsock_sendv(int fd, const struct iovec *iov, unsigned int n)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };
	ssize_t r;

	do {
		r = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* After bytes reached the socket: end the connection, half-close it, or tell the guest of credit. */
static void vsock_conn_forwarded(struct vsock_conn *c)
{
	vsock_conn_check_done(c);
	if (c->state != VSOCK_CONN_ESTABLISHED)
		return;
	if (c->buf_len == 0 && c->guest_shut_send && !c->host_shut_wr) {
		/* The host end reads EOF once it has every byte the guest sent. */
		if (shutdown(c->fd, SHUT_WR) < 0)
			log_debug("virtio-vsock", "shutdown of a host socket: %s", strerror(errno));
		c->host_shut_wr = true;
	}
	if (c->fwd_cnt != c->fwd_cnt_sent && c->rx_cnt - c->fwd_cnt_sent >= VSOCK_BUF_ALLOC / 2)
		vsock_conn_ctl(c, VSOCK_CTL_CREDIT);
	vsock_conn_watch(c);
}

/* The two spans of the ring that hold buffered bytes (or, for `free`, the free space). */
static unsigned int vsock_ring_iov(const struct vsock_conn *c, bool free_space, struct iovec iov[2])
{
	uint32_t start = free_space ? (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC : c->buf_head;
	uint32_t len = free_space ? VSOCK_BUF_ALLOC - c->buf_len : c->buf_len;
	uint32_t first = len < VSOCK_BUF_ALLOC - start ? len : VSOCK_BUF_ALLOC - start;

	iov[0] = (struct iovec){ c->buf + start, first };
	iov[1] = (struct iovec){ c->buf, len - first };
	return len == first ? 1 : 2;
}

/* Writes out the ring; resets c when the socket failed. */
static void vsock_conn_flush(struct vsock_conn *c)
{
	while (c->buf_len > 0) {
		struct iovec iov[2];
		ssize_t r = vsock_sendv(c->fd, iov, vsock_ring_iov(c, false, iov));

		if (r == -EAGAIN)
			break;
		if (r < 0) {
			log_debug("virtio-vsock", "writing to a host socket: %s", strerror((int)-r));
			vsock_conn_reset(c);
			return;
		}
		c->buf_len -= (uint32_t)r;
		c->buf_head = c->buf_len == 0 ? 0 : (c->buf_head + (uint32_t)r) % VSOCK_BUF_ALLOC;
		c->fwd_cnt += (uint32_t)r;
		virtio_stat_add(&c->v->dev.stats.bytes_from_guest, (unsigned long long)r);
	}
	vsock_conn_forwarded(c);
}

/* Keeps bytes [skip, len) of iov[0..n) for later; the credit check made sure they fit. */
static int vsock_conn_keep(struct vsock_conn *c, const struct iovec *iov, unsigned int n, uint32_t skip,
			   uint32_t len)
{
	struct iovec space[2];

	if (c->buf == NULL && (c->buf = malloc(VSOCK_BUF_ALLOC)) == NULL)
		return -ENOMEM;
	vsock_ring_iov(c, true, space);
	uint32_t first = len - skip < space[0].iov_len ? len - skip : (uint32_t)space[0].iov_len;

	iov_to_buf(iov, n, skip, space[0].iov_base, first);
	iov_to_buf(iov, n, skip + first, space[1].iov_base, len - skip - first);
	c->buf_len += len - skip;
	return 0;
}

void vsock_conn_guest_data(struct vsock_conn *c, const struct iovec *iov, unsigned int n, uint32_t len)
{
	ssize_t sent = 0;

	if (c->state != VSOCK_CONN_ESTABLISHED || c->guest_shut_send) {
		vsock_conn_reset(c);
		return;
	}
	if ((uint64_t)(c->rx_cnt - c->fwd_cnt_sent) + len > VSOCK_BUF_ALLOC) {
		log_guest(LOG_WARN, "virtio-vsock", "port %u: the guest sent beyond its credit; resetting",
			  c->local_port);
		vsock_conn_reset(c);
		return;
	}
	c->rx_cnt += len;
	if (c->buf_len == 0 && len > 0) {
		sent = vsock_sendv(c->fd, iov, n);
		if (sent == -EAGAIN) {
			sent = 0;
		} else if (sent < 0) {
			log_debug("virtio-vsock", "writing to a host socket: %s", strerror((int)-sent));
			vsock_conn_reset(c);
			return;
		}
		c->fwd_cnt += (uint32_t)sent;
		virtio_stat_add(&c->v->dev.stats.bytes_from_guest, (unsigned long long)sent);
	}
	if ((uint32_t)sent < len && vsock_conn_keep(c, iov, n, (uint32_t)sent, len) < 0) {
		log_warn("virtio-vsock", "no memory for a connection's buffer; resetting it");
		vsock_conn_reset(c);
		return;
	}
	vsock_conn_forwarded(c);
}

void vsock_conn_guest_shutdown(struct vsock_conn *c, uint32_t flags)
{
	if (c->state != VSOCK_CONN_ESTABLISHED) {
		vsock_conn_reset(c);
		return;
	}
	c->guest_shut_rcv |= (flags & VSOCK_SHUTDOWN_RCV) != 0;
	if (flags & VSOCK_SHUTDOWN_SEND)
		c->guest_shut_send = true;
	vsock_conn_forwarded(c);
}

/* --- host -> guest ----------------------------------------------------------------------------- */

/* Reads the socket into rx chains while the guest has credit and buffers. */
static void vsock_conn_to_guest(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;

	for (unsigned int i = 0; i < VSOCK_READS_PER_EVENT && (vsock_conn_wanted(c) & EPOLLIN); i++) {
		uint32_t credit = vsock_conn_credit(c);
		int rc = vsock_rx_take(v);

		if (rc < 0)
			return;
		if (rc == 0) { /* no rx buffer: wait for the guest's next rx kick */
			vsock_list_add_tail(&v->rx_waiters, &c->wait_link);
			break;
		}
		ssize_t n = vsock_rx_read(v, c->fd, credit < VSOCK_MAX_PKT ? credit : VSOCK_MAX_PKT);

		if (n > 0) {
			vsock_rx_send(v, c, VSOCK_OP_RW, 0, (uint32_t)n);
			c->tx_cnt += (uint32_t)n;
			virtio_stat_add(&v->dev.stats.bytes_to_guest, (unsigned long long)n);
		} else if (n == -ENOBUFS) { /* a header-only buffer: it carries credit instead */
			vsock_rx_send(v, c, VSOCK_OP_CREDIT_UPDATE, 0, 0);
		} else if (n == -EAGAIN) {
			break; /* the chain stays held for the next packet */
		} else if (n == 0) {
			c->host_eof = true;
			vsock_conn_ctl(c, VSOCK_CTL_SHUTDOWN);
			vsock_conn_check_done(c);
			break;
		} else {
			log_debug("virtio-vsock", "reading a host socket: %s", strerror((int)-n));
			vsock_conn_reset(c);
			return;
		}
	}
	vsock_conn_watch(c);
}

void vsock_conns_rx_ready(struct virtio_vsock *v)
{
	while (!vsock_list_empty(&v->rx_waiters)) {
		struct vsock_conn *c = container_of(v->rx_waiters.next, struct vsock_conn, wait_link);

		vsock_list_del(&c->wait_link);
		vsock_conn_watch(c);
	}
}

/* --- the I/O loop ------------------------------------------------------------------------------ */

/*
 * A connection's socket is ready. The event may be older than the slot's current connection (see
 * vsock_conn.h): the state and the syscalls' results decide, not the event bits.
 */
static void vsock_conn_ready(struct ev_handler *h, uint32_t events)
{
	struct vsock_conn *c = container_of(h, struct vsock_conn, handler);
	struct virtio_vsock *v = c->v;

	(void)events;
	pthread_mutex_lock(&v->lock);
	if (c->state == VSOCK_CONN_DROPPED) {
		vsock_conn_free(c);
	} else if (v->active && !v->broken) {
		if (c->state == VSOCK_CONN_HANDSHAKE) {
			vsock_conn_handshake(c);
		} else if (c->state == VSOCK_CONN_ESTABLISHED) {
			vsock_conn_flush(c);
			if (c->state == VSOCK_CONN_ESTABLISHED)
				vsock_conn_to_guest(c);
		}
		vsock_rx_flush_ctl(v);
	}
	vsock_signal(v);
	pthread_mutex_unlock(&v->lock);
}
