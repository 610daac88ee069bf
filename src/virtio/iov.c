/* SPDX-License-Identifier: Apache-2.0 */
#include "virtio/iov.h"

#include <string.h>

unsigned int iov_slice(const struct iovec *iov, unsigned int n, uint64_t skip, uint64_t len, struct iovec *dst)
{
	unsigned int count = 0;

	for (unsigned int i = 0; i < n && len > 0; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;

		dst[count++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, chunk };
		len -= chunk;
		skip = 0;
	}
	return count;
}

void iov_to_buf(const struct iovec *iov, unsigned int n, uint64_t skip, void *dst, size_t len)
{
	uint8_t *p = dst;

	for (unsigned int i = 0; i < n && len > 0; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;

		memcpy(p, (const uint8_t *)iov[i].iov_base + skip, chunk);
		p += chunk;
		len -= chunk;
		skip = 0;
	}
}

void iov_from_buf(const struct iovec *iov, unsigned int n, const void *src)
{
	const uint8_t *p = src;

	for (unsigned int i = 0; i < n; i++) {
		memcpy(iov[i].iov_base, p, iov[i].iov_len);
		p += iov[i].iov_len;
	}
}

void iov_consume(struct iovec **iov, unsigned int *n, size_t bytes)
{
	while (*n > 0 && bytes >= (*iov)->iov_len) {
		bytes -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (bytes > 0 && *n > 0) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + bytes;
		(*iov)->iov_len -= bytes;
	}
}
