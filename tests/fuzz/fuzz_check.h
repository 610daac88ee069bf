/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fuzz targets share: libFuzzer's entry point, and fuzz_check, an invariant that aborts when
 * it breaks (libFuzzer then keeps the input that broke it).
 */
#ifndef KILN_FUZZ_CHECK_H
#define KILN_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define fuzz_check(cond)                    \
	do {                                \
		if (!(cond))                \
			abort();            \
	} while (0)

#endif
