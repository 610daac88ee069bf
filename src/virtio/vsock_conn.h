/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside virtio-vsock: the device state shared by vsock.c (virtqueues, the packet protocol of
 * virtio 1.2 §5.10.6), vsock_conn.c (connections, their data and credit) and vsock_host.c (the host
 * Unix sockets: the listener and its handshake, connects to "<uds_path>_<port>").
 *
 * Everything here is guarded by virtio_vsock.lock. Connection slots live in one array made at
 * create and are only reused, never freed, until destroy: an epoll event that was already taken for
 * a connection closed meanwhile lands on a valid slot, and the handler acts on the slot's state and
 * on what its syscalls return, never on stale event bits.
 */
#ifndef KILN_VIRTIO_VSOCK_CONN_H
#define KILN_VIRTIO_VSOCK_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "virtio/device.h"
#include "virtio/vsock.h"

/* Packet header, §5.10.6; all fields little-endian. */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define VSOCK_HDR_SIZE 44
_Static_assert(sizeof(struct vsock_hdr) == VSOCK_HDR_SIZE, "virtio 1.2 §5.10.6 header");

#define VSOCK_TYPE_STREAM 1

enum vsock_op {
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

#define VSOCK_SHUTDOWN_RCV 1u  /* the sender will receive no more */
#define VSOCK_SHUTDOWN_SEND 2u /* the sender will send no more */

#define VSOCK_QUEUE_SIZE 256
#define VSOCK_MAX_PKT KiB(64)     /* payload per packet, both ways (Linux's largest) */
#define VSOCK_BUF_ALLOC KiB(256)  /* kiln's receive buffer per connection, advertised as buf_alloc */
#define VSOCK_MAX_CONNS 1024      /* connections in any state, host- and guest-initiated, at most */
#define VSOCK_HASH_SIZE 256
#define VSOCK_MAX_ORPHANS 64      /* RSTs owed for packets that matched no connection */
#define VSOCK_FIRST_HOST_PORT 1024
#define VSOCK_LINE_MAX 32         /* "CONNECT 4294967295\n" fits */

/* Control packets a connection owes the guest (vsock_conn.ctl). */
#define VSOCK_CTL_REQUEST 1u
#define VSOCK_CTL_RESPONSE 2u
#define VSOCK_CTL_CREDIT 4u   /* OP_CREDIT_UPDATE; any packet sent to the connection carries it */
#define VSOCK_CTL_SHUTDOWN 8u /* OP_SHUTDOWN SEND: the host socket's read side ended */
#define VSOCK_CTL_RST 16u     /* supersedes the others; the slot is freed once it is sent */

enum vsock_conn_state {
	VSOCK_CONN_FREE,
	VSOCK_CONN_HANDSHAKE,   /* a host client connected to uds_path; reading "CONNECT <port>\n" */
	VSOCK_CONN_REQUESTED,   /* OP_REQUEST owed or sent to the guest; waiting for its OP_RESPONSE */
	VSOCK_CONN_ACCEPTED,    /* the guest's OP_REQUEST reached a host listener; OP_RESPONSE owed */
	VSOCK_CONN_ESTABLISHED,
	VSOCK_CONN_CLOSING,     /* host socket closed; OP_RST owed, then the slot is freed */
	VSOCK_CONN_DROPPED,     /* the driver reset the device: the I/O thread closes it (see vsock_reset) */
};

/* A doubly linked list node; a list is a node whose next and prev point at itself when empty. */
struct vsock_link {
	struct vsock_link *prev, *next; /* NULL while not on a list */
};

struct vsock_conn {
	struct ev_handler handler;
	struct virtio_vsock *v;
	enum vsock_conn_state state;
	int fd;                      /* the host Unix socket, -1 once closed */
	uint32_t events;             /* what the I/O loop watches on fd (0: fd is not in the loop) */
	uint32_t local_port;         /* the host end's port */
	uint32_t peer_port;          /* the guest end's port */
	unsigned int ctl;            /* VSOCK_CTL_* owed to the guest */
	struct vsock_link ctl_link;  /* on v->ctl_queue while ctl != 0 */
	struct vsock_link wait_link; /* on v->rx_waiters: wants to read, but the rx queue was empty */
	struct vsock_conn *hash_next;
	struct vsock_conn *free_next;
	bool host_eof;               /* the host socket's read side ended */
	bool guest_shut_send;        /* the guest will send no more (§5.10.6.5) */
	bool guest_shut_rcv;         /* the guest will receive no more */
	bool host_shut_wr;           /* shutdown(SHUT_WR) done on fd */
	/* Credit, §5.10.6.3. To the guest: */
	uint32_t peer_buf_alloc;     /* the guest's buffer, from its last packet */
	uint32_t peer_fwd_cnt;       /* what the guest has consumed, from its last packet */
	uint32_t tx_cnt;             /* payload bytes sent to the guest */
	/* From the guest: */
	uint32_t rx_cnt;             /* payload bytes received from the guest */
	uint32_t fwd_cnt;            /* of them, bytes the host socket took */
	uint32_t fwd_cnt_sent;       /* fwd_cnt as last told to the guest */
	uint8_t *buf;                /* ring of VSOCK_BUF_ALLOC: guest bytes the socket has not taken */
	uint32_t buf_head, buf_len;
	char line[VSOCK_LINE_MAX];   /* the handshake line so far */
	unsigned int line_len;
};

struct vsock_orphan {
	uint32_t local_port, peer_port;
};

struct virtio_vsock {
	struct virtio_dev dev;
	pthread_mutex_t lock; /* everything below, and the queues while they are served */
	bool active;
	bool broken;          /* a queue broke: nothing more is served */
	bool broken_reported; /* ... and NEEDS_RESET was raised */
	bool rx_used, tx_used, event_used; /* chains pushed since the transport was last told */
	bool reset_owed;      /* a TRANSPORT_RESET event waits for an event buffer (after a restore) */
	uint64_t guest_cid;
	struct sockaddr_un addr; /* uds_path */
	int listen_fd;
	bool listening;       /* listen_fd is in the I/O loop */
	bool accept_paused;   /* out of fds: accept again once a connection closes */
	struct ev_handler listen_handler;

	struct vsock_conn *conns;     /* VSOCK_MAX_CONNS slots */
	unsigned int conns_made;      /* slots handed out at least once */
	unsigned int conns_open;      /* slots in use: each holds a host fd (or will, once accepted) */
	unsigned int max_conns;       /* conns_open's bound (virtio_vsock_limit_conns) */
	struct vsock_conn *free_conns;
	struct vsock_conn *hash[VSOCK_HASH_SIZE]; /* by (local_port, peer_port) */
	uint32_t next_port;           /* next host port to try for a host-initiated connection */

	struct vsock_link ctl_queue;  /* connections that owe control packets, oldest first */
	struct vsock_link rx_waiters; /* connections waiting for rx buffers */
	struct vsock_orphan orphans[VSOCK_MAX_ORPHANS];
	unsigned int orphans_head, orphans_len;

	bool rx_held;                 /* rx_elem is a chain taken but not used yet */
	struct virtq_elem rx_elem;
	struct iovec rx_iov[VSOCK_QUEUE_SIZE];
	struct iovec tx_iov[VSOCK_QUEUE_SIZE];
	struct iovec slice_iov[VSOCK_QUEUE_SIZE]; /* a payload's part of rx_iov or tx_iov, briefly */
};

static inline const char *v_path(const struct virtio_vsock *v)
{
	return v->addr.sun_path;
}

/* Whether c has its ports, and is in the lookup table. */
static inline bool vsock_conn_has_ports(const struct vsock_conn *c)
{
	return c->state != VSOCK_CONN_FREE && c->state != VSOCK_CONN_HANDSHAKE &&
	       c->state != VSOCK_CONN_DROPPED;
}

/* --- vsock.c: the rx queue ----------------------------------------------------------------------- */

/* Makes v->rx_elem a usable rx chain: 1, 0 when the guest has none, -EBADMSG (queue broken). */
int vsock_rx_take(struct virtio_vsock *v) MUST_CHECK;
/* readv from fd into the held chain's payload area, at most max bytes: n, 0 at EOF or -errno. */
ssize_t vsock_rx_read(struct virtio_vsock *v, int fd, uint32_t max);
/* Writes a header for c into the held chain and returns the chain with len bytes of payload. */
void vsock_rx_send(struct virtio_vsock *v, struct vsock_conn *c, uint16_t op, uint32_t flags, uint32_t len);
/* Sends the control packets owed while the guest has rx buffers. */
void vsock_rx_flush_ctl(struct virtio_vsock *v);
/* Tells the transport about used chains and a broken queue; every entry point ends with it. */
void vsock_signal(struct virtio_vsock *v);

/* --- vsock_host.c: the host endpoints ----------------------------------------------------------- */

/* At create: binds and listens on v->addr (a stale socket there is replaced); err names the path. */
int vsock_listen_open(struct virtio_vsock *v, char *err, size_t errlen) MUST_CHECK;
/* Watching the listener (activate, and after a pause for lack of fds) and no longer (reset). */
int vsock_listen_start(struct virtio_vsock *v) MUST_CHECK;
void vsock_listen_stop(struct virtio_vsock *v);
/* The I/O loop: the listener became readable. */
void vsock_listen_ready(struct ev_handler *h, uint32_t events);
/* HANDSHAKE: reads the "CONNECT <port>\n" line; once whole, owes the guest an OP_REQUEST. */
void vsock_conn_handshake(struct vsock_conn *c);
/* Guest OP_REQUEST to host port local_port: connects to "<uds_path>_<local_port>"; 0 or -errno. */
int vsock_conn_guest_connect(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port,
			     uint32_t buf_alloc, uint32_t fwd_cnt) MUST_CHECK;
/* Guest OP_RESPONSE to a host-initiated request: "OK <host port>\n" to the host client. */
void vsock_conn_guest_accepted(struct vsock_conn *c);

/* --- vsock_conn.c: connections ------------------------------------------------------------------ */

void vsock_list_init(struct vsock_link *l);
bool vsock_list_empty(const struct vsock_link *l);
void vsock_list_del(struct vsock_link *n);

void vsock_conns_init(struct virtio_vsock *v);
/* A slot for a new connection on fd, in state HANDSHAKE without ports; NULL at max_conns. */
struct vsock_conn *vsock_conn_alloc(struct virtio_vsock *v, int fd);
/* Gives c its ports and a state past HANDSHAKE: it can be found from then on. */
void vsock_conn_set_ports(struct vsock_conn *c, enum vsock_conn_state state, uint32_t local_port,
			  uint32_t peer_port);
struct vsock_conn *vsock_conn_find(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port);
/* Owes the guest the control packets in bits. */
void vsock_conn_ctl(struct vsock_conn *c, unsigned int bits);
/* A control packet for c was sent (op); RST frees c. */
void vsock_conn_ctl_sent(struct vsock_conn *c, uint16_t op);
/* Closes the host socket and owes the guest an OP_RST (§5.10.6.4); the slot goes once it is sent. */
void vsock_conn_reset(struct vsock_conn *c);
/* Closes the host socket and frees the slot, owing the guest nothing. */
void vsock_conn_free(struct vsock_conn *c);
/* Closes every connection (I/O thread or destroy): a broken queue, destroy. */
void vsock_conns_close_all(struct virtio_vsock *v);
/* Driver reset (vCPU thread): forgets every connection and leaves the closing to the I/O thread. */
void vsock_conns_drop_all(struct virtio_vsock *v);
/* Brings c's I/O loop registration in line with what it can do now. */
void vsock_conn_watch(struct vsock_conn *c);
/* The guest added rx buffers: the connections that waited for them read again. */
void vsock_conns_rx_ready(struct virtio_vsock *v);
/* sendmsg without SIGPIPE or blocking: bytes written or -errno. */
ssize_t vsock_sendv(int fd, const struct iovec *iov, unsigned int n);

/* Guest packets for an existing connection: */
/* The credit fields of any packet (§5.10.6.3). */
void vsock_conn_peer_credit(struct vsock_conn *c, uint32_t buf_alloc, uint32_t fwd_cnt);
/* OP_RW payload iov[0..n) of len bytes. */
void vsock_conn_guest_data(struct vsock_conn *c, const struct iovec *iov, unsigned int n, uint32_t len);
/* OP_SHUTDOWN with flags. */
void vsock_conn_guest_shutdown(struct vsock_conn *c, uint32_t flags);

#endif
