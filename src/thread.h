/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Starting kiln's own threads: the vCPUs, the I/O loop and its disk workers, the API server.
 *
 * Their stacks are THREAD_STACK_SIZE, not glibc's default (RLIMIT_STACK's soft limit, usually
 * 8 MiB). Where transparent huge pages are "always" (Documentation/admin-guide/mm/transhuge.rst),
 * the first touch of a stack mapping that holds a 2 MiB-aligned range faults in a whole huge page:
 * a thread using a few KiB of stack then cost 2 MiB of RSS (seen in the KVM test host: a Linux
 * guest's kiln at 3.2 MiB above its guest RAM, kvmtool at 1.9 MiB). A mapping smaller than a huge
 * page never gets one. kiln's threads keep their buffers in their objects, not on their stacks; the
 * largest frames hold a few KiB.
 */
#ifndef KILN_THREAD_H
#define KILN_THREAD_H

#include <pthread.h>

#include "util.h"

#define THREAD_STACK_SIZE (1024u * 1024u)

/* pthread_create(thread, fn, arg) with a THREAD_STACK_SIZE stack: 0, or -errno. */
int thread_start(pthread_t *thread, void *(*fn)(void *), void *arg) MUST_CHECK;

#endif
