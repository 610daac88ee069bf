/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KVM ioctls only the machine's architecture has, and the syscalls only it names so, which a
 * thread class of io/seccomp.c allows beside its own (src/arch/ARCH/seccomp_ARCH.c): compiled with
 * the rule tables, at build time and in the unit tests, not into kiln.
 */
#ifndef KILN_ARCH_SECCOMP_ARCH_H
#define KILN_ARCH_SECCOMP_ARCH_H

#include <stddef.h>

#include "io/seccomp.h"

/* Sets *list to the ioctl requests of class t (n of them; 0 and NULL for none). */
void arch_seccomp_ioctls(enum seccomp_thread t, const unsigned long **list, size_t *n);
/* Sets *list to the syscall numbers class t may make beside its table's, on this architecture. */
void arch_seccomp_syscalls(enum seccomp_thread t, const int **list, size_t *n);

#endif
