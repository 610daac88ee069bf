/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiled, never run (make check-abi), against this release's kiln.h: each struct that may grow
 * begins with its size and ends on its last field. Padding at its end would be bytes that no rule
 * of kiln.h covers: a later field placed there would not change the size, and a program's garbage
 * there would read as that field. A release that appends a field names it here.
 */
#include <stddef.h>

#include <kiln/kiln.h>

#define ENDS_WITH(type, field)                                                                   \
	_Static_assert(offsetof(type, size) == 0 &&                                              \
			       sizeof(type) == offsetof(type, field) + sizeof(((type *)0)->field), \
		       #type " must begin with size and end with " #field ", no padding after it")

ENDS_WITH(struct kiln_config, reserved);
ENDS_WITH(struct kiln_restore, reserved);
ENDS_WITH(struct kiln_exit, detail);
