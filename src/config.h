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

#endif
