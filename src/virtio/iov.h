/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers over the iovec arrays that virtq_pop() hands to device backends. */
#ifndef KILN_VIRTIO_IOV_H
#define KILN_VIRTIO_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* dst = bytes [skip, skip + len) of iov[0..n) as at most n iovecs; returns how many. */
unsigned int iov_slice(const struct iovec *iov, unsigned int n, uint64_t skip, uint64_t len, struct iovec *dst);

/* Copies bytes [skip, skip + len) of iov[0..n) into dst; the caller checked they exist. */
void iov_to_buf(const struct iovec *iov, unsigned int n, uint64_t skip, void *dst, size_t len);

/* Fills iov[0..n) from src, which holds at least their total length. */
void iov_from_buf(const struct iovec *iov, unsigned int n, const void *src);

/* Drops the first `bytes` bytes of the iovecs *iov[0..*n), advancing *iov and *n. */
void iov_consume(struct iovec **iov, unsigned int *n, size_t bytes);

#endif
