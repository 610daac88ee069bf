/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest RAM: a few regions of host memory, each mapped at a guest-physical address.
 * These functions are the only way into guest memory; each checks that the whole range
 * [gpa, gpa + len) lies inside one region, so no guest-supplied address or length can reach
 * host memory outside guest RAM.
 */
#ifndef KILN_MEM_GMEM_H
#define KILN_MEM_GMEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define GMEM_MAX_REGIONS 4

/* The granule of dirty page tracking: KVM's dirty log has a bit per 4 KiB guest page. */
#define GMEM_PAGE_SIZE 4096u

struct gmem_region {
	gpa_t gpa;
	uint64_t size;
	uint8_t *host;
	/* While tracking: a bit per page of the region that kiln wrote (bit n of word n / 64 is page
	 * n, KVM_GET_DIRTY_LOG's layout), NULL otherwise. */
	_Atomic uint64_t *dirty;
};

struct gmem {
	struct gmem_region regions[GMEM_MAX_REGIONS];
	unsigned int nregions;
	bool tracking; /* gmem_dirty_start was called: kiln's own writes are recorded */
};

/*
 * Guest RAM is backed by transparent huge pages where the host has them, so its host start is
 * aligned to their size: KVM backs a guest's 2 MiB page with a host huge page only where the
 * guest-physical and host addresses agree in their low 21 bits (Documentation/virt/kvm/api.rst,
 * KVM_SET_USER_MEMORY_REGION).
 */
#define GMEM_HUGE_PAGE_SIZE MiB(2)

/*
 * Maps bytes (a multiple of the host page size) of anonymous, zeroed, unreserved memory for guest
 * RAM at a GMEM_HUGE_PAGE_SIZE-aligned host address. Returns 0 and *host, or -errno.
 */
int gmem_ram_map(uint64_t bytes, void **host) MUST_CHECK;
void gmem_ram_unmap(void *host, uint64_t bytes);

/* Adds a region; regions must not overlap. Returns 0, -ENOSPC or -EINVAL. */
int gmem_add_region(struct gmem *m, gpa_t gpa, void *host, uint64_t size) MUST_CHECK;

/* Host pointer to [gpa, gpa + len), or NULL unless it lies inside one region. len 0 is allowed. */
void *gmem_ptr(const struct gmem *m, gpa_t gpa, uint64_t len);

/* Copy between guest RAM and host buffers; 0, or -EFAULT when the range is not in one region. */
int gmem_read(const struct gmem *m, void *dst, gpa_t gpa, uint64_t len) MUST_CHECK;
int gmem_write(const struct gmem *m, gpa_t gpa, const void *src, uint64_t len) MUST_CHECK;

/* Total bytes of RAM in all regions. */
uint64_t gmem_total(const struct gmem *m);

/*
 * Dirty page tracking of kiln's own writes into guest RAM, which KVM's dirty log does not see (it
 * logs the vCPUs' writes only): gmem_write records its pages itself; whoever writes through a
 * gmem_ptr pointer calls gmem_mark_dirty. Without tracking, marking costs one test of a flag.
 */

/* Words of a dirty bitmap (64 pages each) that cover bytes of RAM. */
static inline uint64_t gmem_dirty_words(uint64_t bytes)
{
	uint64_t pages = bytes / GMEM_PAGE_SIZE + (bytes % GMEM_PAGE_SIZE != 0);

	return pages / 64 + (pages % 64 != 0);
}

/* Starts tracking, every region's bitmap clear. After the last gmem_add_region. 0 or -ENOMEM. */
int gmem_dirty_start(struct gmem *m) MUST_CHECK;
/* Stops tracking and frees the bitmaps. */
void gmem_dirty_stop(struct gmem *m);

/*
 * Records that kiln wrote [gpa, gpa + len), or will write it: every page it touches. A range not
 * inside one region is ignored (the callers checked it with gmem_ptr). Safe from any thread.
 */
void gmem_mark_dirty(const struct gmem *m, gpa_t gpa, uint64_t len);

/*
 * ORs region i's bitmap into bits (gmem_dirty_words(size) words) and clears it, each word in one
 * atomic exchange, so a page marked meanwhile is either taken now or stays for the next time.
 */
void gmem_dirty_take(const struct gmem *m, unsigned int i, uint64_t *bits);

/* ORs bits (as from gmem_dirty_take) back into region i's bitmap: a take that was not used. */
void gmem_dirty_give_back(const struct gmem *m, unsigned int i, const uint64_t *bits);

#endif
