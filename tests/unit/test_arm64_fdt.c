// SPDX-License-Identifier: Apache-2.0
/*
 * The arm64 device tree (arch/arm64/fdt.c): a machine with every device is accepted by libfdt's
 * fdt_check_full, decompiled by dtc (device-tree-compiler), which must not warn, and checked node
 * by node against the text the bindings call for; then read back through libfdt. Every bad machine
 * is refused with its reason and nothing written; a small buffer gives -ENOSPC.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "arch/arm64/fdt.h"
#include "support/scratch.h"

#define BUF_SIZE (128 * 1024)
#define FILL 0xa5

/* A machine laid out as kiln's arm64 board might be: devices below 1 GiB, RAM from 1 GiB. */
struct test_machine {
	struct arm64_fdt_machine m;
	struct arm64_fdt_virtio v[3];
};

static void full_machine(struct test_machine *t)
{
	for (unsigned int i = 0; i < 3; i++)
		t->v[i] = (struct arm64_fdt_virtio){ 0xa000000 + 0x200 * i, 0x200, 16 + i };
	t->m = (struct arm64_fdt_machine){
		.ram_base = 0x40000000, .ram_size = 0x10000000, .ncpus = 4,
		.gicd_base = 0x8000000, .gicd_size = 0x10000,
		.gicr_base = 0x80a0000, .gicr_size = 4 * 0x20000,
		.uart_base = 0x9000000, .uart_size = 0x1000, .uart_spi = 1, .uart_clock_hz = 1843200,
		.debug_base = 0x9010000, .debug_size = 0x1000,
		.virtio = t->v, .nvirtio = 3,
		.bootargs = "console=ttyS0 kiln.run=true",
		.initrd_start = 0x48000000, .initrd_end = 0x48123456,
	};
}

/* One CPU, no virtio device, no initrd, no bootargs. */
static void minimal_machine(struct test_machine *t)
{
	full_machine(t);
	t->m.ncpus = 1;
	t->m.gicr_size = 0x20000;
	t->m.virtio = NULL;
	t->m.nvirtio = 0;
	t->m.bootargs = NULL;
	t->m.initrd_start = t->m.initrd_end = 0;
}

static void *build_ok(const struct arm64_fdt_machine *m)
{
	void *buf = malloc(BUF_SIZE);
	char why[256] = "";

	assert_non_null(buf);
	memset(buf, FILL, BUF_SIZE);
	if (arm64_fdt_build(m, buf, BUF_SIZE, why, sizeof(why)) != 0)
		fail_msg("arm64_fdt_build: %s", why);
	assert_int_equal(fdt_check_full(buf, BUF_SIZE), 0);
	assert_true(fdt_totalsize(buf) <= BUF_SIZE);
	return buf;
}

/* --- dtc -------------------------------------------------------------------------------------- */

/* dtc is in TEST_PKGS (mk/deps.mk); without it the text checks cannot run: skip, loudly. */
static void require_dtc(void)
{
	if (system("command -v dtc > /dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: dtc not found: install Debian's device-tree-compiler (make check "
			"does) to check the device tree's text\n");
		skip();
	}
}

/* The blob decompiled by dtc -I dtb -O dts, which must neither fail nor warn. */
static char *decompile(const void *fdt)
{
	char cmd[512];
	char *log, *dts;
	FILE *f;
	int rc;

	require_dtc();
	assert_int_equal(scratch_make_dir("arm64-fdt"), 0);
	f = fopen(scratch_path("tree.dtb"), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(fdt, 1, fdt_totalsize(fdt), f), fdt_totalsize(fdt));
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "cd '%s' && dtc -I dtb -O dts -o tree.dts tree.dtb 2> dtc.log",
		 scratch_dir);
	rc = system(cmd);
	log = scratch_read_text(scratch_path("dtc.log"));
	if (rc != 0 || log[0] != '\0')
		fail_msg("dtc -I dtb -O dts (exit %d) says:\n%s", rc, log);
	free(log);
	dts = scratch_read_text(scratch_path("tree.dts"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
	assert_int_equal(system(cmd), 0);
	return dts;
}

/* The text of the node whose header line is head (with its tabs), to its closing "};". */
static char *dts_node(const char *dts, const char *head)
{
	char start[128], close[32];
	const char *b, *e;
	int depth = (int)strspn(head, "\t");
	char *node;

	snprintf(start, sizeof(start), "\n%s {\n", head);
	snprintf(close, sizeof(close), "\n%.*s};\n", depth, "\t\t\t\t\t\t\t\t");
	b = strstr(dts, start);
	if (b == NULL)
		fail_msg("no node \"%s\" in:\n%s", head, dts);
	e = strstr(b + 1, close);
	assert_non_null(e);
	node = strndup(b + 1, (size_t)(e + strlen(close) - (b + 1)));
	assert_non_null(node);
	return node;
}

static void expect_node(const char *dts, const char *head, const char *want)
{
	char *got = dts_node(dts, head);

	if (strcmp(got, want) != 0)
		fail_msg("node %s:\n%s\nwant:\n%s", head, got, want);
	free(got);
}

/* Lines "\tNAME {": the root's child nodes. */
static unsigned int top_level_nodes(const char *dts)
{
	unsigned int n = 0;

	for (const char *p = strstr(dts, "\n\t"); p != NULL; p = strstr(p + 1, "\n\t")) {
		const char *eol = strchr(p + 1, '\n');

		if (p[2] != '\t' && eol != NULL && eol - p > 2 && eol[-1] == '{')
			n++;
	}
	return n;
}

static const char want_root[] =
	"/ {\n"
	"\tcompatible = \"linux,dummy-virt\";\n"
	"\t#address-cells = <0x02>;\n"
	"\t#size-cells = <0x02>;\n"
	"\tinterrupt-parent = <0x01>;\n"
	"\n";

static const char want_chosen[] =
	"\tchosen {\n"
	"\t\tbootargs = \"console=ttyS0 kiln.run=true\";\n"
	"\t\tstdout-path = \"/uart@9000000\";\n"
	"\t\tlinux,initrd-start = <0x00 0x48000000>;\n"
	"\t\tlinux,initrd-end = <0x00 0x48123456>;\n"
	"\t};\n";

static const char want_memory[] =
	"\tmemory@40000000 {\n"
	"\t\tdevice_type = \"memory\";\n"
	"\t\treg = <0x00 0x40000000 0x00 0x10000000>;\n"
	"\t};\n";

#define WANT_CPU(unit, reg) \
	"\t\tcpu@" unit " {\n" \
	"\t\t\tdevice_type = \"cpu\";\n" \
	"\t\t\tcompatible = \"arm,arm-v8\";\n" \
	"\t\t\treg = <" reg ">;\n" \
	"\t\t\tenable-method = \"psci\";\n" \
	"\t\t};\n"

static const char want_cpus[] =
	"\tcpus {\n"
	"\t\t#address-cells = <0x01>;\n"
	"\t\t#size-cells = <0x00>;\n"
	"\n" WANT_CPU("0", "0x00") "\n" WANT_CPU("1", "0x01") "\n" WANT_CPU("2", "0x02") "\n"
	WANT_CPU("3", "0x03")
	"\t};\n";

static const char want_psci[] =
	"\tpsci {\n"
	"\t\tcompatible = \"arm,psci-0.2\";\n"
	"\t\tmethod = \"hvc\";\n"
	"\t};\n";

/* reg: the distributor, then 4 redistributors of 128 KiB; the maintenance interrupt PPI 9. */
static const char want_intc[] =
	"\tintc@8000000 {\n"
	"\t\tcompatible = \"arm,gic-v3\";\n"
	"\t\t#interrupt-cells = <0x03>;\n"
	"\t\tinterrupt-controller;\n"
	"\t\treg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x80000>;\n"
	"\t\tinterrupts = <0x01 0x09 0x04>;\n"
	"\t\tphandle = <0x01>;\n"
	"\t\t#address-cells = <0x02>;\n"
	"\t\t#size-cells = <0x02>;\n"
	"\t};\n";

/* PPIs 13, 14, 11, 10 (secure, non-secure, virtual, hypervisor), level-low (8). */
static const char want_timer[] =
	"\ttimer {\n"
	"\t\tcompatible = \"arm,armv8-timer\";\n"
	"\t\tinterrupts = <0x01 0x0d 0x08 0x01 0x0e 0x08 0x01 0x0b 0x08 0x01 0x0a 0x08>;\n"
	"\t\talways-on;\n"
	"\t};\n";

/* 1843200 Hz = 0x1c2000; SPI 1, level-high. */
static const char want_uart[] =
	"\tuart@9000000 {\n"
	"\t\tcompatible = \"ns16550a\";\n"
	"\t\treg = <0x00 0x9000000 0x00 0x1000>;\n"
	"\t\tclock-frequency = <0x1c2000>;\n"
	"\t\tinterrupts = <0x00 0x01 0x04>;\n"
	"\t};\n";

static const char want_debug[] =
	"\tkiln-debug@9010000 {\n"
	"\t\tcompatible = \"kiln,debug-port\";\n"
	"\t\treg = <0x00 0x9010000 0x00 0x1000>;\n"
	"\t};\n";

/* SPIs 16, 17, 18, edge-rising. */
#define WANT_VIRTIO(unit, spi) \
	"\tvirtio_mmio@" unit " {\n" \
	"\t\tcompatible = \"virtio,mmio\";\n" \
	"\t\treg = <0x00 0x" unit " 0x00 0x200>;\n" \
	"\t\tinterrupts = <0x00 " spi " 0x01>;\n" \
	"\t\tdma-coherent;\n" \
	"\t};\n"

static void test_full_machine_dtc(void **state)
{
	struct test_machine t;
	void *fdt;
	char *dts;

	(void)state;
	full_machine(&t);
	fdt = build_ok(&t.m);
	dts = decompile(fdt);

	assert_non_null(strstr(dts, want_root));
	expect_node(dts, "\tchosen", want_chosen);
	expect_node(dts, "\tmemory@40000000", want_memory);
	expect_node(dts, "\tcpus", want_cpus);
	expect_node(dts, "\tpsci", want_psci);
	expect_node(dts, "\tintc@8000000", want_intc);
	expect_node(dts, "\ttimer", want_timer);
	expect_node(dts, "\tuart@9000000", want_uart);
	expect_node(dts, "\tkiln-debug@9010000", want_debug);
	expect_node(dts, "\tvirtio_mmio@a000000", WANT_VIRTIO("a000000", "0x10"));
	expect_node(dts, "\tvirtio_mmio@a000200", WANT_VIRTIO("a000200", "0x11"));
	expect_node(dts, "\tvirtio_mmio@a000400", WANT_VIRTIO("a000400", "0x12"));
	/* and nothing else: chosen, memory, cpus, psci, intc, timer, uart, debug, 3 virtio */
	assert_int_equal(top_level_nodes(dts), 11);
	free(dts);
	free(fdt);
}

/* --- libfdt reads ----------------------------------------------------------------------------- */

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	if (off < 0)
		fail_msg("%s: %s", path, fdt_strerror(off));
	return off;
}

static const void *prop(const void *fdt, const char *path, const char *name, int want_len)
{
	int len = -1;
	const void *p = fdt_getprop(fdt, node(fdt, path), name, &len);

	if (p == NULL)
		fail_msg("%s: no %s", path, name);
	assert_int_equal(len, want_len);
	return p;
}

static uint32_t prop_u32(const void *fdt, const char *path, const char *name)
{
	return fdt32_ld(prop(fdt, path, name, 4));
}

static uint64_t prop_u64(const void *fdt, const char *path, const char *name)
{
	return fdt64_ld(prop(fdt, path, name, 8)); /* values are only 4-byte aligned */
}

static void expect_str_prop(const void *fdt, const char *path, const char *name, const char *want)
{
	assert_string_equal(prop(fdt, path, name, (int)strlen(want) + 1), want);
}

static void expect_no_prop(const void *fdt, const char *path, const char *name)
{
	int len;

	assert_null(fdt_getprop(fdt, node(fdt, path), name, &len));
	assert_int_equal(len, -FDT_ERR_NOTFOUND);
}

/* reg of one (address, size) pair of 2 cells each. */
static void expect_reg(const void *fdt, const char *path, uint64_t base, uint64_t size)
{
	const fdt64_t *reg = prop(fdt, path, "reg", 16);

	assert_int_equal(fdt64_ld(&reg[0]), base);
	assert_int_equal(fdt64_ld(&reg[1]), size);
}

static void expect_spi(const void *fdt, const char *path, uint32_t spi, uint32_t flags)
{
	const fdt32_t *irq = prop(fdt, path, "interrupts", 12);

	assert_int_equal(fdt32_ld(&irq[0]), 0); /* GIC_SPI */
	assert_int_equal(fdt32_ld(&irq[1]), spi);
	assert_int_equal(fdt32_ld(&irq[2]), flags);
}

static void test_full_machine_libfdt(void **state)
{
	struct test_machine t;
	const char *stdout_path;
	unsigned int nvirtio = 0;
	void *fdt;
	int off;

	(void)state;
	full_machine(&t);
	fdt = build_ok(&t.m);

	expect_str_prop(fdt, "/", "compatible", "linux,dummy-virt");
	/* interrupt-parent is the GIC's phandle */
	assert_int_equal(fdt_node_offset_by_phandle(fdt, prop_u32(fdt, "/", "interrupt-parent")),
			 node(fdt, "/intc@8000000"));
	assert_int_equal(fdt_node_check_compatible(fdt, node(fdt, "/intc@8000000"), "arm,gic-v3"), 0);
	assert_int_equal(prop_u32(fdt, "/intc@8000000", "#interrupt-cells"), 3);
	/* no ITS: virtio-mmio raises wired SPIs, nothing sends MSIs */
	assert_int_equal(fdt_first_subnode(fdt, node(fdt, "/intc@8000000")), -FDT_ERR_NOTFOUND);
	expect_reg(fdt, "/memory@40000000", 0x40000000, 0x10000000);
	for (unsigned int n = 0; n < 4; n++) {
		char path[32];

		snprintf(path, sizeof(path), "/cpus/cpu@%x", n);
		assert_int_equal(prop_u32(fdt, path, "reg"), n);
		expect_str_prop(fdt, path, "enable-method", "psci");
	}
	expect_str_prop(fdt, "/psci", "method", "hvc");

	expect_str_prop(fdt, "/chosen", "bootargs", "console=ttyS0 kiln.run=true");
	assert_int_equal(prop_u64(fdt, "/chosen", "linux,initrd-start"), 0x48000000);
	assert_int_equal(prop_u64(fdt, "/chosen", "linux,initrd-end"), 0x48123456);
	/* stdout-path leads to the uart */
	stdout_path = fdt_getprop(fdt, node(fdt, "/chosen"), "stdout-path", NULL);
	assert_non_null(stdout_path);
	assert_int_equal(fdt_node_check_compatible(fdt, node(fdt, stdout_path), "ns16550a"), 0);
	expect_reg(fdt, stdout_path, 0x9000000, 0x1000);
	expect_spi(fdt, stdout_path, 1, 4);
	assert_int_equal(prop_u32(fdt, stdout_path, "clock-frequency"), 1843200);

	/* the guest init's lookup: by node name */
	expect_str_prop(fdt, "/kiln-debug@9010000", "compatible", "kiln,debug-port");
	expect_reg(fdt, "/kiln-debug@9010000", 0x9010000, 0x1000);

	for (off = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"); off >= 0;
	     off = fdt_node_offset_by_compatible(fdt, off, "virtio,mmio")) {
		char path[64];

		assert_int_equal(fdt_get_path(fdt, off, path, sizeof(path)), 0);
		expect_reg(fdt, path, t.v[nvirtio].base, 0x200);
		expect_spi(fdt, path, 16 + nvirtio, 1);
		prop(fdt, path, "dma-coherent", 0);
		nvirtio++;
	}
	assert_int_equal(off, -FDT_ERR_NOTFOUND);
	assert_int_equal(nvirtio, 3);
	free(fdt);
}

/* Without an initrd, bootargs or virtio device: none of their properties or nodes. */
static void test_minimal_machine(void **state)
{
	struct test_machine t;
	void *fdt;
	char *dts;

	(void)state;
	minimal_machine(&t);
	fdt = build_ok(&t.m);
	expect_no_prop(fdt, "/chosen", "bootargs");
	expect_no_prop(fdt, "/chosen", "linux,initrd-start");
	expect_no_prop(fdt, "/chosen", "linux,initrd-end");
	expect_no_prop(fdt, "/intc@8000000", "ranges");
	assert_int_equal(fdt_first_subnode(fdt, node(fdt, "/intc@8000000")), -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"), -FDT_ERR_NOTFOUND);

	dts = decompile(fdt);
	expect_node(dts, "\tchosen", "\tchosen {\n\t\tstdout-path = \"/uart@9000000\";\n\t};\n");
	expect_node(dts, "\tcpus", "\tcpus {\n\t\t#address-cells = <0x01>;\n\t\t#size-cells = <0x00>;\n"
		    "\n" WANT_CPU("0", "0x00") "\t};\n");
	expect_node(dts, "\tintc@8000000",
		    "\tintc@8000000 {\n"
		    "\t\tcompatible = \"arm,gic-v3\";\n"
		    "\t\t#interrupt-cells = <0x03>;\n"
		    "\t\tinterrupt-controller;\n"
		    "\t\treg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x20000>;\n"
		    "\t\tinterrupts = <0x01 0x09 0x04>;\n"
		    "\t\tphandle = <0x01>;\n"
		    "\t\t#address-cells = <0x02>;\n"
		    "\t\t#size-cells = <0x02>;\n"
		    "\t};\n");
	assert_int_equal(top_level_nodes(dts), 8);
	free(dts);
	free(fdt);
}

/* KVM's MPIDR for vCPU n: Aff0 = n % 16, Aff1 = n / 16 (below 4096). */
static void test_cpu_affinity(void **state)
{
	static const struct { unsigned int ncpus; const char *path; uint32_t reg; } cases[] = {
		{ 20, "/cpus/cpu@f", 0xf },
		{ 20, "/cpus/cpu@100", 0x100 },  /* vCPU 16 */
		{ 20, "/cpus/cpu@103", 0x103 },  /* vCPU 19 */
		{ ARM64_FDT_MAX_CPUS, "/cpus/cpu@1f0f", 0x1f0f }, /* vCPU 511 */
	};
	struct test_machine t;

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		void *fdt;
		int cpus, n = 0;

		full_machine(&t);
		t.m.ncpus = cases[i].ncpus;
		/* the redistributors of 512 CPUs take 64 MiB: below RAM, above the other devices */
		t.m.gicr_base = 0x10000000;
		t.m.gicr_size = (uint64_t)cases[i].ncpus * 0x20000;
		fdt = build_ok(&t.m);
		assert_int_equal(prop_u32(fdt, cases[i].path, "reg"), cases[i].reg);
		assert_int_equal(fdt_path_offset(fdt, "/cpus/cpu@10"), -FDT_ERR_NOTFOUND);
		cpus = node(fdt, "/cpus");
		for (int off = fdt_first_subnode(fdt, cpus); off >= 0; off = fdt_next_subnode(fdt, off))
			n++;
		assert_int_equal(n, (int)cases[i].ncpus);
		free(fdt);
	}
}

/* --- bad machines ----------------------------------------------------------------------------- */

static void bad_cpus_0(struct test_machine *t) { t->m.ncpus = 0; }
static void bad_cpus_max(struct test_machine *t)
{
	t->m.ncpus = ARM64_FDT_MAX_CPUS + 1;
	t->m.gicr_size = (uint64_t)t->m.ncpus * 0x20000;
}
static void bad_ram_size_0(struct test_machine *t) { t->m.ram_size = 0; }
static void bad_gicd_size_0(struct test_machine *t) { t->m.gicd_size = 0; }
static void bad_uart_size_0(struct test_machine *t) { t->m.uart_size = 0; }
static void bad_debug_size_0(struct test_machine *t) { t->m.debug_size = 0; }
static void bad_virtio_size_0(struct test_machine *t) { t->v[2].size = 0; }
static void bad_gicr_size(struct test_machine *t) { t->m.gicr_size = 3 * 0x20000; }
static void bad_gicd_align(struct test_machine *t) { t->m.gicd_base += 0x1000; }
static void bad_wraps(struct test_machine *t)
{
	t->m.debug_base = 0xfffffffffffff000ull;
	t->m.debug_size = 0x2000;
}
static void bad_uart_on_debug(struct test_machine *t) { t->m.uart_base = t->m.debug_base + 0xff8; }
static void bad_virtio_on_virtio(struct test_machine *t) { t->v[2].base = t->v[1].base + 0x1ff; }
static void bad_virtio_in_ram(struct test_machine *t) { t->v[0].base = 0x4ffff000; }
static void bad_gicr_on_gicd(struct test_machine *t) { t->m.gicr_base = t->m.gicd_base; }
static void bad_uart_spi(struct test_machine *t) { t->m.uart_spi = ARM64_FDT_MAX_SPI + 1; }
static void bad_virtio_spi(struct test_machine *t) { t->v[1].spi = 1000; }
static void bad_spi_twice(struct test_machine *t) { t->v[2].spi = t->v[0].spi; }
static void bad_spi_uart(struct test_machine *t) { t->v[1].spi = t->m.uart_spi; }
static void bad_uart_clock(struct test_machine *t) { t->m.uart_clock_hz = 0; }
static void bad_virtio_null(struct test_machine *t) { t->m.virtio = NULL; }
static void bad_initrd_backwards(struct test_machine *t) { t->m.initrd_end -= 0x123457; }
static void bad_initrd_empty(struct test_machine *t) { t->m.initrd_end = t->m.initrd_start; }
static void bad_initrd_no_start(struct test_machine *t) { t->m.initrd_start = 0; }
static void bad_initrd_past_ram(struct test_machine *t) { t->m.initrd_end = 0x50000001; }
static void bad_initrd_below_ram(struct test_machine *t) { t->m.initrd_start = 0x3ffff000; }

static void test_bad_machines(void **state)
{
	static const struct {
		void (*bad)(struct test_machine *);
		const char *why;
	} cases[] = {
		{ bad_cpus_0, "0 CPUs: 1 to 512" },
		{ bad_cpus_max, "513 CPUs: 1 to 512" },
		{ bad_ram_size_0, "RAM at 0x40000000 has size 0" },
		{ bad_gicd_size_0, "the GIC distributor at 0x8000000 has size 0" },
		{ bad_uart_size_0, "the uart at 0x9000000 has size 0" },
		{ bad_debug_size_0, "the debug device at 0x9010000 has size 0" },
		{ bad_virtio_size_0, "virtio 2 at 0xa000400 has size 0" },
		{ bad_gicr_size, "GIC redistributors: size 0x60000 for 4 CPUs" },
		{ bad_gicd_align, "each must be 64 KiB aligned" },
		{ bad_wraps, "the debug device at 0xfffffffffffff000 + 0x2000 wraps past 2^64" },
		{ bad_uart_on_debug, "the uart [0x9010ff8, +0x1000) overlaps the debug device" },
		{ bad_virtio_on_virtio, "virtio 1 [0xa000200, +0x200) overlaps virtio 2 [0xa0003ff" },
		{ bad_virtio_in_ram, "RAM [0x40000000, +0x10000000) overlaps virtio 0 [0x4ffff000" },
		{ bad_gicr_on_gicd, "the GIC distributor [0x8000000, +0x10000) overlaps the GIC redistributors" },
		{ bad_uart_spi, "uart SPI 988: SPIs are 0-987" },
		{ bad_virtio_spi, "virtio 1: SPI 1000: SPIs are 0-987" },
		{ bad_spi_twice, "virtio 2: SPI 16 is virtio 0's" },
		{ bad_spi_uart, "virtio 1: SPI 1 is the uart's" },
		{ bad_uart_clock, "uart clock-frequency 0" },
		{ bad_virtio_null, "3 virtio devices but no array" },
		{ bad_initrd_backwards, "its end is not after its start" },
		{ bad_initrd_empty, "its end is not after its start" },
		{ bad_initrd_no_start, "initrd [0, 0x48123456) is not inside RAM" },
		{ bad_initrd_past_ram, "initrd [0x48000000, 0x50000001) is not inside RAM" },
		{ bad_initrd_below_ram, "initrd [0x3ffff000, 0x48123456) is not inside RAM" },
	};
	uint8_t *buf = malloc(BUF_SIZE);

	(void)state;
	assert_non_null(buf);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct test_machine t;
		char why[256] = "";

		full_machine(&t);
		cases[i].bad(&t);
		memset(buf, FILL, BUF_SIZE);
		assert_int_equal(arm64_fdt_build(&t.m, buf, BUF_SIZE, why, sizeof(why)), -EINVAL);
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("case %u: why \"%s\", want \"%s\"", i, why, cases[i].why);
		assert_null(strchr(why, '\n'));
		/* refused before a byte is written */
		for (size_t b = 0; b < BUF_SIZE; b++)
			assert_int_equal(buf[b], FILL);
	}
	free(buf);
}

static void test_null_arguments(void **state)
{
	struct test_machine t;
	char buf[64], why[128] = "";

	(void)state;
	full_machine(&t);
	assert_int_equal(arm64_fdt_build(NULL, buf, sizeof(buf), why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "no machine or no buffer");
	assert_int_equal(arm64_fdt_build(&t.m, NULL, sizeof(buf), why, sizeof(why)), -EINVAL);
	/* why is optional */
	assert_int_equal(arm64_fdt_build(&t.m, NULL, sizeof(buf), NULL, 0), -EINVAL);
}

/* The exact size fits; a byte less gives -ENOSPC and nothing past the buffer is touched. */
static void test_no_space(void **state)
{
	static const size_t guard = 256;
	struct test_machine t;
	uint8_t *big, *small;
	char why[128] = "";
	size_t need;

	(void)state;
	full_machine(&t);
	big = build_ok(&t.m);
	need = fdt_totalsize(big);
	small = malloc(need + guard);
	assert_non_null(small);

	memset(small, FILL, need + guard);
	assert_int_equal(arm64_fdt_build(&t.m, small, need, why, sizeof(why)), 0);
	assert_memory_equal(small, big, need);

	for (size_t size = 0; size < need; size += size < 64 ? 1 : 97) {
		memset(small, FILL, need + guard);
		assert_int_equal(arm64_fdt_build(&t.m, small, size, why, sizeof(why)), -ENOSPC);
		for (size_t b = size; b < need + guard; b++)
			assert_int_equal(small[b], FILL);
	}
	assert_int_equal(arm64_fdt_build(&t.m, small, need - 1, why, sizeof(why)), -ENOSPC);
	assert_non_null(strstr(why, "does not fit in"));
	free(small);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_machine_dtc),
		cmocka_unit_test(test_full_machine_libfdt),
		cmocka_unit_test(test_minimal_machine),
		cmocka_unit_test(test_cpu_affinity),
		cmocka_unit_test(test_bad_machines),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_no_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
