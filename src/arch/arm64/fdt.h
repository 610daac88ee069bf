/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arm64 machine's device tree (Devicetree Specification 0.4; Linux's
 * Documentation/devicetree/bindings), written with libfdt's sequential-write API. Pure C: no arm64
 * kernel header, so the unit tests build and check it on any host.
 */
#ifndef KILN_ARCH_ARM64_FDT_H
#define KILN_ARCH_ARM64_FDT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h" /* MUST_CHECK */

/* KVM's arm64 limit (KVM_MAX_VCPUS = VGIC_V3_MAX_CPUS); the host's own may be lower. */
#define ARM64_FDT_MAX_CPUS 512
/* GICv3 (IHI 0069): one redistributor per CPU, two 64 KiB frames each (RD_base and SGI_base). */
#define ARM64_FDT_GICR_STRIDE 0x20000u
/* SPIs are INTIDs 32-1019 (IHI 0069, INTIDs); the tree numbers them from 0 (arm,gic-v3 binding). */
#define ARM64_FDT_MAX_SPI 987u
/* The GIC's phandle, which the root's interrupt-parent names. */
#define ARM64_FDT_PHANDLE_GIC 1u

/* SPI numbers below are the binding's: INTID - 32. */
struct arm64_fdt_virtio { uint64_t base, size; uint32_t spi; };      /* one virtio-mmio device */
struct arm64_fdt_machine {
	uint64_t ram_base, ram_size;
	unsigned int ncpus;                     /* 1..ARM64_FDT_MAX_CPUS */
	uint64_t gicd_base, gicd_size;          /* GICv3 distributor */
	uint64_t gicr_base, gicr_size;          /* redistributors, all CPUs: ncpus * 128 KiB */
	uint64_t uart_base, uart_size; uint32_t uart_spi;   /* ns16550a, reg-shift 0, reg-io-width 1 */
	uint32_t uart_clock_hz;
	uint64_t debug_base, debug_size;        /* kiln's debug device (exit status, boot-ready) */
	const struct arm64_fdt_virtio *virtio; unsigned int nvirtio;
	const char *bootargs;                   /* may be NULL */
	uint64_t initrd_start, initrd_end;      /* both 0: no initrd properties */
};

/*
 * Writes the blob into buf (size bytes). 0, or -ENOSPC / -EINVAL with why filled in.
 * -EINVAL: a bad machine (CPU count, a zero-sized, wrapping, misaligned or overlapping region, an
 * SPI out of range or used twice, an initrd outside RAM). The blob's length is fdt_totalsize(buf).
 */
int arm64_fdt_build(const struct arm64_fdt_machine *m, void *buf, size_t size, char *why,
		    size_t why_len) MUST_CHECK;

#endif
