/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Link seam for the fuzz targets that use io/loop.c: they dispatch the loop by hand and never start
 * its thread, so the filter that thread installs is never loaded (and io/seccomp.c, built for gcc,
 * need not build under clang). Reaching either function is a harness bug.
 */
#include <stdlib.h>

#include "io/seccomp.h"

int seccomp_install(enum seccomp_thread t)
{
	(void)t;
	abort();
}

void seccomp_test_violation(enum seccomp_thread t)
{
	(void)t;
	abort();
}
