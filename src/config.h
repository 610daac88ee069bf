/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

#include <kiln/kiln.h>

#include "util.h"

/*
 * kiln_config_validate's rules but the kernel's: what a VM restored from a snapshot (whose memory
 * already holds its kernel) is checked against.
 */
int config_validate_machine(const struct kiln_config *cfg, struct kiln_error *err) MUST_CHECK;

#define CONFIG_NET_ID_SIZE (KILN_MAX_NET_ID + 1)

/* NIC i's id: its own, or "netN" (N = i) when it has none; buf holds the latter. */
const char *config_net_id(const struct kiln_config *cfg, unsigned int i, char buf[CONFIG_NET_ID_SIZE]);

#endif
