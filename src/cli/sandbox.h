/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The main thread's own seccomp filter (SECCOMP_THREAD_MAIN in io/seccomp.c). libkiln filters only
 * the threads it starts: the thread that calls it belongs to the embedding program, whose work kiln
 * cannot list (kiln.h). The kiln command owns its main thread, so it filters it here, once the VM
 * runs: `kiln run` right after kiln_vm_start, the API process at InstanceStart.
 */
#ifndef KILN_CLI_SANDBOX_H
#define KILN_CLI_SANDBOX_H

#include "util.h"

/* Installs the main thread's filter on the calling thread. 0 or -errno. */
int cli_sandbox_main_thread(void) MUST_CHECK;

#endif
