/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 (FIPS 180-4 §6.2), for naming cached files by their source's contents. */
#ifndef KILN_BOOT_SHA256_H
#define KILN_BOOT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

/* The digest of data[0, len). */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);

#endif
