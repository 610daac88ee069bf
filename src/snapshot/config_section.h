/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Section CONF/0: the machine a snapshot was taken of, enough to build the same one again: vCPUs,
 * RAM, the console kind, and each device with its host side by name (disk paths with their size,
 * taps, the vsock socket), in the order that gave each device its address and interrupt; NICs
 * with their ids, by which a restore's overrides name them.
 */
#ifndef KILN_SNAPSHOT_CONFIG_SECTION_H
#define KILN_SNAPSHOT_CONFIG_SECTION_H

#include <kiln/kiln.h>
#include <limits.h>
#include <net/if.h>

#include "snapshot/snap_file.h"

#define SNAP_TAG_CONFIG SNAP_TAG('C', 'O', 'N', 'F')
/* ARCH/0: str, the machine that took the snapshot (arch_machine_name); files without it are x86_64's. */
#define SNAP_TAG_ARCH SNAP_TAG('A', 'R', 'C', 'H')
#define SNAP_ARCH_DEFAULT "x86_64"

/* Where the strings of a configuration read back from a file live. */
struct snap_config_store {
	char disk_paths[KILN_MAX_DISKS][PATH_MAX];
	char disk_serials[KILN_MAX_DISKS][KILN_MAX_SERIAL + 1];
	uint64_t disk_sizes[KILN_MAX_DISKS]; /* bytes, when the snapshot was taken */
	char taps[KILN_MAX_NETS][IFNAMSIZ];
	char net_ids[KILN_MAX_NETS][KILN_MAX_NET_ID + 1];
	char vsock_uds[KILN_MAX_VSOCK_UDS + 1];
};

/* disk_sizes: each disk's size in bytes now. */
void snap_config_put(struct snap_writer *w, const struct kiln_config *cfg, const uint64_t *disk_sizes);

/*
 * Reads CONF/0 into cfg (defaults from kiln_config_init, no kernel, console fds -1), its strings
 * in store. Counts and kinds are checked here; kiln_config_validate's rules are the caller's.
 * 0, or -EBADMSG with why.
 */
int snap_config_get(const struct snap_reader *r, struct kiln_config *cfg, struct snap_config_store *store,
		    char *why, size_t whylen) MUST_CHECK;

void snap_arch_put(struct snap_writer *w, const char *machine);
/* 0 when the file's machine is machine; else -EINVAL (another's) or -EBADMSG, with why. */
int snap_arch_check(const struct snap_reader *r, const char *machine, char *why, size_t whylen) MUST_CHECK;

#endif
