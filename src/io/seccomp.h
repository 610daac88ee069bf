/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-thread seccomp allowlists. Each thread class has one rule table (io/seccomp.c), compiled to a
 * BPF program when kiln is built (mk/seccomp.mk); a thread installs its own filter after its fds are
 * open and before its loop. Any other syscall prints one line naming it and the thread class, then
 * kills the whole process with SIGSYS (kiln owns the SIGSYS handler).
 */
#ifndef KILN_IO_SECCOMP_H
#define KILN_IO_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>

#include "util.h"

enum seccomp_thread {
	SECCOMP_THREAD_VCPU,
	SECCOMP_THREAD_IO,
	SECCOMP_THREAD_BLK, /* a virtio-blk disk's worker thread (virtio/blk.c, io/loop.h) */
	SECCOMP_THREAD_API, /* the control plane's HTTP thread (api/server.c) */
	SECCOMP_THREAD_MAIN, /* kiln's main thread once its VM runs (cli/sandbox.h) */
};

#define SECCOMP_THREADS (SECCOMP_THREAD_MAIN + 1)

/* A thread class's filter as kiln loads it: a BPF program (io/seccomp_install.c). */
struct seccomp_program {
	const char *name; /* the class: "vcpu", "io", "blk", "api" or "main" */
	const struct sock_filter *insns;
	unsigned short len;
};

/* Loads the filter of class t on the calling thread. 0 or -errno. */
int seccomp_install(enum seccomp_thread t) MUST_CHECK;

/* The program seccomp_install loads for class t (the sanitizer build's, in that build). */
const struct seccomp_program *seccomp_program(enum seccomp_thread t);

/*
 * Build time and tests only (io/seccomp.c, which needs libseccomp; kiln does not link it): the rule
 * tables, compiled by libseccomp. tools/seccomp_bpf.c writes them into io/seccomp_bpf.h.
 */
const char *seccomp_thread_name(enum seccomp_thread t);

/* Writes the BPF program of class t to fd; sanitizer: with the ASan build's extra rules. 0 or -errno. */
int seccomp_export(enum seccomp_thread t, bool sanitizer, int fd) MUST_CHECK;

/*
 * Test builds only (KILN_TEST_HOOKS): when the environment variable KILN_TEST_SECCOMP_VIOLATION
 * names this thread class ("vcpu", "io", "blk", "api" or "main"), make a syscall outside its allowlist,
 * which must kill the process with SIGSYS. A no-op in release builds.
 */
void seccomp_test_violation(enum seccomp_thread t);

#endif
