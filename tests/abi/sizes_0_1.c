/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiled, never run (make check-abi), against kiln 0.1's kiln.h (tests/abi/0.1): the smallest
 * sizes the library accepts (src/abi.h) are that release's structs' sizes, so that a program built
 * against it is served, and nothing smaller is taken for one.
 */
#include "abi.h"

_Static_assert(sizeof(struct kiln_config) == ABI_CONFIG_SIZE_0_1, "kiln 0.1's kiln_config");
_Static_assert(sizeof(struct kiln_restore) == ABI_RESTORE_SIZE_0_1, "kiln 0.1's kiln_restore");
_Static_assert(sizeof(struct kiln_exit) == ABI_EXIT_SIZE_0_1, "kiln 0.1's kiln_exit");
