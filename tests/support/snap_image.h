/* SPDX-License-Identifier: Apache-2.0 */
/* For tests of what devices save and load: a writer's sections read back as a state file. */
#ifndef KILN_TESTS_SNAP_IMAGE_H
#define KILN_TESTS_SNAP_IMAGE_H

#include "snapshot/snap_file.h"

/* Seals w's file in memory and parses it into r (snap_reader_close it after): 0 or -errno. */
int snap_image_read_back(struct snap_writer *w, struct snap_reader *r);

#endif
