/* SPDX-License-Identifier: Apache-2.0 */
#include "mem/gmem.h"

#include <errno.h>
#include <string.h>

static int ranges_overlap(gpa_t a, uint64_t alen, gpa_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int gmem_add_region(struct gmem *m, gpa_t gpa, void *host, uint64_t size)
{
	if (m->nregions == GMEM_MAX_REGIONS)
		return -ENOSPC;
	if (size == 0 || host == NULL || gpa + size < gpa)
		return -EINVAL;
	for (unsigned int i = 0; i < m->nregions; i++)
		if (ranges_overlap(gpa, size, m->regions[i].gpa, m->regions[i].size))
			return -EINVAL;
	m->regions[m->nregions++] = (struct gmem_region){ .gpa = gpa, .size = size, .host = host };
	return 0;
}

void *gmem_ptr(const struct gmem *m, gpa_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < m->nregions; i++) {
		const struct gmem_region *r = &m->regions[i];

		if (gpa < r->gpa)
			continue;
		/* Subtract, then compare: neither side can overflow. */
		uint64_t offset = gpa - r->gpa;
		if (offset >= r->size || len > r->size - offset)
			continue;
		return r->host + offset;
	}
	return NULL;
}

int gmem_read(const struct gmem *m, void *dst, gpa_t gpa, uint64_t len)
{
	const void *src = gmem_ptr(m, gpa, len);

	if (src == NULL)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int gmem_write(const struct gmem *m, gpa_t gpa, const void *src, uint64_t len)
{
	void *dst = gmem_ptr(m, gpa, len);

	if (dst == NULL)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

uint64_t gmem_total(const struct gmem *m)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < m->nregions; i++)
		total += m->regions[i].size;
	return total;
}
