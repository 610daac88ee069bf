/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock's host endpoints (Firecracker's model, see vsock.h): the listener at uds_path with
 * its "CONNECT <port>\n" / "OK <host port>\n" handshake, and guest connects to "<uds_path>_<port>".
 */
#define _GNU_SOURCE /* accept4 */
#include "virtio/vsock_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define VSOCK_LISTEN_BACKLOG 128
#define VSOCK_ACCEPTS_PER_EVENT 16

/* --- the listener ------------------------------------------------------------------------------ */

/* Replaces a stale socket file at the path; anything else there, or a live listener, is an error. */
static int vsock_remove_stale(const struct sockaddr_un *a, char *err, size_t errlen)
{
	struct stat st;
	int fd, live;

	if (lstat(a->sun_path, &st) < 0) {
		int e = errno;

		if (e == ENOENT)
			return 0;
		snprintf(err, errlen, "vsock: %s: %s", a->sun_path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "vsock: %s exists and is not a socket", a->sun_path);
		return -EEXIST;
	}
	/* A listener that answers (or whose backlog is full) belongs to someone: leave it. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		live = -errno;
	else
		live = connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0 || errno == EAGAIN;
	if (fd >= 0)
		close(fd);
	if (live == 1) {
		snprintf(err, errlen, "vsock: %s is in use by another process", a->sun_path);
		return -EADDRINUSE;
	}
	if (live < 0 || unlink(a->sun_path) < 0) {
		int rc = live < 0 ? live : -errno;

		snprintf(err, errlen, "vsock: cannot replace %s: %s", a->sun_path, strerror(-rc));
		return rc;
	}
	return 0;
}

int vsock_listen_open(struct virtio_vsock *v, char *err, size_t errlen)
{
	int rc = vsock_remove_stale(&v->addr, err, errlen);
	int fd;

	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *)&v->addr, sizeof(v->addr)) < 0) {
		rc = -errno;
	} else if (listen(fd, VSOCK_LISTEN_BACKLOG) < 0) {
		rc = -errno;
		unlink(v_path(v));
	}
	if (rc < 0) {
		snprintf(err, errlen, "vsock: cannot listen on %s: %s", v_path(v), strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	v->listen_fd = fd;
	return 0;
}

int vsock_listen_start(struct virtio_vsock *v)
{
	if (v->listening)
		return 0;
	int rc = io_loop_add(v->dev.io, v->listen_fd, EPOLLIN, &v->listen_handler);

	v->listening = rc == 0;
	v->accept_paused = false;
	return rc;
}

void vsock_listen_stop(struct virtio_vsock *v)
{
	if (v->listening)
		io_loop_remove(v->dev.io, v->listen_fd);
	v->listening = false;
	v->accept_paused = false;
}

static void vsock_accept_some(struct virtio_vsock *v)
{
	for (unsigned int i = 0; i < VSOCK_ACCEPTS_PER_EVENT; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0) {
			if (errno == EAGAIN)
				return;
			/* Out of fds or memory: the listener would stay readable; wait for a close. */
			log_guest(LOG_WARN, "virtio-vsock", "%s: accept: %s; pausing", v_path(v),
				  strerror(errno));
			vsock_listen_stop(v);
			v->accept_paused = true;
			return;
		}
		struct vsock_conn *c = vsock_conn_alloc(v, fd);

		if (c == NULL) {
			log_guest(LOG_WARN, "virtio-vsock", "%s: %u connections, the limit: refusing a host client",
				  v_path(v), v->max_conns);
			close(fd);
			continue;
		}
		vsock_conn_watch(c);
	}
}

void vsock_listen_ready(struct ev_handler *h, uint32_t events)
{
	struct virtio_vsock *v = container_of(h, struct virtio_vsock, listen_handler);

	(void)events;
	pthread_mutex_lock(&v->lock);
	if (v->active && !v->broken && v->listening)
		vsock_accept_some(v);
	pthread_mutex_unlock(&v->lock);
}

/* --- host-initiated connections ---------------------------------------------------------------- */

/* "CONNECT <decimal port>\n", the whole line. */
static int vsock_parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char prefix[] = "CONNECT ";
	const size_t plen = sizeof(prefix) - 1;
	uint64_t p = 0;

	if (len < plen + 2 || memcmp(line, prefix, plen) != 0 || line[len - 1] != '\n')
		return -EINVAL;
	for (size_t i = plen; i < len - 1; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -EINVAL;
		p = p * 10 + (uint64_t)(line[i] - '0');
		if (p > UINT32_MAX)
			return -EINVAL;
	}
	*port = (uint32_t)p;
	return 0;
}

static bool vsock_port_in_use(const struct virtio_vsock *v, uint32_t port)
{
	for (unsigned int i = 0; i < v->conns_made; i++) {
		if (vsock_conn_has_ports(&v->conns[i]) && v->conns[i].local_port == port)
			return true;
	}
	return false;
}

/* A host port no connection uses, from VSOCK_FIRST_HOST_PORT up, wrapping. */
static uint32_t vsock_alloc_port(struct virtio_vsock *v)
{
	uint32_t port;

	do {
		port = v->next_port;
		v->next_port = port == UINT32_MAX ? VSOCK_FIRST_HOST_PORT : port + 1;
	} while (vsock_port_in_use(v, port));
	return port;
}

/*
 * Takes the handshake line from the socket, never a byte past its newline (what the client sends
 * after it is the stream's first data), then owes the guest an OP_REQUEST to the port it names.
 */
void vsock_conn_handshake(struct vsock_conn *c)
{
	char peek[VSOCK_LINE_MAX];
	ssize_t r = recv(c->fd, peek, sizeof(c->line) - c->line_len, MSG_PEEK | MSG_DONTWAIT);
	uint32_t port;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) { /* gone before asking for a port */
		vsock_conn_free(c);
		return;
	}
	const char *nl = memchr(peek, '\n', (size_t)r);
	size_t take = nl != NULL ? (size_t)(nl - peek) + 1 : (size_t)r;

	if (recv(c->fd, c->line + c->line_len, take, MSG_DONTWAIT) != (ssize_t)take) {
		vsock_conn_free(c);
		return;
	}
	c->line_len += (unsigned int)take;
	if (nl == NULL && c->line_len < sizeof(c->line))
		return;
	if (nl == NULL || vsock_parse_connect(c->line, c->line_len, &port) < 0) {
		log_guest(LOG_WARN, "virtio-vsock", "%s: a host client sent no \"CONNECT <port>\\n\"; "
			  "closing it", v_path(c->v));
		vsock_conn_free(c);
		return;
	}
	vsock_conn_set_ports(c, VSOCK_CONN_REQUESTED, vsock_alloc_port(c->v), port);
	vsock_conn_ctl(c, VSOCK_CTL_REQUEST);
	vsock_conn_watch(c); /* nothing more is read until the guest accepts */
}

void vsock_conn_guest_accepted(struct vsock_conn *c)
{
	char ok[sizeof("OK 4294967295\n")];
	int len = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);
	struct iovec iov = { ok, (size_t)len };

	if (c->state != VSOCK_CONN_REQUESTED || (c->ctl & VSOCK_CTL_REQUEST)) {
		vsock_conn_reset(c);
		return;
	}
	if (vsock_sendv(c->fd, &iov, 1) != len) { /* the client left meanwhile */
		vsock_conn_reset(c);
		return;
	}
	c->state = VSOCK_CONN_ESTABLISHED;
	vsock_conn_watch(c);
}

/* --- guest-initiated connections --------------------------------------------------------------- */

/* A socket connected to "<uds_path>_<port>", or -errno. Only such paths: the guest picks a number. */
static int vsock_connect_port(struct virtio_vsock *v, uint32_t port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	/* create checked that uds_path leaves room for "_4294967295" */
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", v_path(v), port) >= (int)sizeof(a.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix stream connect completes or fails at once; EAGAIN (backlog full) is a refusal too. */
	if (connect(fd, (const struct sockaddr *)&a, sizeof(a)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int vsock_conn_guest_connect(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port,
			     uint32_t buf_alloc, uint32_t fwd_cnt)
{
	struct vsock_conn *c;
	int fd;

	if (v->conns_open >= v->max_conns) {
		log_guest(LOG_WARN, "virtio-vsock", "%s: %u connections, the limit: refusing a guest connection",
			  v_path(v), v->max_conns);
		return -EMFILE;
	}
	fd = vsock_connect_port(v, local_port);
	if (fd < 0)
		return fd;
	c = vsock_conn_alloc(v, fd); /* a slot is free: checked above */
	vsock_conn_set_ports(c, VSOCK_CONN_ACCEPTED, local_port, peer_port);
	c->peer_buf_alloc = buf_alloc;
	c->peer_fwd_cnt = fwd_cnt;
	vsock_conn_ctl(c, VSOCK_CTL_RESPONSE);
	return 0;
}
