/* SPDX-License-Identifier: Apache-2.0 */
#include "mem/gmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"

/*
 * Asks for transparent huge pages: each first touch of guest RAM then faults in 2 MiB instead of
 * 4 KiB, which a Linux guest feels most while it unpacks its initramfs (QEMU does the same for its
 * guest RAM). With THP set to "madvise" (Documentation/admin-guide/mm/transhuge.rst) this is what
 * turns them on; a kernel without THP answers EINVAL, and 4 KiB pages still work.
 */
static void advise_huge_pages(void *host, uint64_t bytes)
{
	if (madvise(host, bytes, MADV_HUGEPAGE) == 0)
		return;
	if (errno == EINVAL)
		log_debug("mem", "no transparent huge pages for guest RAM: %s", strerror(errno));
	else
		log_warn("mem", "madvise(MADV_HUGEPAGE) on guest RAM: %s", strerror(errno));
}

int gmem_ram_map(uint64_t bytes, void **host)
{
	/* One huge page more than asked for, so that an aligned start exists; the rest is trimmed. */
	uint64_t len = bytes + GMEM_HUGE_PAGE_SIZE;

	if (bytes == 0 || len < bytes)
		return -EINVAL;
	/* MAP_NORESERVE: RAM the guest never touches costs nothing, not even commit charge. */
	uint8_t *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	uint8_t *start = (uint8_t *)ALIGN_UP((uintptr_t)p, GMEM_HUGE_PAGE_SIZE);
	size_t head = (size_t)(start - p);
	size_t tail = (size_t)(len - head - bytes);

	if (head > 0)
		munmap(p, head);
	if (tail > 0)
		munmap(start + bytes, tail);
	advise_huge_pages(start, bytes);
	*host = start;
	return 0;
}

void gmem_ram_unmap(void *host, uint64_t bytes)
{
	munmap(host, (size_t)bytes);
}

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
	gmem_mark_dirty(m, gpa, len);
	return 0;
}

uint64_t gmem_total(const struct gmem *m)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < m->nregions; i++)
		total += m->regions[i].size;
	return total;
}

int gmem_dirty_start(struct gmem *m)
{
	for (unsigned int i = 0; i < m->nregions; i++) {
		m->regions[i].dirty = calloc(gmem_dirty_words(m->regions[i].size),
					     sizeof(*m->regions[i].dirty));
		if (m->regions[i].dirty == NULL) {
			gmem_dirty_stop(m);
			return -ENOMEM;
		}
	}
	m->tracking = true;
	return 0;
}

void gmem_dirty_stop(struct gmem *m)
{
	m->tracking = false;
	for (unsigned int i = 0; i < m->nregions; i++) {
		free(m->regions[i].dirty);
		m->regions[i].dirty = NULL;
	}
}

/*
 * Relaxed atomics throughout: a mark needs no order against other memory, only not to be lost.
 * Whoever takes the bitmap for a snapshot has stopped every writer first (vCPUs parked, the I/O
 * thread held), and those hand-offs order the marks before the take.
 */
void gmem_mark_dirty(const struct gmem *m, gpa_t gpa, uint64_t len)
{
	if (!m->tracking || len == 0)
		return;
	for (unsigned int i = 0; i < m->nregions; i++) {
		const struct gmem_region *r = &m->regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size || len > r->size - (gpa - r->gpa))
			continue;
		uint64_t first = (gpa - r->gpa) / GMEM_PAGE_SIZE;
		uint64_t last = (gpa - r->gpa + len - 1) / GMEM_PAGE_SIZE;

		for (uint64_t page = first; page <= last; page++) {
			_Atomic uint64_t *word = &r->dirty[page / 64];
			uint64_t bit = 1ull << (page % 64);

			/* A page written again and again (a used ring) costs a load, not a locked op. */
			if (!(atomic_load_explicit(word, memory_order_relaxed) & bit))
				atomic_fetch_or_explicit(word, bit, memory_order_relaxed);
		}
		return;
	}
}

void gmem_dirty_take(const struct gmem *m, unsigned int i, uint64_t *bits)
{
	const struct gmem_region *r = &m->regions[i];
	uint64_t words = gmem_dirty_words(r->size);

	if (r->dirty == NULL)
		return;
	for (uint64_t w = 0; w < words; w++)
		if (atomic_load_explicit(&r->dirty[w], memory_order_relaxed))
			bits[w] |= atomic_exchange_explicit(&r->dirty[w], 0, memory_order_relaxed);
}

void gmem_dirty_give_back(const struct gmem *m, unsigned int i, const uint64_t *bits)
{
	const struct gmem_region *r = &m->regions[i];
	uint64_t words = gmem_dirty_words(r->size);

	if (r->dirty == NULL)
		return;
	for (uint64_t w = 0; w < words; w++)
		if (bits[w])
			atomic_fetch_or_explicit(&r->dirty[w], bits[w], memory_order_relaxed);
}
