/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ERROR_H
#define KILN_ERROR_H

#include <kiln/kiln.h>

/* Formats one line into err (which may be NULL); returns -errno_value, for `return vm_error(...)`. */
int vm_error(struct kiln_error *err, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
