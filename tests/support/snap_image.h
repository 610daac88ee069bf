/* SPDX-License-Identifier: Apache-2.0 */
/* For tests of what devices save and load: a writer's sections read back as a state file. */
#ifndef KILN_TESTS_SNAP_IMAGE_H
#define KILN_TESTS_SNAP_IMAGE_H

#include "snapshot/snap_file.h"

/* Seals w's file in memory and parses it into r (snap_reader_close it after): 0 or -errno. */
int snap_image_read_back(struct snap_writer *w, struct snap_reader *r);

/*
 * A file of one section, tag/instance, holding payload[0, len) as it is (any bytes at all), read back
 * into r: 0 or -errno. w is initialized here; snap_writer_free it and snap_reader_close r after.
 */
int snap_image_wrap(uint32_t tag, uint32_t instance, const void *payload, size_t len, struct snap_writer *w,
		    struct snap_reader *r);

#endif
