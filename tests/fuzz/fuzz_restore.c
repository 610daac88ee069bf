/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the device sections of a snapshot state file, loaded as a restore loads them,
 * into real devices: a virtio-mmio transport with virtio-blk, virtio-rng or virtio-net behind it
 * (virtio/mmio_snapshot.c replays the saved driver through the transport's register path), the
 * i8042 (devices/i8042.c) and the UART (devices/serial.c). The state file's own parser has its target (fuzz_snapfile.c); here the
 * input is wrapped into a well-formed file, so every run reaches the loaders.
 *
 * Input: byte 0 picks the device (0 rng, 1 blk, 2 i8042, 3 UART, 4 net); the rest is the section's
 * payload. The net device has MAC 02:00:00:00:00:01 and a socketpair for its tap, into which a
 * frame is sent before the kicks.
 * Checks (abort on violation): a load that succeeds leaves a transport whose status holds only
 * known bits, and DRIVER_OK only with FEATURES_OK; each queue the device may use has its rings in
 * guest RAM; kicks on every queue and the I/O loop run to idle (ASan and UBSan watch memory); a
 * reset afterwards reads status 0; no file descriptor leaks.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/i8042.h"
#include "devices/serial.h"
#include "mem/gmem.h"
#include "support/snap_image.h"
#include "virtio/blk.h"
#include "virtio/mmio_snapshot.h"
#include "virtio/net.h"
#include "virtio/rng.h"

#define RAM_SIZE 0x20000u
#define BASE 0xd0000000ull
#define STATUS_KNOWN (1u | 2u | 4u | 8u | 64u | 128u)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define fuzz_check(cond)            \
	do {                        \
		if (!(cond))        \
			abort();    \
	} while (0)

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
	snap_writer_init(w);
	snap_begin(w, tag, 0);
	snap_put_bytes(w, payload, len);
	snap_end(w);
	return snap_image_read_back(w, r) == 0;
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

enum fuzz_virtio { FUZZ_RNG, FUZZ_BLK, FUZZ_NET };

/* A loaded net device kept its own MAC (a load may not change it) and an MTU of 68 or more. */
static void check_net_config(struct virtio_mmio *m)
{
	uint32_t mac_low = virtio_mmio_driver_read(m, 0x100), mac_high = virtio_mmio_driver_read(m, 0x104);
	uint32_t mtu = virtio_mmio_driver_read(m, 0x108) >> 16;

	fuzz_check(mac_low == 0x02u && (mac_high & 0xffff) == 0x0100);
	fuzz_check(mtu >= 68);
}

static const uint8_t fuzz_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* A net device on one end of a datagram socketpair (a tap's stand-in); *peer is the other end. */
static struct virtio_net *make_net(int *peer)
{
	struct virtio_net *net;
	int sv[2];

	fuzz_check(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	fuzz_check(virtio_net_create_on_fd(sv[0], 0, fuzz_mac, 1500, 0, &net) == 0);
	*peer = sv[1];
	return net;
}

static void load_virtio(enum fuzz_virtio kind, const uint8_t *payload, size_t len)
{
	struct gmem mem = { 0 };
	struct bus bus;
	struct io_loop loop;
	struct virtio_mmio m;
	struct virtio_rng *rng = NULL;
	struct virtio_blk *disk = NULL;
	struct virtio_net *net = NULL;
	struct virtio_dev *dev;
	const struct virtio_mmio_host host = { .add_ioeventfd = fake_ioeventfd, .add_irqfd = fake_irqfd };
	struct snap_writer w;
	struct snap_reader r = { 0 };
	char path[64], why[256];
	int memfd = -1, tap_peer = -1;

	memset(ram, 0, sizeof(ram));
	fuzz_check(gmem_add_region(&mem, 0, ram, RAM_SIZE) == 0);
	bus_init(&bus, "mmio", 0);
	fuzz_check(io_loop_init(&loop) == 0);
	if (kind == FUZZ_NET) {
		net = make_net(&tap_peer);
		dev = virtio_net_dev(net);
	} else if (kind == FUZZ_BLK) {
		memfd = memfd_create("fuzz-disk", MFD_CLOEXEC);
		fuzz_check(memfd >= 0 && ftruncate(memfd, 64 * 1024) == 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
		const struct kiln_disk kd = { .path = path };
		fuzz_check(virtio_blk_create(&kd, 0, &disk, why, sizeof(why)) == 0);
		dev = virtio_blk_dev(disk);
	} else {
		fuzz_check(virtio_rng_create(&rng) == 0);
		dev = virtio_rng_dev(rng);
	}
	fuzz_check(virtio_mmio_init(&m, dev, &bus, BASE, 5, &mem, &loop, &host) == 0);
	if (wrap(VIRTIO_SNAP_TAG, payload, len, &w, &r) && virtio_mmio_load(&m, &r, 0, why, sizeof(why)) == 0) {
		if (net) {
			static const uint8_t frame[12 + 60];

			check_net_config(&m);
			(void)send(tap_peer, frame, sizeof(frame), MSG_DONTWAIT); /* a full socket refuses it */
		}
		check_loaded(&m, &loop);
	}
	snap_reader_close(&r);
	snap_writer_free(&w);
	virtio_mmio_driver_write(&m, 0x070, 0); /* what a failed restore's teardown leaves behind */
	virtio_mmio_destroy(&m);
	if (disk)
		virtio_blk_destroy(disk);
	if (rng)
		virtio_rng_destroy(rng);
	virtio_net_destroy(net);
	if (tap_peer >= 0)
		close(tap_peer);
	if (memfd >= 0)
		close(memfd);
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
	switch (data[0] % 5) {
	case 0:
		load_virtio(FUZZ_RNG, data + 1, len - 1);
		break;
	case 1:
		load_virtio(FUZZ_BLK, data + 1, len - 1);
		break;
	case 4:
		load_virtio(FUZZ_NET, data + 1, len - 1);
		break;
	case 2:
		load_i8042(data + 1, len - 1);
		break;
	default:
		load_uart(data + 1, len - 1);
		break;
	}
	return 0;
}
