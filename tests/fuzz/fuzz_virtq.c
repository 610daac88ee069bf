/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: split-virtqueue descriptor chains (virtio/queue.c) from a hostile driver.
 *
 * Input: a 4-byte header, then guest RAM (FUZZ_RAM_SIZE bytes, zero-filled past the input).
 *   byte 0   queue size 1 << (b % 9), 1..256
 *   byte 1   bit 0: EVENT_IDX; bits 1..7: iov_cap - 1
 *   byte 2-3 the device's starting avail/used index (little-endian), to reach the 16-bit wrap
 * RAM layout for a queue of n entries (virtio 1.2 §2.7 alignments):
 *   avail at 0 (6 + 2n bytes), desc at ALIGN_UP(6 + 2n, 16) (16n), used after it (6 + 8n),
 *   and whatever lies beyond is buffers and indirect tables, wherever descriptors point.
 * The device pops until the ring is empty or broken, checks that every iovec lies inside RAM,
 * touches every byte of it, pushes each chain back and asks whether to interrupt; then it turns
 * kicks back on and drains again if a chain is waiting.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "fuzz/fuzz_check.h"
#include "mem/gmem.h"
#include "virtio/queue.h"

#define FUZZ_HEADER 4
#define FUZZ_RAM_SIZE 8192
#define FUZZ_MAX_IOV 128

static uint8_t fuzz_ram[FUZZ_RAM_SIZE] __attribute__((aligned(4096)));

struct fuzz_layout {
	uint16_t size;
	gpa_t desc, avail, used;
};

static struct fuzz_layout fuzz_layout_for(uint16_t size)
{
	struct fuzz_layout l = { .size = size, .avail = 0 };

	l.desc = ALIGN_UP(6 + 2 * (uint64_t)size, 16);
	l.used = l.desc + 16 * (uint64_t)size;
	return l;
}

/* Every iovec lies inside RAM and the element's counts and lengths add up; returns in bytes. */
static uint32_t fuzz_check_elem(const struct virtq_elem *e, const struct iovec *iov,
				unsigned int iov_cap)
{
	uint64_t out = 0, in = 0;
	uint8_t sink = 0;

	fuzz_check(e->iov == iov);
	fuzz_check(e->out_num + e->in_num <= iov_cap);
	for (unsigned int i = 0; i < e->out_num + e->in_num; i++) {
		uint8_t *base = iov[i].iov_base;

		fuzz_check(iov[i].iov_len > 0);
		fuzz_check(base >= fuzz_ram && base < fuzz_ram + FUZZ_RAM_SIZE);
		fuzz_check(iov[i].iov_len <= (size_t)(fuzz_ram + FUZZ_RAM_SIZE - base));
		if (i < e->out_num) {
			for (size_t k = 0; k < iov[i].iov_len; k++)
				sink ^= base[k];
			out += iov[i].iov_len;
		} else {
			memset(base, sink, iov[i].iov_len);
			in += iov[i].iov_len;
		}
	}
	fuzz_check(out == e->out_len && in == e->in_len);
	fuzz_check(out + in <= UINT32_MAX);
	return (uint32_t)in;
}

/*
 * Pops and pushes back until nothing is left or the queue breaks. The device writes into
 * device-writable buffers, which a hostile driver may lay over its own rings; the bound keeps a
 * ring rewritten that way from running on (each round takes one chain, so 2^16 rounds is plenty).
 */
static void fuzz_drain(struct virtq *q, unsigned int iov_cap)
{
	struct iovec iov[FUZZ_MAX_IOV];
	struct virtq_elem e;

	for (unsigned int round = 0; round <= UINT16_MAX; round++) {
		int ret = virtq_pop(q, &e, iov, iov_cap);

		if (ret <= 0) {
			fuzz_check(ret == 0 || (ret == -EBADMSG && q->broken));
			return;
		}
		virtq_push(q, e.head, fuzz_check_elem(&e, iov, iov_cap));
		(void)virtq_should_interrupt(q);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct gmem mem = { 0 };
	struct virtq q;
	uint16_t start;

	if (len < FUZZ_HEADER)
		return 0;
	uint16_t size = (uint16_t)(1u << (data[0] % 9));
	bool event_idx = data[1] & 1;
	unsigned int iov_cap = 1 + (data[1] >> 1);
	struct fuzz_layout l = fuzz_layout_for(size);

	memcpy(&start, data + 2, sizeof(start));
	memset(fuzz_ram, 0, sizeof(fuzz_ram));
	len -= FUZZ_HEADER;
	memcpy(fuzz_ram, data + FUZZ_HEADER, len < FUZZ_RAM_SIZE ? len : FUZZ_RAM_SIZE);
	fuzz_check(gmem_add_region(&mem, 0, fuzz_ram, FUZZ_RAM_SIZE) == 0);
	fuzz_check(virtq_init(&q, &mem, size, l.desc, l.avail, l.used, event_idx) == 0);
	q.next_avail = q.next_used = le16toh(start);

	virtq_disable_kicks(&q);
	fuzz_drain(&q, iov_cap);
	if (virtq_enable_kicks(&q))
		fuzz_drain(&q, iov_cap);
	return 0;
}
