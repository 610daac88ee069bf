/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRC-64/XZ, the state file's checksum: the ECMA-182 polynomial 0x42f0e1eba9ea3693, reflected
 * (bits in least-significant-first order, so the polynomial reads 0xc96c5795d7870f42), initial
 * value and final xor all ones. One byte per step through a 256-entry table, which the
 * preprocessor computes: entry i is i shifted through the polynomial eight times, bit by bit.
 */
#include "snapshot/snap_file.h"

#define CRC64_POLY_REFLECTED 0xc96c5795d7870f42ull

#define CRC64_BIT(c) (((c) >> 1) ^ (((c) & 1) * CRC64_POLY_REFLECTED))
#define CRC64_BYTE(i) \
	CRC64_BIT(CRC64_BIT(CRC64_BIT(CRC64_BIT(CRC64_BIT(CRC64_BIT(CRC64_BIT(CRC64_BIT((uint64_t)(i)))))))))
#define CRC64_4(i) CRC64_BYTE(i), CRC64_BYTE((i) + 1), CRC64_BYTE((i) + 2), CRC64_BYTE((i) + 3)
#define CRC64_16(i) CRC64_4(i), CRC64_4((i) + 4), CRC64_4((i) + 8), CRC64_4((i) + 12)
#define CRC64_64(i) CRC64_16(i), CRC64_16((i) + 16), CRC64_16((i) + 32), CRC64_16((i) + 48)

static const uint64_t crc64_table[256] = {
	CRC64_64(0), CRC64_64(64), CRC64_64(128), CRC64_64(192),
};

uint64_t snap_crc64(uint64_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	/* The all-ones init and xorout: continuing a CRC undoes the previous call's final xor. */
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc64_table[(uint8_t)crc ^ p[i]] ^ (crc >> 8);
	return ~crc;
}
