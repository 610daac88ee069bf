/* SPDX-License-Identifier: Apache-2.0 */
#include "abi.h"

#include <errno.h>
#include <string.h>

#include "error.h"

_Static_assert(offsetof(struct kiln_config, size) == 0 && offsetof(struct kiln_restore, size) == 0 &&
		       offsetof(struct kiln_exit, size) == 0,
	       "an extensible struct begins with its size");
_Static_assert(sizeof(struct kiln_config) >= ABI_CONFIG_SIZE_0_1 && sizeof(struct kiln_restore) >= ABI_RESTORE_SIZE_0_1 &&
		       sizeof(struct kiln_exit) >= ABI_EXIT_SIZE_0_1,
	       "a struct of kiln.h grew smaller than kiln 0.1's");

static void set_size(void *s, size_t size)
{
	memcpy(s, &size, sizeof(size)); /* the first field of every extensible struct */
}

static size_t get_size(const void *s)
{
	size_t size;

	memcpy(&size, s, sizeof(size));
	return size;
}

void abi_init(void *dst, size_t size, const void *defaults, size_t lib_size)
{
	if (size < sizeof(size_t))
		return; /* no room even for the size: the first use of it will say so */
	memcpy(dst, defaults, size < lib_size ? size : lib_size);
	if (size > lib_size)
		memset((char *)dst + lib_size, 0, size - lib_size);
	set_size(dst, size);
}

int abi_copy_in(void *dst, size_t lib_size, const void *src, size_t min_size, const char *name,
		struct kiln_error *err)
{
	size_t size = get_size(src);

	if (size < min_size || size > ABI_SIZE_MAX)
		return vm_error(err, EINVAL, "%s.size %zu: not a size of this struct (%zu to %d bytes); set it "
				"with %s_init", name, size, min_size, ABI_SIZE_MAX, name);
	/* A byte this library does not know is a field of a later release: zero means its old behaviour. */
	for (size_t i = lib_size; i < size; i++)
		if (((const unsigned char *)src)[i] != 0)
			return vm_error(err, E2BIG, "%s: byte %zu of %zu is set, past the %zu bytes this libkiln "
					"(%s) knows: the program uses a field of a later kiln.h", name, i, size,
					lib_size, KILN_VERSION);
	memcpy(dst, src, size < lib_size ? size : lib_size);
	set_size(dst, lib_size);
	return 0;
}

int abi_check_reserved(const uint8_t *reserved, size_t n, const char *name, struct kiln_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (reserved[i] != 0)
			return vm_error(err, E2BIG, "%s.reserved[%zu] is %#x: reserved bytes are zero in this "
					"libkiln (%s); the program uses a field of a later kiln.h", name, i,
					reserved[i], KILN_VERSION);
	return 0;
}

void abi_copy_out(void *dst, size_t size, const void *src, size_t lib_size)
{
	size_t n = size < lib_size ? size : lib_size;

	memcpy(dst, src, n);
	set_size(dst, n);
}
