/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arm64 machine's device tree: the machine is checked first (every region, SPI and CPU count),
 * then written in one pass with libfdt's sequential-write API, whose first error sticks.
 */
#include "arch/arm64/fdt.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include <libfdt.h>

/* Interrupt specifiers, arm,gic-v3 binding: <type number flags>; flags as in
 * include/dt-bindings/interrupt-controller/irq.h. */
#define GIC_SPI 0u
#define GIC_PPI 1u
#define IRQ_EDGE_RISING 1u
#define IRQ_LEVEL_HIGH 4u
#define IRQ_LEVEL_LOW 8u
/* PPIs, numbered from INTID 16 as the binding does: the GIC's maintenance interrupt and the
 * architected timer's secure, non-secure, virtual and hypervisor interrupts (arm,arch_timer
 * binding's order), level-low as kvmtool gives them with GICv3 (QEMU's virt says level-high; Linux
 * 4.8 and later program the timer's PPIs as level-sensitive whatever the polarity says). */
#define PPI_GIC_MAINTENANCE 9u
#define PPI_TIMER_SEC 13u
#define PPI_TIMER_NS 14u
#define PPI_TIMER_VIRT 11u
#define PPI_TIMER_HYP 10u
/* KVM's GICv3 frames are 64 KiB and must be 64 KiB aligned (KVM_VGIC_V3_ADDR_TYPE_*). */
#define GIC_FRAME_ALIGN 0x10000u
/* Longest node name written: "kiln-debug@" + 16 hex digits. */
#define NODE_NAME_MAX 32

/* One MMIO or RAM range of the machine, for the overlap check; index: which virtio device, -1
 * for the others (one each). */
struct machine_region {
	const char *what;
	int index;
	uint64_t base, size;
};

/* The sequential writer, its first libfdt error kept (later calls then do nothing). */
struct tree_writer {
	void *fdt;
	int err;
};

/* --- checking the machine --------------------------------------------------------------------- */

static void region_name(const struct machine_region *r, char *buf, size_t len)
{
	if (r->index >= 0)
		snprintf(buf, len, "%s %d", r->what, r->index);
	else
		snprintf(buf, len, "%s", r->what);
}

/* The machine's regions: RAM, the GIC's, the uart, the debug device, then each virtio device. */
static unsigned int region_count(const struct arm64_fdt_machine *m)
{
	return 5 + m->nvirtio;
}

static struct machine_region region_at(const struct arm64_fdt_machine *m, unsigned int i)
{
	const struct machine_region fixed[] = {
		{ "RAM", -1, m->ram_base, m->ram_size },
		{ "the GIC distributor", -1, m->gicd_base, m->gicd_size },
		{ "the GIC redistributors", -1, m->gicr_base, m->gicr_size },
		{ "the uart", -1, m->uart_base, m->uart_size },
		{ "the debug device", -1, m->debug_base, m->debug_size },
	};
	unsigned int nfixed = region_count(m) - m->nvirtio;

	if (i < nfixed)
		return fixed[i];
	i -= nfixed;
	return (struct machine_region){ "virtio", (int)i, m->virtio[i].base, m->virtio[i].size };
}

/* Non-empty and not wrapping past 2^64. */
static int check_region(const struct machine_region *r, char *why, size_t why_len)
{
	char name[48];

	region_name(r, name, sizeof(name));
	if (r->size == 0)
		return fail_einval(why, why_len, "%s at %#" PRIx64 " has size 0", name, r->base);
	if (r->base + (r->size - 1) < r->base)
		return fail_einval(why, why_len, "%s at %#" PRIx64 " + %#" PRIx64 " wraps past 2^64",
				   name, r->base, r->size);
	return 0;
}

static int check_overlap(const struct machine_region *a, const struct machine_region *b,
			 char *why, size_t why_len)
{
	char na[48], nb[48];

	/* Both are non-empty and do not wrap (check_region): compare last bytes, not ends. */
	if (a->base > b->base + (b->size - 1) || b->base > a->base + (a->size - 1))
		return 0;
	region_name(a, na, sizeof(na));
	region_name(b, nb, sizeof(nb));
	return fail_einval(why, why_len, "%s [%#" PRIx64 ", +%#" PRIx64 ") overlaps %s [%#" PRIx64
			   ", +%#" PRIx64 ")", na, a->base, a->size, nb, b->base, b->size);
}

static int check_regions(const struct arm64_fdt_machine *m, char *why, size_t why_len)
{
	unsigned int n = region_count(m);
	int rc;

	for (unsigned int i = 0; i < n; i++) {
		struct machine_region r = region_at(m, i);

		rc = check_region(&r, why, why_len);
		if (rc < 0)
			return rc;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct machine_region a = region_at(m, i);

		for (unsigned int j = i + 1; j < n; j++) {
			struct machine_region b = region_at(m, j);

			rc = check_overlap(&a, &b, why, why_len);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int check_gic(const struct arm64_fdt_machine *m, char *why, size_t why_len)
{
	if (m->gicr_size != (uint64_t)m->ncpus * ARM64_FDT_GICR_STRIDE)
		return fail_einval(why, why_len, "GIC redistributors: size %#" PRIx64 " for %u CPUs, "
				   "not %u * 128 KiB", m->gicr_size, m->ncpus, m->ncpus);
	if (m->gicd_base % GIC_FRAME_ALIGN || m->gicr_base % GIC_FRAME_ALIGN)
		return fail_einval(why, why_len, "GIC frames at %#" PRIx64 ", %#" PRIx64
				   ": each must be 64 KiB aligned", m->gicd_base, m->gicr_base);
	return 0;
}

/* Each SPI in range and used once: the uart's and the virtio devices'. */
static int check_spis(const struct arm64_fdt_machine *m, char *why, size_t why_len)
{
	if (m->uart_spi > ARM64_FDT_MAX_SPI)
		return fail_einval(why, why_len, "uart SPI %u: SPIs are 0-%u", m->uart_spi,
				   ARM64_FDT_MAX_SPI);
	for (unsigned int i = 0; i < m->nvirtio; i++) {
		uint32_t spi = m->virtio[i].spi;

		if (spi > ARM64_FDT_MAX_SPI)
			return fail_einval(why, why_len, "virtio %u: SPI %u: SPIs are 0-%u", i, spi,
					   ARM64_FDT_MAX_SPI);
		if (spi == m->uart_spi)
			return fail_einval(why, why_len, "virtio %u: SPI %u is the uart's", i, spi);
		for (unsigned int j = 0; j < i; j++) {
			if (m->virtio[j].spi == spi)
				return fail_einval(why, why_len, "virtio %u: SPI %u is virtio %u's", i,
						   spi, j);
		}
	}
	return 0;
}

static int check_initrd(const struct arm64_fdt_machine *m, char *why, size_t why_len)
{
	uint64_t ram_last = m->ram_base + (m->ram_size - 1); /* check_regions: no wrap */

	if (m->initrd_start == 0 && m->initrd_end == 0)
		return 0;
	if (m->initrd_end <= m->initrd_start)
		return fail_einval(why, why_len, "initrd [%#" PRIx64 ", %#" PRIx64 "): its end is not "
				   "after its start", m->initrd_start, m->initrd_end);
	if (m->initrd_start < m->ram_base || m->initrd_end - 1 > ram_last)
		return fail_einval(why, why_len, "initrd [%#" PRIx64 ", %#" PRIx64 ") is not inside RAM "
				   "[%#" PRIx64 ", +%#" PRIx64 ")", m->initrd_start, m->initrd_end,
				   m->ram_base, m->ram_size);
	return 0;
}

static int check_machine(const struct arm64_fdt_machine *m, char *why, size_t why_len)
{
	int rc;

	if (m->ncpus == 0 || m->ncpus > ARM64_FDT_MAX_CPUS)
		return fail_einval(why, why_len, "%u CPUs: 1 to %u", m->ncpus, ARM64_FDT_MAX_CPUS);
	if (m->nvirtio > 0 && m->virtio == NULL)
		return fail_einval(why, why_len, "%u virtio devices but no array of them", m->nvirtio);
	/* Each has its own SPI: this also bounds the overlap check's table. */
	if (m->nvirtio > ARM64_FDT_MAX_SPI)
		return fail_einval(why, why_len, "%u virtio devices: at most %u (one SPI each, and one "
				   "for the uart)", m->nvirtio, ARM64_FDT_MAX_SPI);
	if (m->uart_clock_hz == 0)
		return fail_einval(why, why_len, "uart clock-frequency 0");
	rc = check_gic(m, why, why_len);
	if (rc == 0)
		rc = check_regions(m, why, why_len);
	if (rc == 0)
		rc = check_spis(m, why, why_len);
	if (rc == 0)
		rc = check_initrd(m, why, why_len);
	return rc;
}

/* --- writing ---------------------------------------------------------------------------------- */

static void w_begin(struct tree_writer *w, const char *name)
{
	if (w->err == 0)
		w->err = fdt_begin_node(w->fdt, name);
}

/* A node named name@addr: the unit address is the first reg address in hex (DT spec §2.2.1). */
static void w_begin_at(struct tree_writer *w, const char *name, uint64_t addr)
{
	char node[NODE_NAME_MAX];

	snprintf(node, sizeof(node), "%s@%" PRIx64, name, addr);
	w_begin(w, node);
}

static void w_end(struct tree_writer *w)
{
	if (w->err == 0)
		w->err = fdt_end_node(w->fdt);
}

static void w_prop(struct tree_writer *w, const char *name, const void *val, int len)
{
	if (w->err == 0)
		w->err = fdt_property(w->fdt, name, val, len);
}

static void w_empty(struct tree_writer *w, const char *name)
{
	w_prop(w, name, NULL, 0);
}

static void w_string(struct tree_writer *w, const char *name, const char *s)
{
	if (w->err == 0)
		w->err = fdt_property_string(w->fdt, name, s);
}

static void w_u32(struct tree_writer *w, const char *name, uint32_t v)
{
	if (w->err == 0)
		w->err = fdt_property_u32(w->fdt, name, v);
}

static void w_u64(struct tree_writer *w, const char *name, uint64_t v)
{
	if (w->err == 0)
		w->err = fdt_property_u64(w->fdt, name, v);
}

/* reg of one or two (address, size) pairs, 2 cells each (the root's #address-cells/#size-cells). */
static void w_reg(struct tree_writer *w, const uint64_t *pairs, unsigned int npairs)
{
	fdt64_t cells[4];

	assert(2 * npairs <= ARRAY_SIZE(cells));
	for (unsigned int i = 0; i < 2 * npairs; i++)
		cells[i] = cpu_to_fdt64(pairs[i]);
	w_prop(w, "reg", cells, (int)(2 * npairs * sizeof(cells[0])));
}

static void w_reg1(struct tree_writer *w, uint64_t base, uint64_t size)
{
	const uint64_t pair[2] = { base, size };

	w_reg(w, pair, 1);
}

/* interrupts: n specifiers of 3 cells (the GIC's #interrupt-cells). */
static void w_irqs(struct tree_writer *w, const uint32_t *spec, unsigned int n)
{
	fdt32_t cells[12];

	assert(3 * n <= ARRAY_SIZE(cells));
	for (unsigned int i = 0; i < 3 * n; i++)
		cells[i] = cpu_to_fdt32(spec[i]);
	w_prop(w, "interrupts", cells, (int)(3 * n * sizeof(cells[0])));
}

/* --- the nodes -------------------------------------------------------------------------------- */

/*
 * The MPIDR affinity KVM gives vCPU n (arch/arm64/kvm/sys_regs.c, reset_mpidr): Aff0 takes only the
 * low 4 bits, as GICv3's ICC_SGI1R_EL1 addresses 16 CPUs per Aff0 group, Aff1 the next 8, Aff2 the
 * 8 after. A cpu node's reg is the MPIDR's affinity fields (arm/cpus.yaml).
 */
static uint32_t cpu_mpidr(unsigned int n)
{
	return (n & 0xfu) | ((n >> 4) & 0xffu) << 8 | ((n >> 12) & 0xffu) << 16;
}

static void write_chosen(struct tree_writer *w, const struct arm64_fdt_machine *m)
{
	char uart_path[NODE_NAME_MAX + 1];

	snprintf(uart_path, sizeof(uart_path), "/uart@%" PRIx64, m->uart_base);
	w_begin(w, "chosen");
	if (m->bootargs != NULL)
		w_string(w, "bootargs", m->bootargs);
	w_string(w, "stdout-path", uart_path);
	/* chosen.yaml: 32 or 64 bits; 64 holds any address. */
	if (m->initrd_end != 0) {
		w_u64(w, "linux,initrd-start", m->initrd_start);
		w_u64(w, "linux,initrd-end", m->initrd_end);
	}
	w_end(w);
}

static void write_cpus(struct tree_writer *w, const struct arm64_fdt_machine *m)
{
	w_begin(w, "cpus");
	w_u32(w, "#address-cells", 1); /* Aff2..Aff0: Aff3 stays 0 below 2^20 vCPUs */
	w_u32(w, "#size-cells", 0);
	for (unsigned int n = 0; n < m->ncpus; n++) {
		uint32_t mpidr = cpu_mpidr(n);

		w_begin_at(w, "cpu", mpidr);
		w_string(w, "device_type", "cpu");
		w_string(w, "compatible", "arm,arm-v8");
		w_u32(w, "reg", mpidr);
		w_string(w, "enable-method", "psci");
		w_end(w);
	}
	w_end(w);
}

/* arm,gic-v3 binding: reg is the distributor then one redistributor region. */
static void write_gic(struct tree_writer *w, const struct arm64_fdt_machine *m)
{
	const uint64_t reg[4] = { m->gicd_base, m->gicd_size, m->gicr_base, m->gicr_size };
	const uint32_t maintenance[3] = { GIC_PPI, PPI_GIC_MAINTENANCE, IRQ_LEVEL_HIGH };

	w_begin_at(w, "intc", m->gicd_base);
	w_string(w, "compatible", "arm,gic-v3");
	w_u32(w, "#interrupt-cells", 3);
	w_empty(w, "interrupt-controller");
	w_reg(w, reg, 2);
	w_irqs(w, maintenance, 1);
	w_u32(w, "phandle", ARM64_FDT_PHANDLE_GIC);
	/* An interrupt provider's #address-cells is what an interrupt-map naming it gives as its
	 * unit address (DT spec §2.4.3.1; dtc warns without it). */
	w_u32(w, "#address-cells", 2);
	w_u32(w, "#size-cells", 2);
	w_end(w);
}

static void write_timer(struct tree_writer *w)
{
	const uint32_t irqs[12] = {
		GIC_PPI, PPI_TIMER_SEC, IRQ_LEVEL_LOW, GIC_PPI, PPI_TIMER_NS, IRQ_LEVEL_LOW,
		GIC_PPI, PPI_TIMER_VIRT, IRQ_LEVEL_LOW, GIC_PPI, PPI_TIMER_HYP, IRQ_LEVEL_LOW,
	};

	w_begin(w, "timer");
	w_string(w, "compatible", "arm,armv8-timer");
	w_irqs(w, irqs, 4);
	w_empty(w, "always-on"); /* the timer keeps counting in every power state KVM gives */
	w_end(w);
}

/* ns16550a with clock-frequency (8250.yaml): reg-shift 0 and reg-io-width 1 are the defaults. */
static void write_uart(struct tree_writer *w, const struct arm64_fdt_machine *m)
{
	const uint32_t irq[3] = { GIC_SPI, m->uart_spi, IRQ_LEVEL_HIGH };

	w_begin_at(w, "uart", m->uart_base);
	w_string(w, "compatible", "ns16550a");
	w_reg1(w, m->uart_base, m->uart_size);
	w_u32(w, "clock-frequency", m->uart_clock_hz);
	w_irqs(w, irq, 1);
	w_end(w);
}

/* virtio-mmio.yaml; the transport raises its interrupt on each used-buffer or config change. */
static void write_virtio(struct tree_writer *w, const struct arm64_fdt_virtio *v)
{
	const uint32_t irq[3] = { GIC_SPI, v->spi, IRQ_EDGE_RISING };

	w_begin_at(w, "virtio_mmio", v->base);
	w_string(w, "compatible", "virtio,mmio");
	w_reg1(w, v->base, v->size);
	w_irqs(w, irq, 1);
	w_empty(w, "dma-coherent"); /* guest RAM is ordinary memory to kiln: no cache maintenance */
	w_end(w);
}

static void write_tree(struct tree_writer *w, const struct arm64_fdt_machine *m)
{
	w->err = fdt_finish_reservemap(w->fdt);
	w_begin(w, "");
	w_string(w, "compatible", "linux,dummy-virt");
	w_u32(w, "#address-cells", 2);
	w_u32(w, "#size-cells", 2);
	w_u32(w, "interrupt-parent", ARM64_FDT_PHANDLE_GIC);
	write_chosen(w, m);
	w_begin_at(w, "memory", m->ram_base);
	w_string(w, "device_type", "memory");
	w_reg1(w, m->ram_base, m->ram_size);
	w_end(w);
	write_cpus(w, m);
	w_begin(w, "psci");
	w_string(w, "compatible", "arm,psci-0.2");
	w_string(w, "method", "hvc");
	w_end(w);
	write_gic(w, m);
	write_timer(w);
	write_uart(w, m);
	/* kiln's guest init finds it as /proc/device-tree/kiln-debug@ADDR */
	w_begin_at(w, "kiln-debug", m->debug_base);
	w_string(w, "compatible", "kiln,debug-port");
	w_reg1(w, m->debug_base, m->debug_size);
	w_end(w);
	for (unsigned int i = 0; i < m->nvirtio; i++)
		write_virtio(w, &m->virtio[i]);
	w_end(w);
	if (w->err == 0)
		w->err = fdt_finish(w->fdt);
}

int arm64_fdt_build(const struct arm64_fdt_machine *m, void *buf, size_t size, char *why,
		    size_t why_len)
{
	struct tree_writer w = { .fdt = buf };
	int rc;

	if (m == NULL || buf == NULL)
		return fail_einval(why, why_len, "no machine or no buffer");
	rc = check_machine(m, why, why_len);
	if (rc < 0)
		return rc;
	/* libfdt sizes are ints; a tree is far below 2 GiB (Linux maps at most 2 MiB of it). */
	w.err = fdt_create(buf, size > INT_MAX ? INT_MAX : (int)size);
	if (w.err == 0)
		write_tree(&w, m);
	if (w.err == -FDT_ERR_NOSPACE)
		return fail_with(why, why_len, -ENOSPC, "the device tree does not fit in %zu bytes",
				 size);
	if (w.err < 0)
		return fail_einval(why, why_len, "libfdt: %s", fdt_strerror(w.err));
	return 0;
}
