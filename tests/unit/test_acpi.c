// SPDX-License-Identifier: Apache-2.0
/*
 * The AML builder and the ACPI tables: encodings checked byte by byte, tables checked field by
 * field against ACPI 6.5 offsets (not against acpi.c's structs), and every table disassembled by
 * iasl (acpica-tools), which must accept it without a warning.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"
#include "support/scratch.h"

#define BASE 0xe0000ull
#define BUF_SIZE (128 * 1024)
#define GUARD 256
#define GUARD_BYTE 0xa5

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

/* --- AML builder --------------------------------------------------------------------------------- */

static void test_pkglength_boundaries(void **state)
{
	static const struct {
		uint32_t len;
		int n;
		uint8_t bytes[4];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 63, 1, { 0x3f } },
		{ 64, 2, { 0x40, 0x04 } },
		{ 4095, 2, { 0x4f, 0xff } },
		{ 4096, 3, { 0x80, 0x00, 0x01 } },
		{ 0xfffff, 3, { 0x8f, 0xff, 0xff } },
		{ 0x100000, 4, { 0xc0, 0x00, 0x00, 0x01 } },
		{ 0x0fffffff, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[4];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(aml_pkglength_encode(out, cases[i].len), cases[i].n);
		assert_memory_equal(out, cases[i].bytes, (size_t)cases[i].n);
	}
	assert_int_equal(aml_pkglength_encode(out, 0x10000000), -EINVAL);
}

/* Decodes the PkgLength at p; returns its value and stores its size in *n. */
static uint32_t pkglength_decode(const uint8_t *p, int *n)
{
	uint32_t v;

	*n = (p[0] >> 6) + 1;
	if (*n == 1)
		return p[0] & 0x3f;
	v = p[0] & 0x0f;
	for (int i = 1; i < *n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

static int pkglength_size_for(uint32_t v)
{
	return v <= 0x3f ? 1 : v <= 0xfff ? 2 : v <= 0xfffff ? 3 : 4;
}

/* Scopes whose bodies straddle each boundary: the PkgLength counts itself and is minimal. */
static void test_pkg_end_boundaries(void **state)
{
	static const size_t around[] = { 63, 4095, 0xfffff };
	static uint8_t buf[0x100200];
	static char str[0x100100];

	(void)state;
	for (size_t a = 0; a < ARRAY_SIZE(around); a++) {
		for (size_t target = around[a] - 4; target <= around[a] + 4; target++) {
			/* body = NameString (4) + String (prefix, chars, NUL) */
			size_t chars = target - 4 - 2;
			struct aml_buf b;
			size_t mark;
			int n;
			uint32_t v;

			memset(str, 'A', chars);
			str[chars] = '\0';
			aml_init(&b, buf, sizeof(buf));
			mark = aml_scope_begin(&b, "_SB_");
			aml_string(&b, str);
			aml_pkg_end(&b, mark);
			assert_int_equal(aml_finish(&b), (int)b.len);
			assert_int_equal(buf[0], 0x10); /* ScopeOp */
			v = pkglength_decode(buf + 1, &n);
			assert_int_equal(v, b.len - 1);
			assert_int_equal(v - (uint32_t)n, target);
			assert_int_equal(n, pkglength_size_for(v));
			assert_memory_equal(buf + 1 + n, "_SB_", 4);
		}
	}
}

static void test_integer_encodings(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t bytes[9];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 2, 2, { 0x0a, 0x02 } },
		{ 0xff, 2, { 0x0a, 0xff } },
		{ 0x100, 3, { 0x0b, 0x00, 0x01 } },
		{ 0xffff, 3, { 0x0b, 0xff, 0xff } },
		{ 0x10000, 5, { 0x0c, 0x00, 0x00, 0x01, 0x00 } },
		{ 0xffffffff, 5, { 0x0c, 0xff, 0xff, 0xff, 0xff } },
		{ 0x100000000ull, 9, { 0x0e, 0, 0, 0, 0, 0x01, 0, 0, 0 } },
		{ UINT64_MAX, 9, { 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
	};
	uint8_t buf[16];
	struct aml_buf b;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		aml_init(&b, buf, sizeof(buf));
		aml_integer(&b, cases[i].v);
		assert_int_equal(aml_finish(&b), (int)cases[i].n);
		assert_memory_equal(buf, cases[i].bytes, cases[i].n);
	}
}

static void test_eisaid(void **state)
{
	static const char *const bad[] = { "pnp0501", "PNP050", "PNP05011", "PNP05G1", "P1P0501" };
	static const uint8_t name_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	uint8_t buf[16];
	struct aml_buf b;
	uint32_t v;

	(void)state;
	assert_int_equal(aml_eisaid("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105D041);
	assert_int_equal(aml_eisaid("PNP0A03", &v), 0);
	assert_int_equal(v, 0x030AD041);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(aml_eisaid(bad[i], &v), -EINVAL);

	aml_init(&b, buf, sizeof(buf));
	aml_name_eisaid(&b, "_HID", "PNP0501");
	assert_int_equal(aml_finish(&b), sizeof(name_hid));
	assert_memory_equal(buf, name_hid, sizeof(name_hid));
}

static void test_name_strings(void **state)
{
	static const uint8_t rooted[] = { '\\', '_', 'S', 'B', '_' };
	static const uint8_t dual[] = { '\\', 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1' };
	static const uint8_t multi[] = { 0x2f, 3, 'A', '_', '_', '_', 'B', 'C', '_', '_', 'D', '1', '2', '3' };
	static const uint8_t padded[] = { '_', 'S', '5', '_' };
	static const char *const bad[] = { "", "\\", "1ABC", "ABCDE", "A..B", "A.", "ab", "A-B" };
	uint8_t buf[32];
	struct aml_buf b;

	(void)state;
#define CHECK_NAME(path, want)                                                       \
	do {                                                                         \
		aml_init(&b, buf, sizeof(buf));                                      \
		aml_name_string(&b, path);                                           \
		assert_int_equal(aml_finish(&b), sizeof(want));                      \
		assert_memory_equal(buf, want, sizeof(want));                        \
	} while (0)
	CHECK_NAME("\\_SB_", rooted);
	CHECK_NAME("\\_SB_.COM1", dual);
	CHECK_NAME("A.BC.D123", multi);
	CHECK_NAME("_S5", padded);
#undef CHECK_NAME
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		aml_init(&b, buf, sizeof(buf));
		aml_name_string(&b, bad[i]);
		assert_int_equal(aml_finish(&b), -EINVAL);
		assert_int_equal(b.len, 0);
	}
}

/* Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3f8, 0x3f8, 1, 8) IRQNoFlags () {4} }) */
static void test_resource_template_bytes(void **state)
{
	static const uint8_t want[] = {
		0x11, 0x10, 0x0a, 0x0d,                         /* Buffer, PkgLength 16, size 13 */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, /* IO */
		0x22, 0x10, 0x00,                               /* IRQNoFlags {4} */
		0x79, 0x00,                                     /* End Tag */
	};
	uint8_t buf[64];
	struct aml_buf b;
	size_t crs;

	(void)state;
	aml_init(&b, buf, sizeof(buf));
	crs = aml_restemplate_begin(&b);
	aml_io16(&b, 0x3f8, 8);
	aml_irq_noflags(&b, 4);
	aml_restemplate_end(&b, crs);
	assert_int_equal(aml_finish(&b), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	aml_init(&b, buf, sizeof(buf));
	aml_irq_noflags(&b, 16);
	assert_int_equal(aml_finish(&b), -EINVAL);
}

static void test_memory32_and_interrupt_bytes(void **state)
{
	static const uint8_t want[] = {
		0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00,
		0x89, 0x06, 0x00, 0x03, 0x01, 0x17, 0x00, 0x00, 0x00,
	};
	uint8_t buf[32];
	struct aml_buf b;

	(void)state;
	aml_init(&b, buf, sizeof(buf));
	aml_memory32_fixed(&b, true, 0xd0001000, 0x1000);
	aml_ext_interrupt(&b, 23);
	assert_int_equal(aml_finish(&b), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Every capacity short of what a Device needs fails with -ENOSPC and writes nothing past it. */
static void test_aml_overflow_stays_in_bounds(void **state)
{
	uint8_t buf[128 + GUARD];
	struct aml_buf b;
	int need;

	(void)state;
	for (size_t cap = 0; cap <= 128; cap++) {
		size_t dev, crs;

		memset(buf, GUARD_BYTE, sizeof(buf));
		aml_init(&b, buf, cap);
		dev = aml_device_begin(&b, "VR00");
		aml_name_str(&b, "_HID", "LNRO0005");
		aml_name(&b, "_CRS");
		crs = aml_restemplate_begin(&b);
		aml_memory32_fixed(&b, true, 0xd0000000, 0x1000);
		aml_ext_interrupt(&b, 5);
		aml_restemplate_end(&b, crs);
		aml_pkg_end(&b, dev);
		need = aml_finish(&b);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], GUARD_BYTE);
		if (need >= 0) {
			assert_int_equal((size_t)need, cap); /* the first size that fits is exact */
			return;
		}
		assert_int_equal(need, -ENOSPC);
	}
	fail_msg("a 128-byte buffer should hold the device");
}

/* --- ACPI tables --------------------------------------------------------------------------------- */

static const struct acpi_virtio_mmio two_virtio[] = {
	{ .base = 0xd0000000, .size = 0x1000, .gsi = 5 },
	{ .base = 0xd0001000, .size = 0x1000, .gsi = 6 },
};

static struct acpi_machine machine(unsigned int vcpus, unsigned int nvirtio, uint16_t pvpanic)
{
	return (struct acpi_machine){
		.vcpus = vcpus,
		.ioapic_addr = 0xfec00000,
		.lapic_addr = 0xfee00000,
		.uart_port = 0x3f8,
		.uart_irq = 4,
		.sleep_control_port = 0x600,
		.sleep_status_port = 0x601,
		.pvpanic_port = pvpanic,
		.virtio = nvirtio ? two_virtio : NULL,
		.nvirtio = nvirtio,
	};
}

/* The i8042 keyboard as kiln describes it: PNP0303 at 0x60/0x64, ISA IRQ 1. */
static struct acpi_machine with_keyboard(struct acpi_machine m)
{
	m.kbd_data_port = 0x60;
	m.kbd_cmd_port = 0x64;
	m.kbd_irq = 1;
	return m;
}

struct tables {
	uint8_t buf[BUF_SIZE];
	int len;
	gpa_t rsdp_gpa;
	const uint8_t *xsdt, *fadt, *madt, *dsdt;
};

/* The table at gpa, checked to lie in the built bytes, with its signature, length and checksum. */
static const uint8_t *table_at(const struct tables *t, uint64_t gpa, const char *sig, uint8_t rev)
{
	const uint8_t *p;
	uint32_t len;

	assert_true(gpa >= BASE && gpa + 36 <= BASE + (uint64_t)t->len);
	p = t->buf + (gpa - BASE);
	len = rd32(p + 4);
	assert_memory_equal(p, sig, 4);
	assert_true(len >= 36 && gpa + len <= BASE + (uint64_t)t->len);
	assert_int_equal(p[8], rev);
	assert_int_equal(sum8(p, len), 0);
	assert_memory_equal(p + 10, "KILN  ", 6);
	assert_memory_equal(p + 16, "KILNVM  ", 8);
	assert_memory_equal(p + 28, "KILN", 4);
	return p;
}

static void build_and_walk(struct tables *t, const struct acpi_machine *m)
{
	const uint8_t *r = t->buf;

	t->len = acpi_build(m, t->buf, sizeof(t->buf), BASE, &t->rsdp_gpa);
	assert_true(t->len > 0);
	assert_int_equal(t->rsdp_gpa, BASE);

	/* RSDP (§5.2.5.3) */
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r + 20), 36);
	assert_int_equal(sum8(r, 20), 0);
	assert_int_equal(sum8(r, 36), 0);
	assert_memory_equal(r + 9, "KILN  ", 6);

	/* XSDT: the FADT, then the MADT */
	t->xsdt = table_at(t, rd64(r + 24), "XSDT", 1);
	assert_int_equal(rd32(t->xsdt + 4), 36 + 2 * 8);
	t->fadt = table_at(t, rd64(t->xsdt + 36), "FACP", 6);
	t->madt = table_at(t, rd64(t->xsdt + 44), "APIC", 6);
	t->dsdt = table_at(t, rd64(t->fadt + 140), "DSDT", 2);
}

static void check_gas_io8(const uint8_t *gas, uint16_t port)
{
	assert_int_equal(gas[0], 1); /* SystemIO */
	assert_int_equal(gas[1], 8);
	assert_int_equal(gas[2], 0);
	assert_int_equal(gas[3], 1); /* byte access */
	assert_int_equal(rd64(gas + 4), port);
}

static void check_fadt(const uint8_t *f, const struct acpi_machine *m)
{
	assert_int_equal(rd32(f + 4), 276);
	assert_true(rd32(f + 112) & (1u << 20)); /* HW_REDUCED_ACPI */
	assert_true(rd16(f + 109) & (1u << 2));  /* VGA not present */
	assert_int_equal(!!(rd16(f + 109) & (1u << 1)), m->kbd_data_port != 0); /* 8042 */
	assert_int_equal(f[131], 5);             /* FADT minor version */
	assert_int_equal(rd32(f + 40), 0);       /* DSDT: X_DSDT is used */
	check_gas_io8(f + 244, m->sleep_control_port);
	check_gas_io8(f + 256, m->sleep_status_port);
	assert_memory_equal(f + 268, "KILN", 4);
}

static void check_madt(const uint8_t *madt, const struct acpi_machine *m)
{
	uint32_t len = rd32(madt + 4);
	unsigned int lapics = 0, ioapics = 0, isos = 0, nmis = 0;

	assert_int_equal(rd32(madt + 36), m->lapic_addr);
	for (uint32_t off = 44; off < len; off += madt[off + 1]) {
		const uint8_t *e = madt + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0: /* Processor Local APIC: UID, APIC id, enabled */
			assert_int_equal(e[2], lapics);
			assert_int_equal(e[3], lapics);
			assert_int_equal(rd32(e + 4), 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[2], m->vcpus);
			assert_int_equal(rd32(e + 4), m->ioapic_addr);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
			break;
		case 2: /* ISA IRQ 0 -> GSI 2, edge, active high */
			assert_int_equal(e[2], 0);
			assert_int_equal(e[3], 0);
			assert_int_equal(rd32(e + 4), 2);
			assert_int_equal(rd16(e + 8), 0x5);
			isos++;
			break;
		case 4: /* every processor, LINT1 */
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(lapics, m->vcpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
}

static int dsdt_has(const uint8_t *dsdt, const void *needle, size_t n)
{
	return memmem(dsdt, rd32(dsdt + 4), needle, n) != NULL;
}

static void test_one_vcpu_no_virtio(void **state)
{
	struct acpi_machine m = machine(1, 0, 0);
	struct tables *t = calloc(1, sizeof(*t));

	(void)state;
	assert_non_null(t);
	build_and_walk(t, &m);
	check_fadt(t->fadt, &m);
	check_madt(t->madt, &m);
	assert_true(dsdt_has(t->dsdt, "COM1", 4));
	assert_false(dsdt_has(t->dsdt, "LNRO0005", 8));
	assert_false(dsdt_has(t->dsdt, "QEMU0001", 8));
	free(t);
}

static void test_four_vcpus_two_virtio(void **state)
{
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00 };
	struct acpi_machine m = machine(4, 2, 0x505);
	struct tables *t = calloc(1, sizeof(*t));

	(void)state;
	assert_non_null(t);
	build_and_walk(t, &m);
	check_fadt(t->fadt, &m);
	check_madt(t->madt, &m);
	assert_true(dsdt_has(t->dsdt, "VR00", 4));
	assert_true(dsdt_has(t->dsdt, "VR01", 4));
	assert_true(dsdt_has(t->dsdt, "QEMU0001", 8));
	assert_true(dsdt_has(t->dsdt, s5, sizeof(s5)));
	free(t);
}

/* Device (PS2K) { _HID EISAID("PNP0303"), _CRS { IO 0x60, IO 0x64, IRQNoFlags {1} }, _STA 0x0f } */
static void test_keyboard_device(void **state)
{
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x03, 0x03 };
	static const uint8_t crs[] = {
		0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01, /* IO (Decode16, 0x60, 0x60, 1, 1) */
		0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01, /* IO (Decode16, 0x64, 0x64, 1, 1) */
		0x22, 0x02, 0x00,                               /* IRQNoFlags {1} */
		0x79, 0x00,                                     /* End Tag */
	};
	struct acpi_machine m = with_keyboard(machine(1, 0, 0));
	struct tables *t = calloc(1, sizeof(*t));

	(void)state;
	assert_non_null(t);
	build_and_walk(t, &m);
	check_fadt(t->fadt, &m);
	assert_true(dsdt_has(t->dsdt, "PS2K", 4));
	assert_true(dsdt_has(t->dsdt, hid, sizeof(hid)));
	assert_true(dsdt_has(t->dsdt, crs, sizeof(crs)));

	m = machine(1, 0, 0); /* without it: no device, and the FADT says no 8042 */
	build_and_walk(t, &m);
	check_fadt(t->fadt, &m);
	assert_false(dsdt_has(t->dsdt, "PS2K", 4));
	assert_false(dsdt_has(t->dsdt, hid + 6, 4));
	free(t);
}

/* Every buffer size short of the full build gives -ENOSPC and leaves the guard behind it alone. */
static void test_too_small_buffer(void **state)
{
	struct acpi_machine m = machine(4, 2, 0x505);
	static uint8_t buf[BUF_SIZE + GUARD];
	gpa_t rsdp = 0;
	int need;

	(void)state;
	need = acpi_build(&m, buf, BUF_SIZE, BASE, &rsdp);
	assert_true(need > 0);
	for (size_t size = 0; size < (size_t)need; size++) {
		memset(buf, GUARD_BYTE, (size_t)need + GUARD);
		assert_int_equal(acpi_build(&m, buf, size, BASE, &rsdp), -ENOSPC);
		for (size_t i = size; i < (size_t)need + GUARD; i++) {
			if (buf[i] != GUARD_BYTE)
				fail_msg("size %zu: byte %zu written", size, i);
		}
	}
	assert_int_equal(acpi_build(&m, buf, (size_t)need, BASE, &rsdp), need);
}

static void test_bad_machines(void **state)
{
	static const struct acpi_virtio_mmio high = { .base = 0xfffff800, .size = 0x1000, .gsi = 5 };
	static uint8_t buf[BUF_SIZE];
	struct acpi_machine m;
	gpa_t rsdp;

	(void)state;
#define EXPECT_EINVAL(change)                                                           \
	do {                                                                            \
		m = machine(2, 2, 0x505);                                               \
		change;                                                                 \
		assert_int_equal(acpi_build(&m, buf, sizeof(buf), BASE, &rsdp), -EINVAL); \
	} while (0)
	EXPECT_EINVAL(m.vcpus = 0);
	EXPECT_EINVAL(m.vcpus = ACPI_MAX_VCPUS + 1);
	EXPECT_EINVAL(m.uart_irq = 16);
	EXPECT_EINVAL(m.uart_port = 0);
	EXPECT_EINVAL((m = with_keyboard(m), m.kbd_irq = 16));
	EXPECT_EINVAL((m = with_keyboard(m), m.kbd_cmd_port = 0));
	EXPECT_EINVAL(m.sleep_control_port = 0);
	EXPECT_EINVAL(m.sleep_status_port = 0);
	EXPECT_EINVAL(m.ioapic_addr = 0x100000000ull);
	EXPECT_EINVAL(m.lapic_addr = 0x100000000ull);
	EXPECT_EINVAL(m.virtio = NULL);
	EXPECT_EINVAL((m.virtio = &high, m.nvirtio = 1));
#undef EXPECT_EINVAL
	m = machine(ACPI_MAX_VCPUS, 0, 0);
	assert_true(acpi_build(&m, buf, sizeof(buf), BASE, &rsdp) > 0);
	assert_int_equal(acpi_build(&m, buf, sizeof(buf), BASE + 8, &rsdp), -EINVAL);
	assert_int_equal(acpi_build(NULL, buf, sizeof(buf), BASE, &rsdp), -EINVAL);
	assert_int_equal(acpi_build(&m, buf, sizeof(buf), BASE, NULL), -EINVAL);
}

/* --- iasl ---------------------------------------------------------------------------------------- */

static unsigned int count_of(const char *hay, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Writes the table as dir/SIG.dat, runs iasl -d on it and returns the .dsl text. */
static char *disassemble(const char *dir, const uint8_t *table)
{
	char dat[256], cmd[1024], path[256];
	char *log, *dsl;
	FILE *f;
	int rc;

	snprintf(dat, sizeof(dat), "%s/%.4s.dat", dir, (const char *)table);
	f = fopen(dat, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(table, 1, rd32(table + 4), f), rd32(table + 4));
	assert_int_equal(fclose(f), 0);

	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl -d %.4s.dat > %.4s.log 2>&1", dir,
		 (const char *)table, (const char *)table);
	rc = system(cmd);
	snprintf(path, sizeof(path), "%s/%.4s.log", dir, (const char *)table);
	log = scratch_read_text(path);
	if (rc != 0)
		fail_msg("iasl -d %.4s.dat failed (%d):\n%s", (const char *)table, rc, log);
	if (strstr(log, "Warning") || strstr(log, "Error"))
		fail_msg("iasl complains about %.4s:\n%s", (const char *)table, log);
	free(log);

	snprintf(path, sizeof(path), "%s/%.4s.dsl", dir, (const char *)table);
	dsl = scratch_read_text(path);
	assert_null(strstr(dsl, "Incorrect checksum"));
	return dsl;
}

static void require_iasl(void)
{
	if (system("command -v iasl > /dev/null 2>&1") != 0)
		fail_msg("iasl not found: install Debian's acpica-tools (make check does) to check the "
			 "ACPI tables");
}

static void iasl_check(const struct acpi_machine *m)
{
	struct tables *t = calloc(1, sizeof(*t));
	char dir[] = "/tmp/kiln-acpi-XXXXXX", cmd[64], lapics[64];
	char *fadt, *madt, *xsdt, *dsdt;

	assert_non_null(t);
	require_iasl();
	build_and_walk(t, m);
	assert_non_null(mkdtemp(dir));

	fadt = disassemble(dir, t->fadt);
	madt = disassemble(dir, t->madt);
	xsdt = disassemble(dir, t->xsdt);
	dsdt = disassemble(dir, t->dsdt);

	assert_non_null(strstr(fadt, "Hardware Reduced (V5) : 1"));
	assert_non_null(strstr(fadt, "Sleep Control Register"));
	assert_int_equal(count_of(madt, "[Processor Local APIC]"), m->vcpus);
	assert_int_equal(count_of(madt, "[I/O APIC]"), 1);
	snprintf(lapics, sizeof(lapics), "Local Apic ID : %02X", m->vcpus - 1);
	assert_non_null(strstr(madt, lapics));
	assert_non_null(strstr(xsdt, "ACPI Table Address   1"));
	assert_non_null(strstr(dsdt, "PNP0501"));
	assert_int_equal(count_of(dsdt, "PNP0303"), m->kbd_data_port ? 1 : 0);
	assert_int_equal(count_of(fadt, "8042 Present on ports 60/64 (V2) : 1"), m->kbd_data_port ? 1 : 0);
	assert_non_null(strstr(dsdt, "_S5_"));
	assert_int_equal(count_of(dsdt, "LNRO0005"), m->nvirtio);
	assert_int_equal(count_of(dsdt, "QEMU0001"), m->pvpanic_port ? 1 : 0);
	assert_int_equal(count_of(dsdt, "\"VMGENCTR\""), m->vmgenid_addr ? 1 : 0);
	assert_int_equal(count_of(dsdt, "\"ACPI0013\""), m->vmgenid_addr ? 1 : 0);
	assert_int_equal(count_of(dsdt, "Notify (\\_SB.VGEN, 0x80)"), m->vmgenid_addr ? 1 : 0);
	for (unsigned int i = 0; i < m->nvirtio; i++) {
		char gsi[32];

		snprintf(gsi, sizeof(gsi), "0x%08X,", m->virtio[i].gsi);
		assert_non_null(strstr(dsdt, gsi));
	}

	free(fadt);
	free(madt);
	free(xsdt);
	free(dsdt);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(t);
}

static void test_iasl_one_vcpu(void **state)
{
	struct acpi_machine m = machine(1, 0, 0);

	(void)state;
	iasl_check(&m);
}

/* With the VM Generation ID and its Generic Event Device, as kiln builds it. */
static void test_iasl_four_vcpus_two_virtio(void **state)
{
	struct acpi_machine m = with_keyboard(machine(4, 2, 0x505));

	(void)state;
	m.vmgenid_addr = 0xa0000;
	m.ged_gsi = 23;
	iasl_check(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglength_boundaries),
		cmocka_unit_test(test_pkg_end_boundaries),
		cmocka_unit_test(test_integer_encodings),
		cmocka_unit_test(test_eisaid),
		cmocka_unit_test(test_name_strings),
		cmocka_unit_test(test_resource_template_bytes),
		cmocka_unit_test(test_memory32_and_interrupt_bytes),
		cmocka_unit_test(test_aml_overflow_stays_in_bounds),
		cmocka_unit_test(test_one_vcpu_no_virtio),
		cmocka_unit_test(test_four_vcpus_two_virtio),
		cmocka_unit_test(test_keyboard_device),
		cmocka_unit_test(test_too_small_buffer),
		cmocka_unit_test(test_bad_machines),
		cmocka_unit_test(test_iasl_one_vcpu),
		cmocka_unit_test(test_iasl_four_vcpus_two_virtio),
	};

	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
