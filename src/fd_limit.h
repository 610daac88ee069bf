/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process's file descriptor budget (RLIMIT_NOFILE). kiln's fds are shared by everything in the
 * process: the API's sockets, disks, eventfds, and a vsock connection apiece. The soft limit is
 * often 1024 while the hard one is far higher; kiln raises the first to the second once, and bounds
 * what a guest can make it open (vsock connections) below what is left.
 */
#ifndef KILN_FD_LIMIT_H
#define KILN_FD_LIMIT_H

#include <stdint.h>

#include "util.h"

/*
 * Raises the soft RLIMIT_NOFILE to the hard limit; a soft limit already there stays. The soft limit
 * now in force, or -errno (getrlimit/setrlimit failed: the limit is unchanged).
 */
int64_t fd_limit_raise(void) MUST_CHECK;

/* The soft RLIMIT_NOFILE now, or -errno. */
int64_t fd_limit_soft(void) MUST_CHECK;

/* How many fds this process has open now (/proc/self/fd), or -errno. */
int64_t fd_limit_count_open(void) MUST_CHECK;

/* What a soft limit leaves once `open` fds are taken and `reserve` more are kept: 0 when nothing. */
uint64_t fd_limit_spare(uint64_t soft, uint64_t open, uint64_t reserve);

#endif
