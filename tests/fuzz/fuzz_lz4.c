/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the LZ4 legacy-stream and block decoders (boot/lz4.c), which read a stranger's
 * bzImage payload.
 *
 * Input: byte 0 picks the mode (bit 0: 0 = one block, 1 = a legacy stream), bytes 1-2 the output
 * room (little-endian, at most 64 KiB), the rest is the compressed input.
 *
 * Checks: the output buffer is exactly the room given (ASan sees any write past it); a success
 * writes at most that room; and the result agrees with a reference decoder written here the plain
 * way (one byte at a time, lz4_Block_format.md): both fail, or both succeed with the same bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/lz4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define REF_BLOCK_MAX (8u << 20)

/* Reads a length's continuation bytes; false when the input ends first. */
static bool ref_length(const uint8_t *in, size_t n, size_t *ip, size_t *len)
{
	uint8_t b;

	do {
		if (*ip >= n)
			return false;
		b = in[(*ip)++];
		*len += b;
	} while (b == 255);
	return true;
}

/* The block decoder the plain way: the bytes written, or -1 on any error. */
static long ref_block(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t ip = 0, op = 0;

	for (;;) {
		if (ip >= n)
			return -1;
		uint8_t token = in[ip++];
		size_t lit = token >> 4, match = token & 15, dist;

		if (lit == 15 && !ref_length(in, n, &ip, &lit))
			return -1;
		for (size_t i = 0; i < lit; i++) {
			if (ip >= n || op >= cap)
				return -1;
			out[op++] = in[ip++];
		}
		if (ip == n)
			return (long)op;
		if (n - ip < 2)
			return -1;
		dist = in[ip] | (size_t)in[ip + 1] << 8;
		ip += 2;
		if (match == 15 && !ref_length(in, n, &ip, &match))
			return -1;
		match += 4;
		if (dist == 0 || dist > op)
			return -1;
		for (size_t i = 0; i < match; i++, op++) {
			if (op >= cap)
				return -1;
			out[op] = out[op - dist];
		}
	}
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static long ref_legacy(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t ip = 4, op = 0;

	if (n < 4 || le32(in) != LZ4_LEGACY_MAGIC)
		return -1;
	while (ip < n) {
		if (n - ip < 4)
			return -1;
		uint32_t c = le32(in + ip);

		ip += 4;
		if (c == LZ4_LEGACY_MAGIC)
			continue;
		if (c == 0 || c > n - ip)
			return -1;
		size_t room = cap - op < REF_BLOCK_MAX ? cap - op : REF_BLOCK_MAX;
		long got = ref_block(in + ip, c, out + op, room);

		if (got < 0)
			return -1;
		ip += c;
		op += (size_t)got;
	}
	return (long)op;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 3)
		return 0;
	bool legacy = data[0] & 1;
	size_t cap = (size_t)data[1] | (size_t)data[2] << 8;
	const uint8_t *in = data + 3;
	size_t n = len - 3;
	/* Exactly cap bytes (one for cap 0, so that malloc returns a buffer ASan knows). */
	uint8_t *out = malloc(cap ? cap : 1), *ref = malloc(cap ? cap : 1);

	if (out == NULL || ref == NULL)
		abort();
	long got = legacy ? lz4_legacy_decode(in, n, out, cap) : lz4_block_decode(in, n, out, cap);
	long want = legacy ? ref_legacy(in, n, ref, cap) : ref_block(in, n, ref, cap);

	if (got > (long)cap || (got < 0) != (want < 0))
		abort();
	if (got >= 0 && (got != want || memcmp(out, ref, (size_t)got) != 0))
		abort();
	free(out);
	free(ref);
	return 0;
}
