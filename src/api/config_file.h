/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firecracker's JSON config file (`--config-file`): the objects of FullVmConfiguration under the
 * keys "boot-source", "drives", "machine-config", "network-interfaces", "vsock", "entropy",
 * "logger" and "metrics", turned by the same per-object functions as the API (parse.h) into the
 * actions a client would send, in the order that applies them, ending with InstanceStart.
 */
#ifndef KILN_API_CONFIG_FILE_H
#define KILN_API_CONFIG_FILE_H

#include <stddef.h>

#include "api/action.h"
#include "util.h"

/* The most actions a config file can make: logger, metrics, machine, boot, drives, nets, vsock,
 * entropy, InstanceStart. */
#define API_CONFIG_MAX_ACTIONS (7 + KILN_MAX_DISKS + KILN_MAX_NETS)

/*
 * Parses len bytes of a config file into out[0..*n). -EINVAL with one line in err naming the key
 * ("drives[1]: missing field `drive_id`").
 */
int api_config_file_parse(const char *text, size_t len, struct api_action *out, size_t *n, char *err,
			  size_t errlen) MUST_CHECK;

#endif
