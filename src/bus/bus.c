/* SPDX-License-Identifier: Apache-2.0 */
#include "bus/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *b, const char *name, uint8_t unclaimed_fill)
{
	*b = (struct bus){ .name = name, .unclaimed_fill = unclaimed_fill };
}

void bus_free(struct bus *b)
{
	free(b->ranges);
	b->ranges = NULL;
	b->nranges = b->capacity = 0;
}

/* Index of the first range whose base is above addr (binary search over the sorted array). */
static unsigned int first_above(const struct bus *b, uint64_t addr)
{
	unsigned int lo = 0, hi = b->nranges;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (b->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int grow(struct bus *b)
{
	unsigned int cap = b->capacity ? b->capacity * 2 : 8;
	struct bus_range *r = realloc(b->ranges, cap * sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	b->ranges = r;
	b->capacity = cap;
	return 0;
}

int bus_register(struct bus *b, uint64_t base, uint64_t size, const struct bus_ops *ops, void *opaque)
{
	if (size == 0 || base + size - 1 < base || ops == NULL)
		return -EINVAL;
	unsigned int at = first_above(b, base);
	/* The range before must end before base; the range after must start after our end. */
	if (at > 0 && b->ranges[at - 1].base + (b->ranges[at - 1].size - 1) >= base)
		return -EINVAL;
	if (at < b->nranges && b->ranges[at].base <= base + (size - 1))
		return -EINVAL;
	if (b->nranges == b->capacity) {
		int rc = grow(b);
		if (rc < 0)
			return rc;
	}
	memmove(&b->ranges[at + 1], &b->ranges[at], (b->nranges - at) * sizeof(b->ranges[0]));
	b->ranges[at] = (struct bus_range){ .base = base, .size = size, .ops = ops, .opaque = opaque };
	b->nranges++;
	return 0;
}

static const struct bus_range *find(const struct bus *b, uint64_t addr, unsigned int len)
{
	unsigned int at = first_above(b, addr);

	if (at == 0)
		return NULL;
	const struct bus_range *r = &b->ranges[at - 1];
	uint64_t offset = addr - r->base;
	if (offset >= r->size || len > r->size - offset)
		return NULL;
	return r;
}

bool bus_access(const struct bus *b, uint64_t addr, void *data, unsigned int len, bool is_write)
{
	const struct bus_range *r = len >= 1 && len <= 8 ? find(b, addr, len) : NULL;

	if (r == NULL) {
		if (!is_write)
			memset(data, b->unclaimed_fill, len > 8 ? 8 : len);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
	} else if (r->ops->read) {
		r->ops->read(r->opaque, addr - r->base, data, len);
	} else {
		memset(data, b->unclaimed_fill, len);
	}
	return true;
}
