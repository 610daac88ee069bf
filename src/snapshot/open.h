/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A snapshot opened for restores (kiln_snapshot_open): its state file read and checked, its machine
 * read back and its memory file opened, once for every VM restored from it (snapshot/restore.c).
 * Read-only once open.
 */
#ifndef KILN_SNAPSHOT_OPEN_H
#define KILN_SNAPSHOT_OPEN_H

#include <kiln/kiln.h>

#include "snapshot/config_section.h"
#include "snapshot/snap_file.h"

struct kiln_snapshot {
	char *state_path;                /* for messages */
	struct snap_reader reader;       /* the state file, checked */
	struct kiln_config cfg;          /* its machine, no console; the strings in store */
	struct snap_config_store store;
	int mem_fd;                      /* the memory file: a regular file of cfg.mem_bytes */
};

#endif
