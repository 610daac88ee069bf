/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the virtio fuzz harness: the invariants of fuzz_virtio_common.h, checked around each step. */
#ifndef KILN_TESTS_FUZZ_VIRTIO_CHECK_H
#define KILN_TESTS_FUZZ_VIRTIO_CHECK_H

#include <stdbool.h>

#include "fuzz/fuzz_virtio_common.h"

/* Before a step: the device-writable mask learns what the driver wrote since the last one. */
void fv_prepare(struct fv *f);
/*
 * After a step (reset: it was a status write of 0): aborts unless every invariant holds. Without
 * memory, guest RAM is compared at the next step that asks (what the device wrote meanwhile is
 * still found, and judged by that step's status).
 */
void fv_observe(struct fv *f, bool reset, bool memory);

#endif
