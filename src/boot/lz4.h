/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A decoder of LZ4's legacy frame format, the one Linux's bzImage carries with CONFIG_KERNEL_LZ4
 * (`lz4 -l`): the magic 0x184C2102, then blocks of at most 8 MiB each, every one a 32-bit
 * little-endian compressed size and an LZ4 block that depends on no earlier block. The input is a
 * stranger's: every length and offset is checked against both buffers.
 */
#ifndef KILN_BOOT_LZ4_H
#define KILN_BOOT_LZ4_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define LZ4_LEGACY_MAGIC 0x184c2102u

/*
 * Decodes the legacy stream in[0, in_len), which must start with the magic and end with its last
 * block, into out[0, out_cap). Returns the number of bytes written, or -EINVAL for a malformed
 * stream and -ENOSPC when it decodes to more than out_cap bytes.
 */
long lz4_legacy_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap) MUST_CHECK;

/*
 * Decodes one LZ4 block (lz4_Block_format.md: sequences of a token, literals, a 16-bit offset and a
 * match length; the last sequence has literals only) into out[0, out_cap), with no dictionary.
 * Returns the bytes written, or -EINVAL / -ENOSPC as above.
 */
long lz4_block_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap) MUST_CHECK;

#endif
