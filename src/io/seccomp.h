/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-thread seccomp allowlists. Each thread class has one rule table; a thread installs its own
 * filter after its fds are open and before its loop. Any other syscall prints one line naming it
 * and the thread class, then kills the whole process with SIGSYS (kiln owns the SIGSYS handler).
 */
#ifndef KILN_IO_SECCOMP_H
#define KILN_IO_SECCOMP_H

#include "util.h"

enum seccomp_thread {
	SECCOMP_THREAD_VCPU,
	SECCOMP_THREAD_IO,
	SECCOMP_THREAD_API, /* the control plane's HTTP thread (api/server.c) */
	SECCOMP_THREAD_MAIN, /* kiln's main thread once its VM runs (cli/sandbox.h) */
};

/* Loads the filter of class t on the calling thread. 0 or -errno. */
int seccomp_install(enum seccomp_thread t) MUST_CHECK;

/* Builds the filter of class t and checks that it compiles to BPF, without loading it. */
int seccomp_check(enum seccomp_thread t) MUST_CHECK;

/*
 * Test builds only (KILN_TEST_HOOKS): when the environment variable KILN_TEST_SECCOMP_VIOLATION
 * names this thread class ("vcpu", "io", "api" or "main"), make a syscall outside its allowlist,
 * which must kill the process with SIGSYS. A no-op in release builds.
 */
void seccomp_test_violation(enum seccomp_thread t);

#endif
