/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM's own copy of the configuration it was built from: a kiln_config whose strings it owns,
 * so a snapshot can say later what the VM was (the caller's strings may be gone by then).
 */
#ifndef KILN_VM_CONFIG_H
#define KILN_VM_CONFIG_H

#include <kiln/kiln.h>

#include "util.h"

/* Deep-copies src into dst (every string strdup'd). 0 or -ENOMEM; dst is then freed with below. */
int vm_config_copy(struct kiln_config *dst, const struct kiln_config *src) MUST_CHECK;
void vm_config_free(struct kiln_config *cfg);

#endif
