/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bus maps address ranges (port I/O or MMIO) to devices. A vCPU exit becomes bus_access(); the
 * device that owns the address sees an offset into its range. Ranges are registered while the VM is
 * built, before any vCPU runs, so lookups need no lock; each device guards its own state.
 */
#ifndef KILN_BUS_BUS_H
#define KILN_BUS_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct bus_ops {
	/* len is 1, 2, 4 or 8; data is little-endian, as the guest sees it. */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned int len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned int len);
};

struct bus_range {
	uint64_t base;
	uint64_t size;
	const struct bus_ops *ops;
	void *opaque;
};

struct bus {
	const char *name;      /* "pio" or "mmio", for logs */
	uint8_t unclaimed_fill; /* what a read of an unclaimed address returns in each byte */
	struct bus_range *ranges; /* sorted by base, never overlapping */
	unsigned int nranges;
	unsigned int capacity;
};

void bus_init(struct bus *b, const char *name, uint8_t unclaimed_fill);
void bus_free(struct bus *b);

/* 0, or -EINVAL for a zero-length, overflowing or overlapping range, or -ENOMEM. */
int bus_register(struct bus *b, uint64_t base, uint64_t size, const struct bus_ops *ops,
		 void *opaque) MUST_CHECK;

/*
 * Dispatches one access of len bytes (1..8). Returns true if a device claimed it; an unclaimed
 * read fills data with unclaimed_fill, an unclaimed write is dropped. An access that straddles the
 * end of a range is unclaimed.
 */
bool bus_access(const struct bus *b, uint64_t addr, void *data, unsigned int len, bool is_write);

#endif
