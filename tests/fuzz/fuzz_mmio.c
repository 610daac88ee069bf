/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the virtio-mmio transport (virtio/mmio.c) with a real device behind it (blk,
 * net, console, rng or vsock), driven by a register-write program from a hostile driver, with
 * ring contents in guest RAM, kicks, and host data arriving on the device's backend. Every step
 * is checked against the invariants of fuzz_virtio_common.h (transport status rules, guest memory
 * the device may write, used rings, reset); fds and files are checked once the device is gone.
 *
 * Input: byte 0 picks the device (% 5: blk, net, console, rng, vsock), byte 1 its host options
 * (fv_host_opts_from), then a program of operations, each an opcode byte (% 12) and its arguments
 * (little-endian; zeros past the input's end):
 *   0 WRITE32   reg u8 (offset reg * 4, config space included), value u32
 *   1 WRITE     offset u16 (% 0x200), width u8 (1 << (b % 4)), value u64: any width, unaligned
 *   2 READ      offset u16 (% 0x200), width u8
 *   3 INIT      features u64, qsize u8 (b < 128: 1 << (b % 8); else b - 128): the standard driver
 *   4 CHAIN     queue u8, shape u8 (segments 1 + (b % 8), bit 7 indirect), then per segment
 *               len u16 (bit 15 device-writable), n u8 and n bytes of contents
 *   5 POKE      gpa u16, n u8, n bytes into guest RAM
 *   6 KICK      queue u8 (QueueNotify, any value), then the I/O loop runs
 *   7 PUMP      the I/O loop runs
 *   8 HOST      a host action (fv_host_event), then the I/O loop runs
 *   9 RESET     status 0
 *   10 STATUS   status u8
 *   11 ACK      InterruptStatus read and acknowledged
 */
#include <stdint.h>
#include <string.h>

#include "fuzz/fuzz_virtio_common.h"
#include "fuzz/fuzz_virtio_hosts.h"

#define FUZZ_MAX_OPS 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static struct fv fuzz_fv;

static unsigned int fuzz_width(uint8_t b)
{
	return 1u << (b % 4);
}

static void fuzz_chain(struct fv *f, struct fv_in *in)
{
	struct fv_seg segs[8];
	unsigned int q = fv_u8(in) % f->dev->num_queues;
	uint8_t shape = fv_u8(in);
	unsigned int n = 1 + shape % 8;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t l = fv_u16(in);

		segs[i] = (struct fv_seg){ .len = l & 0x7fff, .write = l >> 15 };
		segs[i].data = fv_bytes(in, fv_u8(in), &segs[i].data_len);
	}
	fv_chain(f, q, segs, n, shape & 0x80, NULL);
}

static void fuzz_poke(struct fv *f, struct fv_in *in)
{
	uint16_t gpa = fv_u16(in);
	size_t got;
	const uint8_t *bytes = fv_bytes(in, fv_u8(in), &got);

	fv_poke(f, gpa, bytes, got);
}

static uint16_t fuzz_qsize(uint8_t b)
{
	return b < 128 ? (uint16_t)(1u << (b % 8)) : (uint16_t)(b - 128);
}

static void fuzz_op(struct fv *f, struct fv_host *h, struct fv_in *in)
{
	uint8_t op = fv_u8(in) % 12;
	uint64_t offset, value;

	switch (op) {
	case 0:
		offset = 4u * fv_u8(in);
		fv_write(f, offset, fv_u32(in), 4);
		break;
	case 1:
		offset = fv_u16(in) % 0x200;
		value = fv_u8(in);
		fv_write(f, offset, fv_u64(in), fuzz_width((uint8_t)value));
		break;
	case 2:
		offset = fv_u16(in) % 0x200;
		(void)fv_read(f, offset, fuzz_width(fv_u8(in)));
		break;
	case 3:
		value = fv_u64(in);
		(void)fv_driver_init(f, value, fuzz_qsize(fv_u8(in)));
		break;
	case 4:
		fuzz_chain(f, in);
		break;
	case 5:
		fuzz_poke(f, in);
		break;
	case 6:
		fv_kick(f, fv_u8(in));
		break;
	case 7:
		fv_pump(f);
		break;
	case 8:
		fv_host_event(h, in);
		fv_pump(f);
		break;
	case 9:
		fv_write(f, FV_REG_STATUS, 0, 4);
		break;
	case 10:
		fv_write(f, FV_REG_STATUS, fv_u8(in), 4);
		break;
	default:
		value = fv_read(f, FV_REG_INTERRUPT_STATUS, 4);
		fv_write(f, FV_REG_INTERRUPT_ACK, value, 4);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fv_in in = { data, len };
	struct fv *f = &fuzz_fv;
	struct fv_host h;

	if (len < 2)
		return 0;
	enum fv_kind kind = (enum fv_kind)(fv_u8(&in) % FV_KINDS);
	struct fv_host_opts opts = fv_host_opts_from(fv_u8(&in));

	fv_begin(f);
	fv_host_create(&h, kind, &opts);
	fv_attach(f, h.dev);
	for (unsigned int i = 0; i < FUZZ_MAX_OPS && in.len > 0; i++)
		fuzz_op(f, &h, &in);
	fv_detach(f);
	fv_host_destroy(&h);
	fv_end(f);
	return 0;
}
