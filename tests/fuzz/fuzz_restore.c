/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the device sections of a snapshot state file, loaded as a restore loads them,
 * into real devices: a virtio-mmio transport with virtio-blk, virtio-rng, virtio-net,
 * virtio-console (input waiting in a pipe) or virtio-vsock (its Unix socket in a temporary
 * directory) behind it
 * (virtio/mmio_snapshot.c replays the saved driver through the transport's register path), the
 * i8042 (devices/i8042.c) and the UART (devices/serial.c). The state file's own parser has its
 * target (fuzz_snapfile.c); here the input is wrapped into a well-formed file, so every run
 * reaches the loaders.
 *
 * Input: byte 0 picks the device (0 rng, 1 blk, 2 i8042, 3 UART, 4 net, 5 console, 6 vsock); the
 * rest is the section's payload. The net device has MAC 02:00:00:00:00:01 and a socketpair for its
 * tap, into which a frame is sent before the kicks.
 * Checks (abort on violation): a load that succeeds leaves a transport whose status holds only
 * known bits, and DRIVER_OK only with FEATURES_OK; each queue the device may use has its rings in
 * guest RAM; the console's handshake holds only messages kiln sends, and none without MULTIPORT;
 * the vsock device keeps its CID and owes a reset event only while the driver runs it; kicks on
 * every queue and the I/O loop run to idle (ASan and UBSan watch memory); a reset afterwards reads
 * status 0; no file descriptor leaks.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/i8042.h"
#include "devices/serial.h"
#include "fuzz/fuzz_check.h"
#include "mem/gmem.h"
#include "support/snap_image.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio_snapshot.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock_conn.h"

#define RAM_SIZE 0x20000u
#define BASE 0xd0000000ull
#define STATUS_KNOWN (1u | 2u | 4u | 8u | 64u | 128u)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));

static int fake_ioeventfd(void *opaque, uint64_t addr, uint64_t datamatch, int fd)
{
	(void)opaque, (void)addr, (void)datamatch, (void)fd;
	return 0;
}

static int fake_irqfd(void *opaque, uint32_t gsi, int fd)
{
	(void)opaque, (void)gsi, (void)fd;
	return 0;
}

/* A snapshot holding one section (tag/0) with payload as its contents, parsed back into r. */
static bool wrap(uint32_t tag, const uint8_t *payload, size_t len, struct snap_writer *w, struct snap_reader *r)
{
	return snap_image_wrap(tag, 0, payload, len, w, r) == 0;
}

static bool in_ram(const void *p, uint64_t len)
{
	return (const uint8_t *)p >= ram && len <= RAM_SIZE &&
	       (uint64_t)((const uint8_t *)p - ram) <= RAM_SIZE - len;
}

/* The I/O loop's ready handlers, run on this thread until none is ready (bounded). */
static void pump(struct io_loop *loop)
{
	struct epoll_event ev[16];

	for (int round = 0; round < 64; round++) {
		int n = epoll_wait(loop->epoll_fd, ev, 16, 0);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = ev[i].data.ptr;
			fuzz_check(h != NULL);
			h->ready(h, ev[i].events);
		}
	}
}

static void check_loaded(struct virtio_mmio *m, struct io_loop *loop)
{
	struct virtio_dev *d = m->dev;
	uint32_t status = virtio_mmio_driver_read(m, 0x070);

	fuzz_check((status & ~STATUS_KNOWN) == 0);
	fuzz_check(!(status & 4u) || (status & 8u));
	for (unsigned int q = 0; (status & 4u) && q < d->num_queues; q++) {
		const struct virtq *vq = &d->queues[q];
		if (vq->used == NULL)
			continue;
		fuzz_check(in_ram(vq->desc, 16ull * vq->size));
		fuzz_check(in_ram(vq->avail, 6 + 2ull * vq->size));
		fuzz_check(in_ram(vq->used, 6 + 8ull * vq->size));
	}
	virtio_mmio_kick_all(m);
	pump(loop);
	virtio_mmio_driver_write(m, 0x070, 0);
	fuzz_check(virtio_mmio_driver_read(m, 0x070) == 0);
}

enum virtio_kind { VIRTIO_RNG, VIRTIO_BLK, VIRTIO_NET, VIRTIO_CONSOLE, VIRTIO_VSOCK };

#define VSOCK_CID 3
#define CONSOLE_PART 5 /* the console's own part of its section: u32 messages owed, bool port open */
#define VSOCK_PART 9   /* vsock's: u64 guest CID, bool broken */

/* The device behind the transport, and its host ends. */
struct device {
	enum virtio_kind kind;
	struct virtio_dev *dev;
	struct virtio_rng *rng;
	struct virtio_blk *disk;
	struct virtio_net *net;
	struct virtio_console *con;
	struct virtio_vsock *vsock;
	int memfd, tap_peer, con_in, con_out;
};

/* A directory for the vsock device's socket, made once, removed at exit. */
static char vsock_dir[] = "/tmp/kiln-fuzz-restore-XXXXXX";

static void remove_vsock_dir(void)
{
	rmdir(vsock_dir);
}

static void create_blk(struct device *d)
{
	char path[64], why[256];

	d->memfd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	fuzz_check(d->memfd >= 0 && ftruncate(d->memfd, 64 * 1024) == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", d->memfd);
	const struct kiln_disk kd = { .path = path };
	fuzz_check(virtio_blk_create(&kd, 0, &d->disk, why, sizeof(why)) == 0);
	d->dev = virtio_blk_dev(d->disk);
}

static const uint8_t fuzz_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* A net device on one end of a datagram socketpair (a tap's stand-in); tap_peer is the other end. */
static void create_net(struct device *d)
{
	int sv[2];

	fuzz_check(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	fuzz_check(virtio_net_create_on_fd(sv[0], 0, fuzz_mac, 1500, 0, &d->net) == 0);
	d->tap_peer = sv[1];
	d->dev = virtio_net_dev(d->net);
}

/* Input waits in a pipe, then ends; output goes nowhere. */
static void create_console(struct device *d)
{
	int in[2];

	fuzz_check(pipe2(in, O_CLOEXEC) == 0 && write(in[1], "typed\n", 6) == 6 && close(in[1]) == 0);
	d->con_in = in[0];
	d->con_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	fuzz_check(d->con_out >= 0 && virtio_console_create(d->con_in, d->con_out, &d->con) == 0);
	d->dev = virtio_console_dev(d->con);
}

static void create_vsock(struct device *d)
{
	char path[sizeof(vsock_dir) + 16], why[256];

	if (vsock_dir[sizeof(vsock_dir) - 2] == 'X') {
		fuzz_check(mkdtemp(vsock_dir) != NULL);
		atexit(remove_vsock_dir);
	}
	snprintf(path, sizeof(path), "%s/v.sock", vsock_dir);
	const struct kiln_vsock cfg = { .guest_cid = VSOCK_CID, .uds_path = path };
	fuzz_check(virtio_vsock_create(&cfg, &d->vsock, why, sizeof(why)) == 0);
	d->dev = virtio_vsock_dev(d->vsock);
}

static void create_device(struct device *d, enum virtio_kind kind)
{
	*d = (struct device){ .kind = kind, .memfd = -1, .tap_peer = -1, .con_in = -1, .con_out = -1 };
	if (kind == VIRTIO_BLK)
		create_blk(d);
	else if (kind == VIRTIO_NET)
		create_net(d);
	else if (kind == VIRTIO_CONSOLE)
		create_console(d);
	else if (kind == VIRTIO_VSOCK)
		create_vsock(d);
	if (kind != VIRTIO_RNG)
		return;
	fuzz_check(virtio_rng_create(&d->rng) == 0);
	d->dev = virtio_rng_dev(d->rng);
}

static void destroy_device(struct device *d)
{
	virtio_blk_destroy(d->disk);
	virtio_rng_destroy(d->rng);
	virtio_net_destroy(d->net);
	virtio_console_destroy(d->con);
	virtio_vsock_destroy(d->vsock); /* unlinks its socket */
	for (int *fd = &d->memfd; fd <= &d->con_out; fd++) /* memfd, tap_peer, con_in, con_out */
		if (*fd >= 0)
			close(*fd);
}

/* A loaded net device kept its own MAC (a load may not change it) and an MTU of 68 or more. */
static void check_net_config(struct virtio_mmio *m)
{
	uint32_t mac_low = virtio_mmio_driver_read(m, 0x100), mac_high = virtio_mmio_driver_read(m, 0x104);
	uint32_t mtu = virtio_mmio_driver_read(m, 0x108) >> 16;

	fuzz_check(mac_low == 0x02u && (mac_high & 0xffff) == 0x0100);
	fuzz_check(mtu >= 68);
}

/*
 * A load that succeeded read the whole section: the device's own part is its end. The net device
 * gets a frame from its tap before the kicks. The console's handshake holds only the messages kiln
 * sends, and none unless the driver took MULTIPORT and started the device; the vsock device kept
 * its CID and owes a reset only to a driver it serves.
 */
static void check_device_loaded(const struct device *d, struct virtio_mmio *m, const uint8_t *payload, size_t len)
{
	uint32_t status = virtio_mmio_driver_read(m, 0x070);

	if (d->kind == VIRTIO_NET) {
		static const uint8_t frame[12 + 60];

		check_net_config(m);
		(void)send(d->tap_peer, frame, sizeof(frame), MSG_DONTWAIT); /* a full socket refuses it */
	} else if (d->kind == VIRTIO_CONSOLE) {
		bool handshake = (status & 4u) && (m->driver_features & (1ull << VIRTIO_CONSOLE_F_MULTIPORT));
		uint32_t owed;

		fuzz_check(len >= CONSOLE_PART);
		memcpy(&owed, payload + len - CONSOLE_PART, sizeof(owed));
		owed = le32toh(owed);
		fuzz_check(owed <= 7 && payload[len - 1] <= 1);
		fuzz_check(handshake || (owed == 0 && payload[len - 1] == 0));
	} else if (d->kind == VIRTIO_VSOCK) {
		uint64_t cid;

		fuzz_check(len >= VSOCK_PART);
		memcpy(&cid, payload + len - VSOCK_PART, sizeof(cid));
		fuzz_check(le64toh(cid) == VSOCK_CID && d->vsock->guest_cid == VSOCK_CID);
		fuzz_check(!d->vsock->reset_owed || (d->vsock->active && !d->vsock->broken));
	}
}

static void load_virtio(enum virtio_kind kind, const uint8_t *payload, size_t len)
{
	struct gmem mem = { 0 };
	struct bus bus;
	struct io_loop loop;
	struct virtio_mmio m;
	struct device d;
	const struct virtio_mmio_host host = { .add_ioeventfd = fake_ioeventfd, .add_irqfd = fake_irqfd };
	struct snap_writer w;
	struct snap_reader r = { 0 };
	char why[256];

	memset(ram, 0, sizeof(ram));
	fuzz_check(gmem_add_region(&mem, 0, ram, RAM_SIZE) == 0);
	bus_init(&bus, "mmio", 0);
	fuzz_check(io_loop_init(&loop) == 0);
	create_device(&d, kind);
	fuzz_check(virtio_mmio_init(&m, d.dev, &bus, BASE, 5, &mem, &loop, &host) == 0);
	fuzz_check(wrap(VIRTIO_SNAP_TAG, payload, len, &w, &r));
	why[0] = '\0';
	if (virtio_mmio_load(&m, &r, 0, why, sizeof(why)) == 0) {
		check_device_loaded(&d, &m, payload, len);
		check_loaded(&m, &loop);
	} else {
		fuzz_check(why[0] != '\0' && strchr(why, '\n') == NULL); /* a one-line reason */
	}
	snap_reader_close(&r);
	snap_writer_free(&w);
	virtio_mmio_driver_write(&m, 0x070, 0); /* what a failed restore's teardown leaves behind */
	virtio_mmio_destroy(&m);
	destroy_device(&d);
	io_loop_destroy(&loop);
	bus_free(&bus);
}

static int fake_set_level(void *opaque, uint32_t gsi, int level)
{
	(void)opaque, (void)gsi, (void)level;
	return 0;
}

static void stop_ignored(struct machine_events *ev, enum kiln_exit_reason reason)
{
	(void)ev, (void)reason;
}

/* A loaded controller must serve the guest as any other: read every port a few times. */
static void load_i8042(const uint8_t *payload, size_t len)
{
	static const struct irq_chip_ops ops = { .set_level = fake_set_level };
	struct irq_chip chip = { .ops = &ops };
	struct machine_events events = { .stop = stop_ignored };
	struct i8042 k;
	struct bus pio;
	struct snap_writer w;
	struct snap_reader r = { 0 };
	char why[256];

	bus_init(&pio, "pio", 0xff);
	fuzz_check(i8042_init(&k, &pio, (struct irq_line){ &chip, I8042_IRQ_KEYBOARD }, &events) == 0);
	if (wrap(I8042_SNAP_TAG, payload, len, &w, &r) && i8042_load(&k, &r, why, sizeof(why)) == 0) {
		for (int i = 0; i < 2 * I8042_QUEUE_SIZE; i++) {
			uint8_t v;
			fuzz_check(bus_access(&pio, 0x64, &v, 1, false));
			fuzz_check(bus_access(&pio, 0x60, &v, 1, false));
		}
		fuzz_check(k.queue_count <= I8042_QUEUE_SIZE && k.queue_head < I8042_QUEUE_SIZE);
	}
	snap_reader_close(&r);
	snap_writer_free(&w);
	i8042_destroy(&k);
	bus_free(&pio);
}

/* A loaded UART must serve the guest as any other: read out all the input it says it holds. */
static void load_uart(const uint8_t *payload, size_t len)
{
	static const struct irq_chip_ops ops = { .set_level = fake_set_level };
	struct irq_chip chip = { .ops = &ops };
	struct io_loop loop;
	struct serial s;
	struct bus pio;
	struct snap_writer w;
	struct snap_reader r = { 0 };
	char why[256];

	bus_init(&pio, "pio", 0xff);
	fuzz_check(io_loop_init(&loop) == 0);
	fuzz_check(serial_init(&s, &pio, 0x3f8, (struct irq_line){ &chip, 4 }, -1, &loop) == 0);
	if (wrap(SERIAL_SNAP_TAG, payload, len, &w, &r) && serial_load(&s, &r, why, sizeof(why)) == 0) {
		uint8_t v = 0x03; /* LCR: DLAB off, so port 0 reads data */

		fuzz_check(s.rx_count <= SERIAL_RX_CAPACITY);
		fuzz_check(bus_access(&pio, 0x3fb, &v, 1, true));
		for (int i = 0; i < SERIAL_RX_CAPACITY; i++)
			fuzz_check(bus_access(&pio, 0x3f8, &v, 1, false));
		fuzz_check(s.rx_count == 0);
	}
	snap_reader_close(&r);
	snap_writer_free(&w);
	serial_destroy(&s);
	io_loop_destroy(&loop);
	bus_free(&pio);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	switch (data[0] % 7) {
	case 0:
		load_virtio(VIRTIO_RNG, data + 1, len - 1);
		break;
	case 1:
		load_virtio(VIRTIO_BLK, data + 1, len - 1);
		break;
	case 2:
		load_i8042(data + 1, len - 1);
		break;
	case 3:
		load_uart(data + 1, len - 1);
		break;
	case 4:
		load_virtio(VIRTIO_NET, data + 1, len - 1);
		break;
	case 5:
		load_virtio(VIRTIO_CONSOLE, data + 1, len - 1);
		break;
	default:
		load_virtio(VIRTIO_VSOCK, data + 1, len - 1);
		break;
	}
	return 0;
}
