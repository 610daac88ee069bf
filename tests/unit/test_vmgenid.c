/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM Generation ID: the DSDT's VGEN and GED0 devices, decoded from the AML as an OS would walk
 * it (every object of the DSDT must decode, or the test fails), for kiln's own layout and for an ID
 * above 4 GiB; and devices/vmgenid.c writing IDs into guest RAM and pulsing the GED's line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"
#include "arch/x86/layout.h"
#include "devices/vmgenid.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* --- a small AML reader (ACPI 6.5 §20): what kiln's DSDT holds, nothing else ---------------------- */

enum obj_kind { OBJ_INTEGER, OBJ_STRING, OBJ_BUFFER, OBJ_PACKAGE, OBJ_METHOD };

#define MAX_OBJS 128
#define MAX_ELEMS 4

/* One named object: Name (NAME, value) or Method (NAME, ...) in the scope or device SCOPE. */
struct obj {
	char scope[32]; /* "\\_SB_.VGEN" */
	char name[5];
	enum obj_kind kind;
	uint64_t integer;
	const char *string;
	const uint8_t *bytes; /* a buffer's bytes, or a method's body */
	size_t len;
	uint8_t method_flags;
	uint64_t elems[MAX_ELEMS]; /* a package of integers */
	unsigned int nelems;
};

struct aml_reader {
	uint8_t *tables; /* what acpi_build wrote: the objects point into it */
	const uint8_t *p, *end;
	struct obj objs[MAX_OBJS];
	unsigned int nobjs;
};

static uint8_t next_byte(struct aml_reader *r)
{
	assert_true(r->p < r->end);
	return *r->p++;
}

/* PkgLength (§20.2.4): returns where the construct ends (it counts its own bytes). */
static const uint8_t *read_pkglength(struct aml_reader *r)
{
	const uint8_t *start = r->p;
	uint8_t lead = next_byte(r);
	unsigned int follow = lead >> 6;
	uint32_t len = follow ? lead & 0x0f : lead & 0x3f;

	for (unsigned int i = 0; i < follow; i++)
		len |= (uint32_t)next_byte(r) << (4 + 8 * i);
	assert_true(len <= (size_t)(r->end - start));
	return start + len;
}

/* NameString (§20.2.2) appended to out as "\\A.B": root, then segments joined by '.'. */
static void read_name(struct aml_reader *r, char *out, size_t outlen)
{
	unsigned int nsegs = 1;
	size_t n = 0;

	if (*r->p == '\\')
		out[n++] = (char)next_byte(r);
	if (*r->p == 0x2e) {
		next_byte(r);
		nsegs = 2;
	} else if (*r->p == 0x2f) {
		next_byte(r);
		nsegs = next_byte(r);
	}
	for (unsigned int s = 0; s < nsegs; s++) {
		if (s > 0)
			out[n++] = '.';
		assert_true(n + 5 <= outlen); /* the segment and the NUL */
		for (int i = 0; i < 4; i++)
			out[n++] = (char)next_byte(r);
	}
	out[n] = '\0';
}

/* An Integer (§20.2.3): ZeroOp, OneOp, or a Byte/Word/DWord/QWord prefix; fails otherwise. */
static uint64_t read_integer(struct aml_reader *r)
{
	uint8_t op = next_byte(r);
	unsigned int n = op == 0x0a ? 1 : op == 0x0b ? 2 : op == 0x0c ? 4 : op == 0x0e ? 8 : 0;
	uint64_t v = 0;

	if (op <= 1)
		return op;
	if (n == 0)
		fail_msg("not an Integer: opcode 0x%02x", op);
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)next_byte(r) << (8 * i);
	return v;
}

static void read_value(struct aml_reader *r, struct obj *o)
{
	const uint8_t *end;

	switch (*r->p) {
	case 0x0d: /* String */
		next_byte(r);
		o->kind = OBJ_STRING;
		o->string = (const char *)r->p;
		r->p += strnlen(o->string, (size_t)(r->end - r->p)) + 1;
		assert_true(r->p <= r->end);
		break;
	case 0x11: /* Buffer: PkgLength BufferSize ByteList */
		next_byte(r);
		end = read_pkglength(r);
		o->kind = OBJ_BUFFER;
		o->len = read_integer(r);
		o->bytes = r->p;
		assert_int_equal(o->len, end - r->p);
		r->p = end;
		break;
	case 0x12: /* Package: PkgLength NumElements PackageElementList (integers here) */
		next_byte(r);
		end = read_pkglength(r);
		o->kind = OBJ_PACKAGE;
		o->nelems = next_byte(r);
		assert_true(o->nelems <= MAX_ELEMS);
		for (unsigned int i = 0; i < o->nelems; i++)
			o->elems[i] = read_integer(r);
		assert_ptr_equal(r->p, end);
		break;
	default:
		o->kind = OBJ_INTEGER;
		o->integer = read_integer(r);
	}
}

static struct obj *new_obj(struct aml_reader *r, const char *scope)
{
	struct obj *o;

	assert_true(r->nobjs < MAX_OBJS);
	o = &r->objs[r->nobjs++];
	memset(o, 0, sizeof(*o));
	snprintf(o->scope, sizeof(o->scope), "%s", scope);
	return o;
}

/* A TermList of Scope, Device, Name and Method, up to end; anything else fails the test. */
static void read_terms(struct aml_reader *r, const char *scope, const uint8_t *end)
{
	char name[32], inner[64];
	struct obj *o;
	const uint8_t *body_end;

	while (r->p < end) {
		uint8_t op = next_byte(r);

		switch (op) {
		case 0x10: /* Scope */
			body_end = read_pkglength(r);
			read_name(r, inner, sizeof(inner));
			read_terms(r, inner, body_end);
			break;
		case 0x5b: /* ExtOpPrefix: Device */
			assert_int_equal(next_byte(r), 0x82);
			body_end = read_pkglength(r);
			read_name(r, name, sizeof(name));
			snprintf(inner, sizeof(inner), "%s.%s", scope, name);
			read_terms(r, inner, body_end);
			break;
		case 0x08: /* Name */
			o = new_obj(r, scope);
			read_name(r, o->name, sizeof(o->name));
			read_value(r, o);
			break;
		case 0x14: /* Method: PkgLength NameString MethodFlags TermList (kept raw) */
			body_end = read_pkglength(r);
			o = new_obj(r, scope);
			o->kind = OBJ_METHOD;
			read_name(r, o->name, sizeof(o->name));
			o->method_flags = next_byte(r);
			o->bytes = r->p;
			o->len = (size_t)(body_end - r->p);
			r->p = body_end;
			break;
		default:
			fail_msg("unexpected opcode 0x%02x in %s", op, scope);
		}
	}
	assert_ptr_equal(r->p, end);
}

static const struct obj *find_obj(const struct aml_reader *r, const char *scope, const char *name)
{
	for (unsigned int i = 0; i < r->nobjs; i++) {
		if (strcmp(r->objs[i].scope, scope) == 0 && strcmp(r->objs[i].name, name) == 0)
			return &r->objs[i];
	}
	return NULL;
}

static const struct obj *need_obj(const struct aml_reader *r, const char *scope, const char *name,
				  enum obj_kind kind)
{
	const struct obj *o = find_obj(r, scope, name);

	if (o == NULL)
		fail_msg("no %s in %s", name, scope);
	assert_int_equal(o->kind, kind);
	return o;
}

static void assert_string_obj(const struct aml_reader *r, const char *scope, const char *name, const char *want)
{
	assert_string_equal(need_obj(r, scope, name, OBJ_STRING)->string, want);
}

/* --- the DSDT -------------------------------------------------------------------------------------- */

#define BASE 0xe0000ull
#define BUF_SIZE (64 * 1024)

/* kiln's machine as vm_build.c describes it, with one virtio device. */
static struct acpi_machine kiln_machine(gpa_t vmgenid_addr, uint32_t ged_gsi)
{
	static const struct acpi_virtio_mmio virtio = { .base = X86_VIRTIO_MMIO_BASE, .size = 0x1000, .gsi = 5 };

	return (struct acpi_machine){
		.vcpus = 2,
		.ioapic_addr = X86_IOAPIC_ADDR,
		.lapic_addr = X86_LAPIC_ADDR,
		.uart_port = X86_PORT_COM1,
		.uart_irq = X86_IRQ_COM1,
		.kbd_data_port = X86_PORT_I8042_DATA,
		.kbd_cmd_port = X86_PORT_I8042_CMD,
		.kbd_irq = 1,
		.sleep_control_port = X86_PORT_ACPI_SLEEP_CONTROL,
		.sleep_status_port = X86_PORT_ACPI_SLEEP_STATUS,
		.pvpanic_port = X86_PORT_PVPANIC,
		.virtio = &virtio,
		.nvirtio = 1,
		.vmgenid_addr = vmgenid_addr,
		.ged_gsi = ged_gsi,
	};
}

/* Builds the tables and reads every object of the DSDT (RSDP -> XSDT -> FADT's X_DSDT). */
static struct aml_reader *read_dsdt(const struct acpi_machine *m)
{
	struct aml_reader *r = calloc(1, sizeof(*r));
	const uint8_t *xsdt, *fadt, *dsdt;
	gpa_t rsdp;

	assert_non_null(r);
	r->tables = calloc(1, BUF_SIZE);
	assert_non_null(r->tables);
	assert_true(acpi_build(m, r->tables, BUF_SIZE, BASE, &rsdp) > 0);
	xsdt = r->tables + (rd64(r->tables + 24) - BASE);
	fadt = r->tables + (rd64(xsdt + 36) - BASE);
	dsdt = r->tables + (rd64(fadt + 140) - BASE);
	assert_memory_equal(dsdt, "DSDT", 4);
	r->p = dsdt + 36;
	r->end = dsdt + rd32(dsdt + 4);
	read_terms(r, "", r->end);
	return r;
}

static void free_dsdt(struct aml_reader *r)
{
	free(r->tables);
	free(r);
}

/* Device (VGEN): the IDs Linux's vmgenid driver matches, and ADDR = Package { low, high }. */
static void check_vgen(const struct aml_reader *r, gpa_t addr)
{
	const struct obj *a = need_obj(r, "\\_SB_.VGEN", "ADDR", OBJ_PACKAGE);

	assert_string_obj(r, "\\_SB_.VGEN", "_HID", "VMGENCTR");
	assert_string_obj(r, "\\_SB_.VGEN", "_CID", "VM_GEN_COUNTER");
	assert_string_obj(r, "\\_SB_.VGEN", "_DDN", "VM_Gen_Counter");
	assert_int_equal(a->nelems, 2);
	assert_true(a->elems[0] <= UINT32_MAX && a->elems[1] <= UINT32_MAX);
	assert_int_equal(a->elems[0] | a->elems[1] << 32, addr);
}

/*
 * Device (GED0): _HID "ACPI0013", _CRS one Extended Interrupt (consumer, edge, active high,
 * exclusive) on the GSI, and Method (_EVT, 1) { Notify (\_SB_.VGEN, 0x80) }.
 */
static void check_ged(const struct aml_reader *r, uint32_t gsi)
{
	static const uint8_t evt_body[] = { 0x86, '\\', 0x2e, '_', 'S', 'B', '_', 'V', 'G', 'E', 'N', 0x0a, 0x80 };
	const struct obj *crs = need_obj(r, "\\_SB_.GED0", "_CRS", OBJ_BUFFER);
	const struct obj *evt = need_obj(r, "\\_SB_.GED0", "_EVT", OBJ_METHOD);
	uint8_t irq[9] = { 0x89, 6, 0, 0x03, 1 };

	assert_string_obj(r, "\\_SB_.GED0", "_HID", "ACPI0013");
	irq[5] = (uint8_t)gsi;
	irq[6] = (uint8_t)(gsi >> 8);
	irq[7] = (uint8_t)(gsi >> 16);
	irq[8] = (uint8_t)(gsi >> 24);
	assert_int_equal(crs->len, sizeof(irq) + 2);
	assert_memory_equal(crs->bytes, irq, sizeof(irq));
	assert_int_equal(crs->bytes[9], 0x79); /* End Tag */
	assert_int_equal(evt->method_flags, 1); /* one argument, NotSerialized, SyncLevel 0 */
	assert_int_equal(evt->len, sizeof(evt_body));
	assert_memory_equal(evt->bytes, evt_body, sizeof(evt_body));
}

/* kiln's layout: the ID where layout.h puts it (the tiny guest reads it there), on the GED's GSI. */
static void test_dsdt_kiln_layout(void **state)
{
	struct acpi_machine m = kiln_machine(X86_VMGENID_ADDR, X86_GED_GSI);
	struct aml_reader *r = read_dsdt(&m);

	(void)state;
	check_vgen(r, X86_VMGENID_ADDR);
	check_ged(r, X86_GED_GSI);
	/* The rest of the DSDT still reads as before, beside the two devices. */
	assert_non_null(find_obj(r, "\\_SB_.COM1", "_CRS"));
	assert_non_null(find_obj(r, "\\_SB_.VR00", "_HID"));
	assert_non_null(find_obj(r, "", "_S5_"));
	free_dsdt(r);
}

/* The high dword is used: an ID above 4 GiB, and a GSI above 255 (where _EVT, not _Exx, is run). */
static void test_dsdt_high_address(void **state)
{
	struct acpi_machine m = kiln_machine(0x123456780ull, 0x1234);
	struct aml_reader *r = read_dsdt(&m);

	(void)state;
	check_vgen(r, 0x123456780ull);
	check_ged(r, 0x1234);
	free_dsdt(r);
}

static void test_dsdt_without_vmgenid(void **state)
{
	struct acpi_machine m = kiln_machine(0, 0);
	struct aml_reader *r = read_dsdt(&m);

	(void)state;
	for (unsigned int i = 0; i < r->nobjs; i++) {
		assert_null(strstr(r->objs[i].scope, "VGEN"));
		assert_null(strstr(r->objs[i].scope, "GED0"));
	}
	assert_non_null(find_obj(r, "\\_SB_.COM1", "_HID"));
	free_dsdt(r);
}

/* An ID that would straddle two pages, or wrap around the address space, is refused. */
static void test_bad_vmgenid_addresses(void **state)
{
	static const gpa_t bad[] = { X86_VMGENID_ADDR + 8, X86_VMGENID_ADDR + 1, UINT64_MAX - 15 };
	static uint8_t buf[BUF_SIZE];
	gpa_t rsdp;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct acpi_machine m = kiln_machine(bad[i], X86_GED_GSI);

		assert_int_equal(acpi_build(&m, buf, sizeof(buf), BASE, &rsdp), -EINVAL);
	}
}

/* The two builders the devices added: Method and Notify, byte for byte. */
static void test_method_and_notify_bytes(void **state)
{
	static const uint8_t want[] = {
		0x14, 0x13, '_', 'E', 'V', 'T', 0x01,              /* Method (_EVT, 1), PkgLength 19 */
		0x86, 'V', 'G', 'E', 'N', 0x0a, 0x80,              /* Notify (VGEN, 0x80) */
		0x86, 'A', 'B', 'C', '_', 0x00,                    /* Notify (ABC, Zero) */
	};
	uint8_t buf[64];
	struct aml_buf b;
	size_t mark;

	(void)state;
	aml_init(&b, buf, sizeof(buf));
	mark = aml_method_begin(&b, "_EVT", 1);
	aml_notify(&b, "VGEN", 0x80);
	aml_notify(&b, "ABC", 0);
	aml_pkg_end(&b, mark);
	assert_int_equal(aml_finish(&b), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	aml_init(&b, buf, sizeof(buf));
	(void)aml_method_begin(&b, "_EVT", 8);
	assert_int_equal(aml_finish(&b), -EINVAL);
}

/* --- devices/vmgenid.c ----------------------------------------------------------------------------- */

#define RAM_SIZE 0x100000
#define ID_ADDR X86_VMGENID_ADDR

struct fake_chip {
	const uint8_t *id; /* the ID in guest RAM, as it is when the line moves */
	uint8_t id_at_raise[VMGENID_SIZE];
	unsigned int raises, lowers;
	int level;
};

static int fake_set_level(void *opaque, uint32_t gsi, int level)
{
	struct fake_chip *c = opaque;

	assert_int_equal(gsi, X86_GED_GSI);
	if (level) {
		assert_int_equal(c->level, 0);
		memcpy(c->id_at_raise, c->id, VMGENID_SIZE);
		c->raises++;
	} else {
		c->lowers++;
	}
	c->level = level;
	return 0;
}

static const struct irq_chip_ops fake_ops = { .set_level = fake_set_level };

struct fixture {
	uint8_t *ram;
	struct gmem mem;
	struct fake_chip chip_state;
	struct irq_chip chip;
	struct vmgenid v;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = calloc(1, RAM_SIZE);
	assert_non_null(f->ram);
	assert_int_equal(gmem_add_region(&f->mem, 0, f->ram, RAM_SIZE), 0);
	f->chip = (struct irq_chip){ .ops = &fake_ops, .opaque = &f->chip_state };
	f->chip_state.id = f->ram + ID_ADDR;
	vmgenid_init(&f->v, &f->mem, ID_ADDR, (struct irq_line){ &f->chip, X86_GED_GSI });
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

/* Only the 16 bytes at the address change (RAM was zero); returns whether they are not all zero. */
static int id_written_alone(const struct fixture *f)
{
	int nonzero = 0;

	for (size_t i = 0; i < RAM_SIZE; i++) {
		if (i >= ID_ADDR && i < ID_ADDR + VMGENID_SIZE)
			nonzero |= f->ram[i];
		else if (f->ram[i])
			fail_msg("byte 0x%zx written", i);
	}
	return nonzero;
}

/* A boot: a fresh random ID in place, no interrupt. */
static void test_generate(void **state)
{
	struct fixture *f = *state;
	uint8_t first[VMGENID_SIZE];

	assert_int_equal(vmgenid_generate(&f->v), 0);
	assert_true(id_written_alone(f));
	memcpy(first, f->ram + ID_ADDR, sizeof(first));
	assert_int_equal(vmgenid_generate(&f->v), 0);
	assert_memory_not_equal(f->ram + ID_ADDR, first, sizeof(first));
	assert_int_equal(f->chip_state.raises + f->chip_state.lowers, 0);
}

/* A restore: a fresh ID, then one edge on the GED's line, raised once the new ID is in place. */
static void test_renew(void **state)
{
	struct fixture *f = *state;
	uint8_t old[VMGENID_SIZE];

	assert_int_equal(vmgenid_generate(&f->v), 0);
	memcpy(old, f->ram + ID_ADDR, sizeof(old));
	assert_int_equal(vmgenid_renew(&f->v), 0);
	assert_true(id_written_alone(f));
	assert_memory_not_equal(f->ram + ID_ADDR, old, sizeof(old));
	assert_int_equal(f->chip_state.raises, 1);
	assert_int_equal(f->chip_state.lowers, 1);
	assert_int_equal(f->chip_state.level, 0);
	assert_memory_equal(f->chip_state.id_at_raise, f->ram + ID_ADDR, VMGENID_SIZE);
}

/* An address outside guest RAM: -EFAULT, nothing written, and no notification of an ID not there. */
static void test_outside_ram(void **state)
{
	struct fixture *f = *state;

	vmgenid_init(&f->v, &f->mem, RAM_SIZE - 8, (struct irq_line){ &f->chip, X86_GED_GSI });
	assert_int_equal(vmgenid_generate(&f->v), -EFAULT);
	assert_int_equal(vmgenid_renew(&f->v), -EFAULT);
	assert_false(id_written_alone(f));
	assert_int_equal(f->chip_state.raises + f->chip_state.lowers, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_method_and_notify_bytes),
		cmocka_unit_test(test_dsdt_kiln_layout),
		cmocka_unit_test(test_dsdt_high_address),
		cmocka_unit_test(test_dsdt_without_vmgenid),
		cmocka_unit_test(test_bad_vmgenid_addresses),
		cmocka_unit_test_setup_teardown(test_generate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_ram, setup, teardown),
	};

	return cmocka_run_group_tests_name("vmgenid", tests, NULL, NULL);
}
