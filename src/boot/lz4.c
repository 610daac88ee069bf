/* SPDX-License-Identifier: Apache-2.0 */
#include "boot/lz4.h"

#include <errno.h>
#include <string.h>

#define LZ4_LEGACY_BLOCK_MAX (8u << 20) /* lz4 -l: every block decodes to at most 8 MiB */
/* LZ4_COMPRESSBOUND of a full block: no valid block is longer. */
#define LZ4_LEGACY_CBLOCK_MAX (LZ4_LEGACY_BLOCK_MAX + LZ4_LEGACY_BLOCK_MAX / 255 + 16)
#define LZ4_MIN_MATCH 4

static uint32_t lz4_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * A length's continuation (the token's nibble was 15): bytes of 255 add and go on, any other byte
 * adds and ends it. A length past limit can only fail later, so it fails here, before it can grow.
 */
static int lz4_more_length(const uint8_t *in, size_t in_len, size_t *ip, size_t *len, size_t limit)
{
	uint8_t b;

	do {
		if (*ip >= in_len)
			return -EINVAL;
		b = in[(*ip)++];
		*len += b;
		if (*len > limit)
			return -ENOSPC;
	} while (b == 255);
	return 0;
}

/*
 * Byte copies in 8-byte words, not memcpy: matches and literals are mostly a few bytes long, and a
 * call per sequence into the C library's vector memcpy costs more than the copy (ten times more
 * under an emulated CPU, as in the KVM test host).
 */
static void lz4_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (; len >= 8; len -= 8, dst += 8, src += 8) {
		uint64_t w;

		memcpy(&w, src, sizeof(w));
		memcpy(dst, &w, sizeof(w));
	}
	while (len-- > 0)
		*dst++ = *src++;
}

/*
 * Copies a match of len bytes from dist bytes back. When they overlap (dist < len) the bytes repeat
 * with period dist: each pass copies what lies between the source's start and the destination,
 * which doubles, and never overlaps itself.
 */
static void lz4_copy_match(uint8_t *dst, size_t dist, size_t len)
{
	const uint8_t *src = dst - dist;

	while (len > 0) {
		size_t n = (size_t)(dst - src);

		if (n > len)
			n = len;
		lz4_copy(dst, src, n);
		dst += n;
		len -= n;
	}
}

long lz4_block_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap)
{
	size_t ip = 0, op = 0;

	for (;;) {
		size_t lit, match, dist;
		uint8_t token;
		int rc;

		if (ip >= in_len)
			return -EINVAL;
		token = in[ip++];
		lit = token >> 4;
		if (lit == 15 && (rc = lz4_more_length(in, in_len, &ip, &lit, out_cap - op)) < 0)
			return rc;
		if (lit > in_len - ip)
			return -EINVAL;
		if (lit > out_cap - op)
			return -ENOSPC;
		lz4_copy(out + op, in + ip, lit);
		ip += lit;
		op += lit;
		if (ip == in_len) /* the last sequence: literals only */
			break;
		if (in_len - ip < 2)
			return -EINVAL;
		dist = (size_t)in[ip] | (size_t)in[ip + 1] << 8;
		ip += 2;
		if (dist == 0 || dist > op) /* the block has no dictionary: only what it wrote */
			return -EINVAL;
		match = token & 15;
		if (match == 15 && (rc = lz4_more_length(in, in_len, &ip, &match, out_cap - op)) < 0)
			return rc;
		match += LZ4_MIN_MATCH;
		if (match > out_cap - op)
			return -ENOSPC;
		lz4_copy_match(out + op, dist, match);
		op += match;
	}
	return (long)op;
}

long lz4_legacy_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap)
{
	size_t ip = 4, op = 0;

	if (in_len < 4 || lz4_le32(in) != LZ4_LEGACY_MAGIC)
		return -EINVAL;
	while (ip < in_len) {
		size_t room = out_cap - op < LZ4_LEGACY_BLOCK_MAX ? out_cap - op : LZ4_LEGACY_BLOCK_MAX;
		uint32_t csize;
		long n;

		if (in_len - ip < 4)
			return -EINVAL;
		csize = lz4_le32(in + ip);
		ip += 4;
		if (csize == LZ4_LEGACY_MAGIC) /* the next of concatenated streams */
			continue;
		if (csize == 0 || csize > LZ4_LEGACY_CBLOCK_MAX || csize > in_len - ip)
			return -EINVAL;
		n = lz4_block_decode(in + ip, csize, out + op, room);
		/* A full block's worth of output that still wanted more is a block over 8 MiB. */
		if (n == -ENOSPC && room == LZ4_LEGACY_BLOCK_MAX)
			return -EINVAL;
		if (n < 0)
			return n;
		ip += csize;
		op += (size_t)n;
	}
	return (long)op;
}
