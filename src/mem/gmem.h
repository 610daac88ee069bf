/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest RAM: a few regions of host memory, each mapped at a guest-physical address.
 * These functions are the only way into guest memory; each checks that the whole range
 * [gpa, gpa + len) lies inside one region, so no guest-supplied address or length can reach
 * host memory outside guest RAM.
 */
#ifndef KILN_MEM_GMEM_H
#define KILN_MEM_GMEM_H

#include <stdint.h>

#include "util.h"

#define GMEM_MAX_REGIONS 4

struct gmem_region {
	gpa_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct gmem {
	struct gmem_region regions[GMEM_MAX_REGIONS];
	unsigned int nregions;
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
 * RAM at a GMEM_HUGE_PAGE_SIZE-aligned host address, with huge pages past its first small_head
 * bytes (a multiple of GMEM_HUGE_PAGE_SIZE; small pages there). Returns 0 and *host, or -errno.
 */
int gmem_ram_map(uint64_t bytes, uint64_t small_head, void **host) MUST_CHECK;
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

#endif
