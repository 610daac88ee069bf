/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (virtio 1.2 §5.1) over a tap device opened with a 12-byte vnet header: the header a
 * frame carries in the guest's buffers is the header the tap reads and writes, so frames move with
 * one readv or writev straight between the tap and guest memory.
 *
 * Transmit (§5.1.6.2): each transmitq chain's readable bytes (header, then frame) are one writev.
 * When the tap's send buffer is full (EAGAIN) the chain stays pending, the tap is watched for
 * EPOLLOUT and the queue resumes from that chain: nothing is dropped for backpressure. A frame the
 * tap refuses (a bad header, too long) is dropped with a rate-limited warning.
 *
 * Receive (§5.1.6.3, §5.1.6.4): receive chains are taken from the ring and held, their writable
 * iovecs side by side, until a frame surely fits: with MRG_RXBUF, 65562 bytes (a whole GSO frame,
 * §5.1.6.3.1) across up to 1024 iovecs (readv's limit); without it, one chain per frame. Then one
 * readv of the tap fills them, num_buffers is written into the header, and the chains the frame
 * used go back to the driver; the rest stay held for the next frame. No frame is copied or kept in
 * kiln. When the guest has posted too little, the tap leaves the I/O loop (backpressure: frames
 * wait in the tap's queue, which drops when full as a NIC would) and comes back on the guest's
 * next receiveq kick. At most VIRTIO_NET_RX_BATCH frames per wake-up, one interrupt per batch.
 *
 * A chain without room for the header breaks its queue (NEEDS_RESET). With VIRTIO_NET_F_MTU, a
 * frame longer than the MTU (and not GSO) is not passed to the driver (§5.1.4.1): the chains it
 * was read into stay held and take the next frame.
 */
#include "virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io/tap.h"
#include "log.h"
#include "util.h"
#include "virtio/iov.h"

#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RX_IOV_MAX 1024    /* UIO_MAXIOV: the most iovecs one readv takes */
#define VIRTIO_NET_RX_NEED 65562u     /* §5.1.6.3.1: header + the longest GSO frame */
#define VIRTIO_NET_RX_BATCH 64        /* frames per wake-up before other fds get their turn */
#define VIRTIO_NET_HDR_SIZE sizeof(struct virtio_net_hdr)
#define VIRTIO_NET_ETH_HLEN 14u
#define VIRTIO_NET_VLAN_HLEN 4u

_Static_assert(VIRTIO_NET_HDR_SIZE == TAP_VNET_HDR_SIZE, "the tap's header is the guest's");
_Static_assert(VIRTIO_NET_QUEUE_SIZE <= VIRTIO_NET_RX_IOV_MAX, "a chain always fits the receive iovecs");

/* Receive chains taken from the ring and not used yet, in ring order. */
struct virtio_net_rx {
	struct virtq_elem elem[VIRTIO_NET_RX_IOV_MAX]; /* held: elem[first..end) */
	unsigned int first, end;
	struct iovec iov[VIRTIO_NET_RX_IOV_MAX];       /* their writable iovecs, contiguous */
	unsigned int iov_first, iov_end;
	uint64_t bytes;                                /* writable bytes held */
};

struct virtio_net {
	struct virtio_dev dev;
	pthread_mutex_t lock; /* everything below, and the queues while they are served */
	bool active;
	bool mrg_rxbuf;       /* negotiated: a frame may span chains */
	bool check_mtu;       /* VIRTIO_NET_F_MTU negotiated: longer plain frames are dropped */
	bool rx_wanted;       /* read the tap: false while the guest has too few receive buffers */
	bool rx_ended;        /* the tap failed a read (deleted?): no more receiving */
	bool tx_blocked;      /* the tap's send buffer is full: transmit waits for EPOLLOUT */
	bool tx_pending;      /* tx_elem was taken from the ring but not written yet */
	uint32_t watched;     /* the epoll events fd is in the I/O loop for; 0: not in it */
	int fd;
	unsigned int offloads; /* TUN_F_* the tap takes; 0: none offered, TUNSETOFFLOAD never called */
	struct ev_handler ready;
	struct virtio_net_config config; /* fixed at create (the MTU set again by a restore's load),
					    little-endian: read without the lock */
	char name[24];
	struct virtq_elem tx_elem;
	struct iovec tx_iov[VIRTIO_NET_QUEUE_SIZE];
	struct virtio_net_rx rx;
};

static struct virtio_net *virtio_net_of(struct virtio_dev *d)
{
	return container_of(d, struct virtio_net, dev);
}

/* --- the tap in the I/O loop ------------------------------------------------------------------- */

static uint32_t virtio_net_wanted_events(const struct virtio_net *n)
{
	uint32_t events = 0;

	/* A broken (or unused) receiveq takes nothing until reset: unread frames must not wake the loop. */
	if (n->active && n->rx_wanted && !n->rx_ended && !n->dev.queues[VIRTIO_NET_RXQ].broken)
		events |= EPOLLIN;
	if (n->active && n->tx_blocked)
		events |= EPOLLOUT;
	return events;
}

/* Puts the tap in the I/O loop for the events the device waits for now, or takes it out. */
static int virtio_net_update_watch(struct virtio_net *n)
{
	uint32_t want = virtio_net_wanted_events(n);
	int rc = 0;

	if (want == n->watched)
		return 0;
	if (n->watched != 0)
		io_loop_remove(n->dev.io, n->fd);
	n->watched = 0;
	if (want != 0)
		rc = io_loop_add(n->dev.io, n->fd, want, &n->ready);
	if (rc == 0)
		n->watched = want;
	return rc;
}

/* The driver broke the rules on queue q: nothing more is taken from it until reset. */
static void virtio_net_break(struct virtio_net *n, unsigned int q)
{
	n->dev.queues[q].broken = true;
	n->dev.transport->needs_reset(&n->dev);
}

/* --- receive: tap -> guest --------------------------------------------------------------------- */

static bool virtio_net_rx_held(const struct virtio_net_rx *rx)
{
	return rx->end > rx->first;
}

/* Moves the held chains and their iovecs to the front of their arrays. */
static void virtio_net_rx_compact(struct virtio_net_rx *rx)
{
	unsigned int count = rx->end - rx->first, niov = rx->iov_end - rx->iov_first;

	if (rx->first == 0)
		return;
	memmove(rx->iov, rx->iov + rx->iov_first, niov * sizeof(*rx->iov));
	memmove(rx->elem, rx->elem + rx->first, count * sizeof(*rx->elem));
	for (unsigned int i = 0; i < count; i++)
		rx->elem[i].iov -= rx->iov_first;
	rx->first = rx->iov_first = 0;
	rx->end = count;
	rx->iov_end = niov;
}

/* Whether one more chain of up to qsize descriptors fits (virtq_pop breaks the queue otherwise). */
static bool virtio_net_rx_room(struct virtio_net_rx *rx, uint16_t qsize)
{
	if (rx->iov_end + qsize > VIRTIO_NET_RX_IOV_MAX)
		virtio_net_rx_compact(rx);
	return rx->iov_end + qsize <= VIRTIO_NET_RX_IOV_MAX;
}

/* Whether the held chains take any frame the tap may give (§5.1.6.3.1). */
static bool virtio_net_rx_enough(const struct virtio_net *n)
{
	return virtio_net_rx_held(&n->rx) && (!n->mrg_rxbuf || n->rx.bytes >= VIRTIO_NET_RX_NEED);
}

/* Takes one receive chain and holds its writable iovecs: 1, 0 when none is available, -EBADMSG. */
static int virtio_net_rx_take(struct virtio_net *n, struct virtq *q)
{
	struct virtio_net_rx *rx = &n->rx;
	struct virtq_elem *e = &rx->elem[rx->end];
	int rc = virtq_pop(q, e, rx->iov + rx->iov_end, VIRTIO_NET_RX_IOV_MAX - rx->iov_end);

	if (rc <= 0)
		return rc;
	/* §5.1.6.3.1: every receive buffer holds at least the header. */
	if (e->in_len < VIRTIO_NET_HDR_SIZE) {
		log_guest(LOG_WARN, "virtio-net", "%s: a receive buffer of %llu bytes cannot hold the header",
			  n->name, (unsigned long long)e->in_len);
		return -EBADMSG;
	}
	if (e->out_num > 0) { /* device-readable parts have no use here: keep only the writable ones */
		memmove(e->iov, e->iov + e->out_num, e->in_num * sizeof(*e->iov));
		e->out_num = 0;
		e->out_len = 0;
	}
	rx->iov_end += e->in_num;
	rx->bytes += e->in_len;
	rx->end++;
	return 1;
}

/*
 * Takes chains until a frame surely fits, the iovecs are full, or the ring is empty with kicks
 * enabled (§2.7.10). *ready: a read may go ahead. -EBADMSG when the queue broke.
 */
static int virtio_net_rx_fill(struct virtio_net *n, struct virtq *q, bool *ready)
{
	bool room = true;

	while (!virtio_net_rx_enough(n) && (room = virtio_net_rx_room(&n->rx, q->size))) {
		int rc = virtio_net_rx_take(n, q);

		if (rc < 0)
			return rc;
		if (rc == 0 && !virtq_enable_kicks(q))
			break;
	}
	/* With buffers too small for 1024 iovecs to reach 64 KiB, a long frame is truncated. */
	*ready = virtio_net_rx_enough(n) || (!room && virtio_net_rx_held(&n->rx));
	if (*ready)
		virtq_disable_kicks(q);
	return 0;
}

/* One read of the tap into the held chains (only the first without MRG_RXBUF): bytes, or -errno. */
static ssize_t virtio_net_rx_read(struct virtio_net *n)
{
	struct virtio_net_rx *rx = &n->rx;
	unsigned int niov = n->mrg_rxbuf ? rx->iov_end - rx->iov_first : rx->elem[rx->first].in_num;
	ssize_t r;

	do {
		r = readv(n->fd, rx->iov + rx->iov_first, (int)niov);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* Whether a frame of len bytes (header included) just read may go to the driver. */
static bool virtio_net_rx_acceptable(struct virtio_net *n, size_t len)
{
	const struct virtq_elem *e = &n->rx.elem[n->rx.first];
	uint8_t gso_type;

	if (len < VIRTIO_NET_HDR_SIZE + VIRTIO_NET_ETH_HLEN) {
		log_guest(LOG_DEBUG, "virtio-net", "%s: a runt frame of %zu bytes from the tap dropped", n->name,
			  len);
		return false;
	}
	if (!n->check_mtu)
		return true;
	/* §5.1.4.1: no frame beyond mtu plus the link header, unless it is to be segmented. */
	iov_to_buf(e->iov, e->in_num, offsetof(struct virtio_net_hdr, gso_type), &gso_type, 1);
	if ((gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE ||
	    len - VIRTIO_NET_HDR_SIZE <= le16toh(n->config.mtu) + VIRTIO_NET_ETH_HLEN + VIRTIO_NET_VLAN_HLEN)
		return true;
	log_guest(LOG_WARN, "virtio-net", "%s: a %zu-byte frame from the tap exceeds the MTU %u: dropped", n->name,
		  len - VIRTIO_NET_HDR_SIZE, le16toh(n->config.mtu));
	return false;
}

/* Returns the chains a frame of len bytes filled to the driver, num_buffers set (§5.1.6.4). */
static void virtio_net_rx_deliver(struct virtio_net *n, struct virtq *q, size_t len)
{
	struct virtio_net_rx *rx = &n->rx;
	uint16_t count = 0, num_buffers;
	struct iovec field[sizeof(num_buffers)];
	unsigned int n_field;
	size_t left = len;

	for (unsigned int i = rx->first; left > 0 && i < rx->end; i++, count++)
		left -= left < rx->elem[i].in_len ? left : rx->elem[i].in_len;
	/* The tap skips num_buffers; the first chain holds the whole header (checked when taken). */
	num_buffers = htole16(count);
	n_field = iov_slice(rx->elem[rx->first].iov, rx->elem[rx->first].in_num,
			    offsetof(struct virtio_net_hdr, num_buffers), sizeof(num_buffers), field);
	iov_from_buf(field, n_field, &num_buffers);
	for (left = len; count > 0; count--) {
		const struct virtq_elem *e = &rx->elem[rx->first++];
		uint32_t used = left < e->in_len ? (uint32_t)left : (uint32_t)e->in_len;

		virtq_push(q, e->head, used);
		left -= used;
		rx->bytes -= e->in_len;
		rx->iov_first += e->in_num;
	}
}

/* Moves up to a batch of frames from the tap into receive buffers. -EBADMSG when the queue broke. */
static int virtio_net_receive(struct virtio_net *n, bool *pushed)
{
	struct virtq *q = &n->dev.queues[VIRTIO_NET_RXQ];

	for (unsigned int i = 0; i < VIRTIO_NET_RX_BATCH; i++) {
		bool ready;
		int rc = virtio_net_rx_fill(n, q, &ready);

		if (rc < 0)
			return rc;
		if (!ready) { /* backpressure: frames wait in the tap until the guest kicks the receiveq */
			n->rx_wanted = false;
			return 0;
		}
		ssize_t len = virtio_net_rx_read(n);

		if (len == -EAGAIN)
			return 0;
		if (len < 0) {
			log_error("virtio-net", "%s: reading the tap: %s; no more receiving", n->name,
				  strerror((int)-len));
			n->rx_ended = true;
			return 0;
		}
		virtio_stat_add(&n->dev.stats.requests, 1);
		if (virtio_net_rx_acceptable(n, (size_t)len)) {
			virtio_net_rx_deliver(n, q, (size_t)len);
			virtio_stat_add(&n->dev.stats.bytes_to_guest, (unsigned long long)len - VIRTIO_NET_HDR_SIZE);
			*pushed = true;
		} else {
			virtio_stat_add(&n->dev.stats.errors, 1);
		}
	}
	return 0;
}

/* --- transmit: guest -> tap -------------------------------------------------------------------- */

/* Writes the pending chain's header and frame to the tap: 0 (written or dropped), or -EAGAIN. */
static int virtio_net_tx_write(struct virtio_net *n)
{
	const struct virtq_elem *e = &n->tx_elem;
	ssize_t r;

	do {
		r = writev(n->fd, e->iov, (int)e->out_num);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return -EAGAIN;
	virtio_stat_add(&n->dev.stats.requests, 1);
	if (r < 0) {
		virtio_stat_add(&n->dev.stats.errors, 1);
		log_guest(LOG_WARN, "virtio-net", "%s: the tap refused a %llu-byte frame: %s; dropped", n->name,
			  (unsigned long long)(e->out_len - VIRTIO_NET_HDR_SIZE), strerror(errno));
	} else {
		virtio_stat_add(&n->dev.stats.bytes_from_guest, e->out_len - VIRTIO_NET_HDR_SIZE);
	}
	return 0;
}

/* Takes the next transmit chain as tx_elem: 1, 0 when none is available, -EBADMSG. */
static int virtio_net_tx_take(struct virtio_net *n, struct virtq *q)
{
	int rc = virtq_pop(q, &n->tx_elem, n->tx_iov, ARRAY_SIZE(n->tx_iov));

	if (rc <= 0)
		return rc;
	/* §5.1.6.2: the header, then the frame, all device-readable; writable parts are ignored. */
	if (n->tx_elem.out_len < VIRTIO_NET_HDR_SIZE) {
		log_guest(LOG_WARN, "virtio-net", "%s: a transmit chain of %llu bytes without a header", n->name,
			  (unsigned long long)n->tx_elem.out_len);
		return -EBADMSG;
	}
	n->tx_pending = true;
	return 1;
}

/* Writes out transmit chains until the ring stays empty or the tap is full. -EBADMSG: queue broke. */
static int virtio_net_transmit(struct virtio_net *n, bool *pushed)
{
	struct virtq *q = &n->dev.queues[VIRTIO_NET_TXQ];

	if (n->tx_blocked)
		return 0; /* EPOLLOUT resumes it */
	do {
		virtq_disable_kicks(q);
		for (;;) {
			int rc = n->tx_pending ? 1 : virtio_net_tx_take(n, q);

			if (rc < 0)
				return rc;
			if (rc == 0)
				break;
			if (virtio_net_tx_write(n) == -EAGAIN) {
				n->tx_blocked = true; /* kicks stay off: the chain resumes on EPOLLOUT */
				return 0;
			}
			n->tx_pending = false;
			virtq_push(q, n->tx_elem.head, 0); /* the device wrote nothing into the chain */
			*pushed = true;
		}
	} while (virtq_enable_kicks(q));
	return 0;
}

/* --- the I/O thread's entry points ------------------------------------------------------------- */

/* After serving: the loop watches what is awaited, the driver hears of used buffers and errors. */
static void virtio_net_finish(struct virtio_net *n, const bool pushed[2], const int rc[2])
{
	for (unsigned int q = 0; q < 2; q++) {
		if (pushed[q])
			n->dev.transport->used(&n->dev, q);
		if (rc[q] < 0)
			virtio_net_break(n, q);
	}
	/* After the breaks: the watch follows what the queues can still take. */
	int err = virtio_net_update_watch(n);

	if (err < 0)
		log_error("virtio-net", "%s: watching the tap: %s", n->name, strerror(-err));
}

/* I/O thread: the tap is readable, writable again, or failed. */
static void virtio_net_tap_ready(struct ev_handler *h, uint32_t events)
{
	struct virtio_net *n = container_of(h, struct virtio_net, ready);
	bool pushed[2] = { false, false };
	int rc[2] = { 0, 0 };

	pthread_mutex_lock(&n->lock);
	if (n->active && n->tx_blocked && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		n->tx_blocked = false;
		rc[VIRTIO_NET_TXQ] = virtio_net_transmit(n, &pushed[VIRTIO_NET_TXQ]);
	}
	if (n->active && (n->watched & EPOLLIN) && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		rc[VIRTIO_NET_RXQ] = virtio_net_receive(n, &pushed[VIRTIO_NET_RXQ]);
	/* Under the lock: a reset on a vCPU thread must not clear the queues while they are used. */
	virtio_net_finish(n, pushed, rc);
	pthread_mutex_unlock(&n->lock);
}

static void virtio_net_queue_notify(struct virtio_dev *d, unsigned int q)
{
	struct virtio_net *n = virtio_net_of(d);
	bool pushed[2] = { false, false };
	int rc[2] = { 0, 0 };

	pthread_mutex_lock(&n->lock);
	if (n->active && q == VIRTIO_NET_RXQ)
		n->rx_wanted = true; /* new receive buffers: let frames flow again */
	else if (n->active && q == VIRTIO_NET_TXQ)
		rc[q] = virtio_net_transmit(n, &pushed[q]);
	virtio_net_finish(n, pushed, rc);
	pthread_mutex_unlock(&n->lock);
}

/* --- device ops -------------------------------------------------------------------------------- */

/* The config space is fixed at create; reads beyond it were zero-filled by the transport. */
static void virtio_net_config_read(struct virtio_dev *d, uint64_t offset, void *data, unsigned int len)
{
	struct virtio_net *n = virtio_net_of(d);

	if (offset >= sizeof(n->config))
		return;
	if (len > sizeof(n->config) - offset)
		len = (unsigned int)(sizeof(n->config) - offset);
	memcpy(data, (const uint8_t *)&n->config + offset, len);
}

/* The frames the driver accepts, as TUN_F_* bits for the tap (§5.1.3.1: all need GUEST_CSUM). */
static unsigned int virtio_net_tap_offloads(const struct virtio_dev *d)
{
	unsigned int f;

	if (!virtio_has_feature(d, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	f = TUN_F_CSUM;
	if (virtio_has_feature(d, VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (virtio_has_feature(d, VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if ((f & (TUN_F_TSO4 | TUN_F_TSO6)) && virtio_has_feature(d, VIRTIO_NET_F_GUEST_ECN))
		f |= TUN_F_TSO_ECN;
	if (virtio_has_feature(d, VIRTIO_NET_F_GUEST_UFO))
		f |= TUN_F_UFO;
	return f;
}

/* vCPU thread: TUNSETOFFLOAD (when offloads were offered) and the tap joins the I/O loop. */
static int virtio_net_activate(struct virtio_dev *d)
{
	struct virtio_net *n = virtio_net_of(d);
	int rc = 0;

	pthread_mutex_lock(&n->lock);
	n->mrg_rxbuf = virtio_has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
	n->check_mtu = virtio_has_feature(d, VIRTIO_NET_F_MTU);
	if (n->offloads != 0)
		rc = tap_set_offloads(n->fd, virtio_net_tap_offloads(d));
	if (rc < 0) {
		log_error("virtio-net", "%s: TUNSETOFFLOAD: %s", n->name, strerror(-rc));
	} else {
		n->active = n->rx_wanted = true;
		rc = virtio_net_update_watch(n);
		n->active = rc == 0;
		if (rc < 0)
			log_error("virtio-net", "%s: watching the tap: %s", n->name, strerror(-rc));
	}
	pthread_mutex_unlock(&n->lock);
	return rc;
}

/* vCPU thread: forget the chains taken; frames not read stay in the tap for the next driver. */
static void virtio_net_reset(struct virtio_dev *d)
{
	struct virtio_net *n = virtio_net_of(d);

	pthread_mutex_lock(&n->lock);
	n->active = false;
	n->rx_wanted = n->tx_blocked = n->tx_pending = false;
	n->rx.first = n->rx.end = n->rx.iov_first = n->rx.iov_end = 0;
	n->rx.bytes = 0;
	virtio_net_update_watch(n); /* only removes: nothing to fail */
	pthread_mutex_unlock(&n->lock);
}

/* --- snapshots --------------------------------------------------------------------------------- */

#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]
#define VIRTIO_NET_MIN_MTU 68 /* §5.1.4.1: the device sets mtu between 68 and 65535 */

/*
 * Chains taken and not used: the receive chains held for the next frame, and a transmit chain the
 * tap's full buffer left pending. A restore takes them again from the ring (device.h). Nothing is
 * half delivered, so nothing of a frame needs saving: a frame goes from one readv of the tap to the
 * used ring within one I/O event, a pending transmit chain is written whole or not at all, and a
 * snapshot holds the I/O thread between events. The held receive buffers hold nothing the driver
 * may read (not even of a frame dropped for its size). Frames still in the tap stay with it, as
 * frames on a wire, and are lost with it if it goes.
 */
static unsigned int virtio_net_chains_held(struct virtio_dev *d, unsigned int q)
{
	struct virtio_net *n = virtio_net_of(d);
	unsigned int held = 0;

	pthread_mutex_lock(&n->lock);
	if (q == VIRTIO_NET_RXQ)
		held = n->rx.end - n->rx.first;
	else if (q == VIRTIO_NET_TXQ)
		held = n->tx_pending ? 1 : 0;
	pthread_mutex_unlock(&n->lock);
	return held;
}

/*
 * Saved: the MAC and the MTU of the config space the driver read. The tap is re-opened by name on
 * restore (it may be another one: an override), and its own MTU is no concern of the guest's.
 * Layout: 6 bytes MAC, u16 MTU.
 */
static void virtio_net_save(struct virtio_dev *d, struct snap_writer *w)
{
	struct virtio_net *n = virtio_net_of(d);

	snap_put_bytes(w, n->config.mac, sizeof(n->config.mac));
	snap_put_u16(w, le16toh(n->config.mtu));
}

/*
 * The MAC comes from the restored configuration, which must agree with the device state. The MTU
 * is put back in the config space: the driver read it once and goes by it (§5.1.4.1). The vCPUs
 * are parked and the I/O thread held, so no config_read runs meanwhile.
 */
static int virtio_net_load(struct virtio_dev *d, struct snap_cursor *c, char *why, size_t whylen)
{
	struct virtio_net *n = virtio_net_of(d);
	uint8_t mac[6];
	uint16_t mtu;

	snap_get_bytes(c, mac, sizeof(mac));
	mtu = snap_get_u16(c);
	if (c->err < 0)
		return fail_with(why, whylen, -EBADMSG, "%s: its device state is malformed", n->name);
	if (memcmp(mac, n->config.mac, sizeof(mac)) != 0)
		return fail_with(why, whylen, -EINVAL, "%s: its state has MAC " MAC_FMT ", its configuration "
				 MAC_FMT, n->name, MAC_ARGS(mac), MAC_ARGS(n->config.mac));
	if (mtu < VIRTIO_NET_MIN_MTU)
		return fail_with(why, whylen, -EINVAL, "%s: MTU %u is below the least a NIC has (%d)", n->name,
				 mtu, VIRTIO_NET_MIN_MTU);
	if (mtu != le16toh(n->config.mtu))
		log_warn("virtio-net", "%s: its tap has MTU %u now; the guest keeps its %u", n->name,
			 le16toh(n->config.mtu), mtu);
	n->config.mtu = htole16(mtu);
	return 0;
}

static const struct virtio_dev_ops virtio_net_ops = {
	.config_read = virtio_net_config_read,
	.activate = virtio_net_activate,
	.reset = virtio_net_reset,
	.queue_notify = virtio_net_queue_notify,
	.save = virtio_net_save,
	.load = virtio_net_load,
	.chains_held = virtio_net_chains_held,
};

/* --- create / destroy -------------------------------------------------------------------------- */

/* §5.1.3, §5.1.3.1: each offload the tap takes is offered both ways; all of them need CSUM. */
static uint64_t virtio_net_features(unsigned int offloads)
{
	static const unsigned int map[][3] = { /* TUN_F_*, host feature, guest feature */
		{ TUN_F_CSUM, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM },
		{ TUN_F_TSO4, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_GUEST_TSO4 },
		{ TUN_F_TSO6, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_GUEST_TSO6 },
		{ TUN_F_TSO_ECN, VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_GUEST_ECN },
		{ TUN_F_UFO, VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_GUEST_UFO },
	};
	uint64_t f = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_MTU) |
		     (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_F_INDIRECT_DESC) |
		     (1ull << VIRTIO_F_EVENT_IDX);

	for (size_t i = 0; i < ARRAY_SIZE(map) && (offloads & TUN_F_CSUM); i++)
		if (offloads & map[i][0])
			f |= (1ull << map[i][1]) | (1ull << map[i][2]);
	return f;
}

void virtio_net_default_mac(const char *tap, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64-bit */

	for (const unsigned char *p = (const unsigned char *)tap; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	mac[0] = 0x02; /* IEEE 802: locally administered (bit 1), unicast (bit 0 clear) */
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

int virtio_net_create_on_fd(int fd, unsigned int offloads, const uint8_t mac[6], uint16_t mtu, unsigned int index,
			    struct virtio_net **out)
{
	struct virtio_net *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		close(fd);
		return -ENOMEM;
	}
	pthread_mutex_init(&n->lock, NULL);
	n->fd = fd;
	n->offloads = offloads;
	n->ready.ready = virtio_net_tap_ready;
	memcpy(n->config.mac, mac, sizeof(n->config.mac));
	n->config.status = htole16(VIRTIO_NET_S_LINK_UP);
	n->config.max_virtqueue_pairs = htole16(1);
	n->config.mtu = htole16(mtu);
	snprintf(n->name, sizeof(n->name), "virtio-net%u", index);
	n->dev = (struct virtio_dev){
		.ops = &virtio_net_ops,
		.name = n->name,
		.device_id = VIRTIO_ID_NET,
		.device_features = virtio_net_features(offloads),
		.num_queues = 2,
		.queue_max_size = VIRTIO_NET_QUEUE_SIZE,
	};
	*out = n;
	return 0;
}

int virtio_net_create(const struct kiln_net *cfg, unsigned int index, struct virtio_net **out, char *err,
		      size_t errlen)
{
	unsigned int offloads, mtu;
	uint8_t mac[6];
	int fd, rc;

	if (cfg->tap == NULL)
		return fail_with(err, errlen, -EINVAL, "net %u: no tap device named", index);
	rc = tap_open(cfg->tap, &fd, &offloads, err, errlen);
	if (rc < 0)
		return rc;
	rc = tap_get_mtu(cfg->tap, &mtu);
	if (rc < 0) {
		close(fd);
		return fail_with(err, errlen, rc, "tap %s: cannot read its MTU: %s", cfg->tap, strerror(-rc));
	}
	if (cfg->mac_set)
		memcpy(mac, cfg->mac, sizeof(mac));
	else
		virtio_net_default_mac(cfg->tap, mac);
	rc = virtio_net_create_on_fd(fd, offloads, mac, mtu > UINT16_MAX ? UINT16_MAX : (uint16_t)mtu, index, out);
	return rc < 0 ? fail_with(err, errlen, rc, "tap %s: out of memory", cfg->tap) : 0;
}

struct virtio_dev *virtio_net_dev(struct virtio_net *n)
{
	return &n->dev;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (n == NULL)
		return;
	if (n->watched != 0)
		io_loop_remove(n->dev.io, n->fd);
	close(n->fd);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
