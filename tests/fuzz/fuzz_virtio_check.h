/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the virtio fuzz harness: the invariants of fuzz_virtio_common.h, checked around each step. */
#ifndef KILN_TESTS_FUZZ_VIRTIO_CHECK_H
#define KILN_TESTS_FUZZ_VIRTIO_CHECK_H

#include <stdbool.h>

#include "fuzz/fuzz_virtio_common.h"

/* Before a step: the device-writable mask learns what the driver wrote since the last one. */
void fv_prepare(struct fv *f);
/* After a step (reset: it was a status write of 0): aborts unless every invariant holds. */
void fv_observe(struct fv *f, bool reset);

#endif
