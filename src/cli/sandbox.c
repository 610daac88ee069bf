/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/sandbox.h"

#include "io/seccomp.h"

int cli_sandbox_main_thread(void)
{
	int rc = seccomp_install(SECCOMP_THREAD_MAIN);

	if (rc == 0)
		seccomp_test_violation(SECCOMP_THREAD_MAIN);
	return rc;
}
