/* SPDX-License-Identifier: Apache-2.0 */
/* For the seccomp unit tests: the programs kiln loads against what the rule tables compile to now. */
#ifndef KILN_TESTS_SUPPORT_SECCOMP_CHECK_H
#define KILN_TESTS_SUPPORT_SECCOMP_CHECK_H

#include "io/seccomp.h"

/*
 * Whether the program kiln loads for class t (seccomp_program) is the one io/seccomp.c's table
 * compiles to with libseccomp (seccomp_export; the sanitizer build's main class in that build):
 * 0, -ESTALE when they differ, or -errno.
 */
int seccomp_check(enum seccomp_thread t) MUST_CHECK;

#endif
