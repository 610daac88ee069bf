/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of the virtio devices for the fuzz targets; see fuzz_virtio_hosts.h. */
#define _GNU_SOURCE /* memfd_create, pipe2 */
#include "fuzz/fuzz_virtio_hosts.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"

#define FV_DISK_SIZE_DEFAULT (8192 + 100) /* 16 sectors and a tail the guest must never reach */
#define FV_TAP_SNDBUF 4096                /* the "tap" fills after a few frames: backpressure */
#define FV_HOST_IO_MAX 4096

static const uint8_t fv_mac[6] = { 0x02, 0x00, 0x00, 0x4b, 0x49, 0x4c };

struct fv_host_opts fv_host_opts_from(uint8_t b)
{
	struct fv_host_opts o = { .disk_size = FV_DISK_SIZE_DEFAULT, .read_only = b & 1, .mtu = 1500 };

	if (b & 2)
		o.mtu = 68; /* frames longer than 68 + 18 bytes are dropped when MTU is negotiated */
	o.con_input = (enum fv_con_input)((b >> 2) % 3);
	return o;
}

/* A memfd of size bytes (zeroes); -1 when the host cannot make one. */
static int fv_memfd(uint64_t size)
{
	int fd = memfd_create("kiln-fuzz", MFD_CLOEXEC);

	fv_check(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
	return fd;
}

static void fv_fd_path(int fd, char *path, size_t len)
{
	snprintf(path, len, "/proc/self/fd/%d", fd);
}

static void fv_create_blk(struct fv_host *h, const struct fv_host_opts *o)
{
	char path[64], err[256];

	h->disk_size = o->disk_size;
	h->disk = fv_memfd(o->disk_size);
	fv_fd_path(h->disk, path, sizeof(path));
	struct kiln_disk disk = { .path = path, .read_only = o->read_only, .serial = "kiln-fuzz-disk" };

	fv_check(virtio_blk_create(&disk, 0, &h->blk, err, sizeof(err)) == 0);
	h->dev = virtio_blk_dev(h->blk);
}

static void fv_create_net(struct fv_host *h, const struct fv_host_opts *o)
{
	int sv[2], sndbuf = FV_TAP_SNDBUF;

	fv_check(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	fv_check(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == 0);
	h->tap = sv[1];
	fv_check(virtio_net_create_on_fd(sv[0], 0, fv_mac, o->mtu, 0, &h->net) == 0);
	h->dev = virtio_net_dev(h->net);
}

static void fv_create_console(struct fv_host *h, const struct fv_host_opts *o)
{
	h->con_in[0] = h->con_in[1] = -1;
	if (o->con_input == FV_CON_PIPE) {
		fv_check(pipe2(h->con_in, O_CLOEXEC) == 0);
		fv_check(fcntl(h->con_in[1], F_SETFL, O_NONBLOCK) == 0);
	} else if (o->con_input == FV_CON_FILE) { /* epoll refuses it: always readable */
		h->con_in[0] = fv_memfd(0);
		fv_check(write(h->con_in[0], FV_CON_FILE_INPUT, strlen(FV_CON_FILE_INPUT)) ==
			 (ssize_t)strlen(FV_CON_FILE_INPUT));
		fv_check(lseek(h->con_in[0], 0, SEEK_SET) == 0);
	}
	/* A terminal that never blocks the I/O thread (blocking output is a known, separate defect). */
	fv_check(pipe2(h->con_out, O_CLOEXEC | O_NONBLOCK) == 0);
	fv_check(virtio_console_create(h->con_in[0], h->con_out[1], &h->con) == 0);
	h->dev = virtio_console_dev(h->con);
}

/* One directory per process for the vsock sockets; every run removes what it made in it. */
static char fv_dir[64];

static void fv_remove_dir(void)
{
	rmdir(fv_dir);
}

static const char *fv_vsock_dir(void)
{
	if (fv_dir[0] == '\0') {
		strcpy(fv_dir, "/tmp/kiln-fuzz-vsock-XXXXXX");
		fv_check(mkdtemp(fv_dir) != NULL);
		atexit(fv_remove_dir);
	}
	return fv_dir;
}

static void fv_listener_path(const struct fv_host *h, unsigned int i, struct sockaddr_un *a)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(a->sun_path, sizeof(a->sun_path), "%s_%u", h->uds.sun_path, FV_VSOCK_PORT0 + i);
}

static void fv_create_vsock(struct fv_host *h)
{
	char err[256];

	h->uds = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(h->uds.sun_path, sizeof(h->uds.sun_path), "%s/v.sock", fv_vsock_dir());
	struct kiln_vsock cfg = { .guest_cid = FV_VSOCK_CID, .uds_path = h->uds.sun_path };

	fv_check(virtio_vsock_create(&cfg, &h->vsock, err, sizeof(err)) == 0);
	h->dev = virtio_vsock_dev(h->vsock);
	for (unsigned int i = 0; i < FV_VSOCK_LISTENERS; i++) {
		struct sockaddr_un a;

		fv_listener_path(h, i, &a);
		h->vs_listen[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		fv_check(h->vs_listen[i] >= 0 && bind(h->vs_listen[i], (struct sockaddr *)&a, sizeof(a)) == 0 &&
			 listen(h->vs_listen[i], 16) == 0);
	}
	for (unsigned int i = 0; i < FV_VSOCK_PEERS; i++)
		h->vs_peer[i] = -1;
}

void fv_host_create(struct fv_host *h, enum fv_kind kind, const struct fv_host_opts *o)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->disk = h->tap = -1;
	switch (kind) {
	case FV_BLK:
		fv_create_blk(h, o);
		break;
	case FV_NET:
		fv_create_net(h, o);
		break;
	case FV_CONSOLE:
		fv_create_console(h, o);
		break;
	case FV_RNG:
		fv_check(virtio_rng_create(&h->rng) == 0);
		h->dev = virtio_rng_dev(h->rng);
		break;
	default:
		fv_create_vsock(h);
		break;
	}
}

/* --- host actions ------------------------------------------------------------------------------ */

static void fv_drain(int fd)
{
	uint8_t buf[FV_HOST_IO_MAX];

	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
}

/* The disk is replaced by one of another size (the API's drive update). */
static void fv_blk_replace(struct fv_host *h, struct fv_in *in)
{
	uint64_t size = 512u * (fv_u8(in) % 32) + fv_u8(in) % 2 * 100;
	int fd = fv_memfd(size);
	char path[64], err[256];

	fv_fd_path(fd, path, sizeof(path));
	fv_check(virtio_blk_replace(h->blk, path, err, sizeof(err)) == 0);
	close(h->disk);
	h->disk = fd;
	h->disk_size = size;
}

static void fv_net_event(struct fv_host *h, struct fv_in *in)
{
	uint8_t op = fv_u8(in);

	if (op & 1) {
		fv_drain(h->tap); /* the tap's reader takes what the guest sent */
		return;
	}
	static uint8_t frame[70000];
	size_t len = op & 2 ? 65562 + fv_u8(in) % 4 : fv_u16(in) % 2048, got;
	const uint8_t *data = fv_bytes(in, len < 256 ? len : 256, &got);

	memset(frame, 0x5a, len);
	memcpy(frame, data, got);
	/* A full tap queue drops the frame, as a NIC would. */
	(void)!send(h->tap, frame, len, MSG_DONTWAIT);
}

static void fv_console_event(struct fv_host *h, struct fv_in *in)
{
	uint8_t op = fv_u8(in);
	size_t got;
	const uint8_t *data = fv_bytes(in, op >> 2, &got);

	if (op % 3 == 0 && h->con_in[1] >= 0 && got > 0) {
		(void)!write(h->con_in[1], data, got); /* a full pipe: the host's bytes wait or go */
	} else if (op % 3 == 1 && h->con_in[1] >= 0) {
		close(h->con_in[1]); /* the host side hangs up: EOF */
		h->con_in[1] = -1;
	} else {
		fv_drain(h->con_out[0]);
	}
}

static void fv_host_vsock_peer(struct fv_host *h, unsigned int slot, int fd)
{
	int *p = &h->vs_peer[slot % FV_VSOCK_PEERS];

	if (*p >= 0)
		close(*p);
	*p = fd;
}

static int fv_host_vsock_connect(struct fv_host *h, const char *line, size_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	fv_check(fd >= 0);
	if (connect(fd, (const struct sockaddr *)&h->uds, sizeof(h->uds)) < 0) {
		close(fd); /* backlog full */
		return -1;
	}
	(void)!send(fd, line, len, MSG_NOSIGNAL);
	return fd;
}

static int fv_host_vsock_accept(struct fv_host *h, unsigned int listener)
{
	return accept4(h->vs_listen[listener % FV_VSOCK_LISTENERS], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static void fv_vsock_event(struct fv_host *h, struct fv_in *in)
{
	uint8_t op = fv_u8(in), slot = fv_u8(in) % FV_VSOCK_PEERS;
	int fd = h->vs_peer[slot];
	size_t got;
	const uint8_t *data;
	char line[32];

	switch (op % 6) {
	case 0: /* a host client asks for a guest port */
		fv_host_vsock_peer(h, slot, fv_host_vsock_connect(h, line, (size_t)snprintf(line, sizeof(line),
								 "CONNECT %u\n", fv_u8(in))));
		break;
	case 1: /* a host client sends its own line */
		data = fv_bytes(in, fv_u8(in) % 40, &got);
		fv_host_vsock_peer(h, slot, fv_host_vsock_connect(h, (const char *)data, got));
		break;
	case 2: /* a guest connect reaches a host listener */
		fv_host_vsock_peer(h, slot, fv_host_vsock_accept(h, op >> 3));
		break;
	case 3:
		data = fv_bytes(in, fv_u16(in) % FV_HOST_IO_MAX, &got);
		if (fd >= 0)
			(void)!send(fd, data, got, MSG_NOSIGNAL | MSG_DONTWAIT);
		break;
	case 4:
		if (fd >= 0)
			fv_drain(fd);
		break;
	default:
		if (fd >= 0 && (op & 8))
			shutdown(fd, SHUT_WR);
		else
			fv_host_vsock_peer(h, slot, -1);
		break;
	}
}

void fv_host_event(struct fv_host *h, struct fv_in *in)
{
	switch (h->kind) {
	case FV_BLK:
		fv_blk_replace(h, in);
		break;
	case FV_NET:
		fv_net_event(h, in);
		break;
	case FV_CONSOLE:
		fv_console_event(h, in);
		break;
	case FV_VSOCK:
		fv_vsock_event(h, in);
		break;
	default:
		break;
	}
}

/* --- destroy ----------------------------------------------------------------------------------- */

/* Whatever the guest did, the image keeps its size and the bytes past its last sector. */
static void fv_check_disk(const struct fv_host *h)
{
	uint8_t tail[512];
	size_t n = h->disk_size % 512;
	struct stat st;

	fv_check(fstat(h->disk, &st) == 0 && (uint64_t)st.st_size == h->disk_size);
	fv_check(pread(h->disk, tail, n, (off_t)(h->disk_size - n)) == (ssize_t)n);
	for (size_t i = 0; i < n; i++)
		fv_check(tail[i] == 0);
}

static void fv_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

void fv_host_destroy(struct fv_host *h)
{
	switch (h->kind) {
	case FV_BLK:
		virtio_blk_destroy(h->blk);
		fv_check_disk(h);
		close(h->disk);
		break;
	case FV_NET:
		virtio_net_destroy(h->net);
		close(h->tap);
		break;
	case FV_CONSOLE:
		virtio_console_destroy(h->con);
		fv_close(h->con_in[0]);
		fv_close(h->con_in[1]);
		fv_close(h->con_out[0]);
		fv_close(h->con_out[1]);
		break;
	case FV_RNG:
		virtio_rng_destroy(h->rng);
		break;
	default:
		virtio_vsock_destroy(h->vsock);
		for (unsigned int i = 0; i < FV_VSOCK_LISTENERS; i++) {
			struct sockaddr_un a;

			fv_listener_path(h, i, &a);
			close(h->vs_listen[i]);
			fv_check(unlink(a.sun_path) == 0);
		}
		for (unsigned int i = 0; i < FV_VSOCK_PEERS; i++)
			fv_close(h->vs_peer[i]);
		fv_check(access(h->uds.sun_path, F_OK) < 0); /* destroy removed the socket file */
		break;
	}
}
