/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

#include <kiln/kiln.h>

#include "util.h"

/*
 * A program's kiln_config (of its kiln.h's size) as this library's, checked by kiln.h's rules for
 * a struct that grows; dst's strings are src's.
 */
int config_import(struct kiln_config *dst, const struct kiln_config *src, struct kiln_error *err) MUST_CHECK;

/* kiln_config_validate of a kiln_config of this library's size. */
int config_validate(const struct kiln_config *cfg, struct kiln_error *err) MUST_CHECK;

/*
 * kiln_config_validate's rules but the kernel's: what a VM restored from a snapshot (whose memory
 * already holds its kernel) is checked against.
 */
int config_validate_machine(const struct kiln_config *cfg, struct kiln_error *err) MUST_CHECK;

#define CONFIG_NET_ID_SIZE (KILN_MAX_NET_ID + 1)

/* NIC i's id: its own, or "netN" (N = i) when it has none; buf holds the latter. */
const char *config_net_id(const struct kiln_config *cfg, unsigned int i, char buf[CONFIG_NET_ID_SIZE]);

#endif
