// SPDX-License-Identifier: Apache-2.0
/*
 * kiln's ACPI tables (ACPI 6.5). The machine is hardware-reduced (§4.1): no PM1/GPE blocks, no SCI,
 * no FACS; poweroff goes through the FADT sleep registers and \_S5_. Layout in the buffer, each
 * table 8-byte aligned: RSDP (at base), DSDT, FADT, MADT, XSDT. The RSDP is filled last, once the
 * XSDT's address is known; every other table is written once, in an order where what it points to
 * already exists.
 */
#include "arch/x86/acpi.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/aml.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ACPI tables are little-endian");

#define ACPI_OEM_ID "KILN  "
#define ACPI_OEM_TABLE_ID "KILNVM  "
#define ACPI_CREATOR_ID "KILN"
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_REVISION 1
#define ACPI_HYPERVISOR_ID "KILN"
#define ACPI_TABLE_ALIGN 8
#define ACPI_RSDP_ALIGN 16 /* §5.2.5.1: found by scanning on 16-byte boundaries */

/* §5.2.6 System Description Table Header. */
struct acpi_table_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_table_header) == 36, "ACPI table header");

/* §5.2.5.3 Root System Description Pointer, revision 2. */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes (the ACPI 1.0 structure) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
#define ACPI_RSDP_V1_LEN 20

/* §5.2.3.2 Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_ACCESS_BYTE 1

/* §5.2.9 Fixed ACPI Description Table, revision 6 (Table 5.9). */
struct acpi_fadt {
	struct acpi_table_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor_id[8];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT SLEEP_CONTROL_REG");
#define ACPI_FADT_REVISION 6
#define ACPI_FADT_MINOR_VERSION 5 /* ACPI 6.5 */

/* §5.2.9.3 IA-PC Boot Architecture Flags. */
#define ACPI_IAPC_8042 (1u << 1)
#define ACPI_IAPC_VGA_NOT_PRESENT (1u << 2)
#define ACPI_IAPC_MSI_NOT_SUPPORTED (1u << 3)
#define ACPI_IAPC_PCIE_ASPM_CONTROLS (1u << 4)
#define ACPI_IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/* §5.2.9.1 Fixed ACPI Description Table Fixed Feature Flags (Table 5.10). */
#define ACPI_FADT_PWR_BUTTON (1u << 4)  /* set: no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON (1u << 5)  /* set: no fixed-feature sleep button */
#define ACPI_FADT_HW_REDUCED (1u << 20) /* HW_REDUCED_ACPI */

/* §5.2.12 Multiple APIC Description Table. */
struct acpi_madt {
	struct acpi_table_header header;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT header");
#define ACPI_MADT_REVISION 6 /* ACPI 6.5 */
#define ACPI_MADT_PCAT_COMPAT (1u << 0)

/* §5.2.12.2 Processor Local APIC Structure. */
struct acpi_madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT LAPIC");
#define ACPI_MADT_LAPIC_ENABLED (1u << 0)

/* §5.2.12.3 I/O APIC Structure. */
struct acpi_madt_ioapic {
	uint8_t type;
	uint8_t length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT IOAPIC");

/* §5.2.12.5 Interrupt Source Override Structure. */
struct acpi_madt_iso {
	uint8_t type;
	uint8_t length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT ISO");

/* §5.2.12.7 Local APIC NMI Structure. */
struct acpi_madt_lapic_nmi {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT LAPIC NMI");

enum acpi_madt_type {
	ACPI_MADT_TYPE_LAPIC = 0,
	ACPI_MADT_TYPE_IOAPIC = 1,
	ACPI_MADT_TYPE_ISO = 2,
	ACPI_MADT_TYPE_LAPIC_NMI = 4,
};

/* MPS INTI flags (§5.2.12.5, Table 5.26): polarity bits 1-0, trigger mode bits 3-2. */
#define ACPI_MPS_ACTIVE_HIGH 0x1
#define ACPI_MPS_EDGE (0x1 << 2)
#define ACPI_ALL_PROCESSORS 0xff

/* Appends tables to the caller's buffer; the first overflow sticks as -ENOSPC. */
struct acpi_writer {
	uint8_t *buf;
	size_t size;
	size_t used;
	gpa_t base;
	int err;
};

static void acpi_append(struct acpi_writer *w, const void *p, size_t len)
{
	if (w->err)
		return;
	if (len > w->size - w->used) {
		w->err = -ENOSPC;
		return;
	}
	memcpy(w->buf + w->used, p, len);
	w->used += len;
}

/* Pads with zeros to the next table boundary; returns where the table starts. */
static size_t acpi_table_start(struct acpi_writer *w)
{
	static const uint8_t zeros[ACPI_TABLE_ALIGN];

	acpi_append(w, zeros, (size_t)ALIGN_UP(w->used, ACPI_TABLE_ALIGN) - w->used);
	return w->used;
}

static gpa_t acpi_gpa(const struct acpi_writer *w, size_t off)
{
	return w->base + off;
}

static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return (uint8_t)-sum;
}

static void acpi_header_init(struct acpi_table_header *h, const char sig[4], uint8_t revision)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = ACPI_CREATOR_REVISION;
}

/* Sets the length of the table that starts at off and ends at w->used, then its checksum. */
static void acpi_table_seal(struct acpi_writer *w, size_t off)
{
	struct acpi_table_header *h;

	if (w->err)
		return;
	h = (struct acpi_table_header *)(w->buf + off);
	h->length = (uint32_t)(w->used - off);
	h->checksum = 0;
	h->checksum = acpi_checksum(h, w->used - off);
}

/* --- DSDT (§5.2.11.1) ---------------------------------------------------------------------------- */

static void acpi_dsdt_com1(struct aml_buf *b, const struct acpi_machine *m)
{
	size_t dev = aml_device_begin(b, "COM1");
	size_t crs;

	aml_name_eisaid(b, "_HID", "PNP0501");
	aml_name_integer(b, "_UID", 0);
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_io16(b, m->uart_port, 8);
	aml_irq_noflags(b, m->uart_irq);
	aml_restemplate_end(b, crs);
	aml_pkg_end(b, dev);
}

/*
 * The i8042's keyboard port. Linux's i8042 driver matches PNP0303 and takes the data port (the first
 * 1-byte IO), the command port (the second) and the keyboard IRQ from _CRS; with no PNP0F13 mouse
 * device beside it, it leaves the AUX port alone ("AUX port disabled"), which kiln does not emulate.
 */
static void acpi_dsdt_keyboard(struct aml_buf *b, const struct acpi_machine *m)
{
	size_t dev = aml_device_begin(b, "PS2K");
	size_t crs;

	aml_name_eisaid(b, "_HID", "PNP0303");
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_io16(b, m->kbd_data_port, 1);
	aml_io16(b, m->kbd_cmd_port, 1);
	aml_irq_noflags(b, m->kbd_irq);
	aml_restemplate_end(b, crs);
	aml_name_integer(b, "_STA", 0x0f); /* present, enabled, shown, functioning (§6.3.7) */
	aml_pkg_end(b, dev);
}

/* QEMU's pvpanic ISA device: Linux's pvpanic driver binds to "QEMU0001" with an I/O resource. */
static void acpi_dsdt_pvpanic(struct aml_buf *b, const struct acpi_machine *m)
{
	size_t dev = aml_device_begin(b, "PEVT");
	size_t crs;

	aml_name_str(b, "_HID", "QEMU0001");
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_io16(b, m->pvpanic_port, 1);
	aml_restemplate_end(b, crs);
	aml_name_integer(b, "_STA", 0x0f); /* present, enabled, shown, functioning (§6.3.7) */
	aml_pkg_end(b, dev);
}

/* Linux's virtio_mmio driver matches "LNRO0005" and takes its window and GSI from _CRS. */
static void acpi_dsdt_virtio(struct aml_buf *b, unsigned int index, const struct acpi_virtio_mmio *v)
{
	char name[16];
	size_t dev, crs;

	snprintf(name, sizeof(name), "VR%02X", index);
	dev = aml_device_begin(b, name);
	aml_name_str(b, "_HID", "LNRO0005");
	aml_name_integer(b, "_UID", index);
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_memory32_fixed(b, true, (uint32_t)v->base, v->size);
	aml_ext_interrupt(b, v->gsi);
	aml_restemplate_end(b, crs);
	aml_pkg_end(b, dev);
}

/*
 * The VM Generation ID as Linux's vmgenid driver finds it: a Device matched by _HID "VMGENCTR" or
 * _CID "VM_GEN_COUNTER" (with the _DDN Microsoft's description of the device names), whose ADDR
 * evaluates to Package { low dword, high dword } of the ID's guest-physical address. The driver maps
 * the 16 bytes there when it binds and reads them again at each notification 0x80.
 */
static void acpi_dsdt_vmgenid(struct aml_buf *b, const struct acpi_machine *m)
{
	size_t dev = aml_device_begin(b, "VGEN");
	size_t pkg;

	aml_name_str(b, "_HID", "VMGENCTR");
	aml_name_str(b, "_CID", "VM_GEN_COUNTER");
	aml_name_str(b, "_DDN", "VM_Gen_Counter");
	aml_name(b, "ADDR");
	pkg = aml_package_begin(b, 2);
	aml_dword(b, (uint32_t)m->vmgenid_addr);
	aml_dword(b, (uint32_t)(m->vmgenid_addr >> 32));
	aml_pkg_end(b, pkg);
	aml_pkg_end(b, dev);
}

/*
 * The Generic Event Device (§5.6.9): how a hardware-reduced machine signals a platform event. The
 * OS runs _EVT (Arg0: the GSI) for each interrupt of _CRS that fires. Its one interrupt means one
 * thing, "the VM Generation ID changed", so there is no register to read the event from: _EVT
 * notifies VGEN, whatever Arg0. An edge (kiln pulses the line), so the guest has nothing to clear.
 */
static void acpi_dsdt_ged(struct aml_buf *b, const struct acpi_machine *m)
{
	size_t dev = aml_device_begin(b, "GED0");
	size_t crs, evt;

	aml_name_str(b, "_HID", "ACPI0013");
	aml_name_integer(b, "_UID", 0);
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_ext_interrupt(b, m->ged_gsi);
	aml_restemplate_end(b, crs);
	evt = aml_method_begin(b, "_EVT", 1);
	aml_notify(b, "\\_SB_.VGEN", ACPI_VMGENID_NOTIFY);
	aml_pkg_end(b, evt);
	aml_pkg_end(b, dev);
}

/* \_S5_ (§7.4.2.5): Package { SLP_TYPa, SLP_TYPb }; hardware-reduced sleep uses only the first. */
static void acpi_dsdt_s5(struct aml_buf *b)
{
	size_t pkg;

	aml_name(b, "_S5_");
	pkg = aml_package_begin(b, 2);
	aml_integer(b, ACPI_S5_SLP_TYP);
	aml_integer(b, 0);
	aml_pkg_end(b, pkg);
}

static void acpi_dsdt_body(struct aml_buf *b, const struct acpi_machine *m)
{
	size_t sb = aml_scope_begin(b, "\\_SB_");

	acpi_dsdt_com1(b, m);
	if (m->kbd_data_port)
		acpi_dsdt_keyboard(b, m);
	if (m->pvpanic_port)
		acpi_dsdt_pvpanic(b, m);
	for (unsigned int i = 0; i < m->nvirtio; i++)
		acpi_dsdt_virtio(b, i, &m->virtio[i]);
	if (m->vmgenid_addr) {
		acpi_dsdt_vmgenid(b, m);
		acpi_dsdt_ged(b, m);
	}
	aml_pkg_end(b, sb);
	acpi_dsdt_s5(b);
}

static size_t acpi_write_dsdt(struct acpi_writer *w, const struct acpi_machine *m)
{
	struct acpi_table_header h = { 0 };
	size_t off = acpi_table_start(w);
	struct aml_buf b;
	int len;

	/* Revision 2: integers are 64 bits wide (§5.2.11.1). */
	acpi_header_init(&h, "DSDT", 2);
	acpi_append(w, &h, sizeof(h));
	if (w->err)
		return off;
	aml_init(&b, w->buf + w->used, w->size - w->used);
	acpi_dsdt_body(&b, m);
	len = aml_finish(&b);
	if (len < 0) {
		w->err = len;
		return off;
	}
	w->used += (size_t)len;
	acpi_table_seal(w, off);
	return off;
}

/* --- FADT (§5.2.9) ------------------------------------------------------------------------------- */

static struct acpi_gas acpi_gas_io8(uint16_t port)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = port,
	};
}

/*
 * Hardware-reduced (§4.1, §5.2.9): every PM1/PM2/GPE/PM timer block, SCI_INT, SMI_CMD and the FACS
 * stay 0, which Linux 6.1 accepts once HW_REDUCED_ACPI is set (it then skips the SCI and the PIC and
 * PIT set-up). Linux powers off only if both sleep registers are present. The 32-bit DSDT field
 * stays 0: X_DSDT wins when it is non-zero (Table 5.9).
 *
 * IAPC_BOOT_ARCH: no VGA, no MSI (there is no PCI), no OS ASPM control, and no CMOS RTC, so Linux
 * neither probes VGA memory nor registers an rtc_cmos device for ports kiln does not emulate. The
 * 8042 flag is set when the DSDT describes the keyboard (PNP0303), as the machine then has one;
 * Linux's i8042 driver finds it through that device either way (with the flag clear it trusts only
 * PNP, with it set it would also probe the ports directly). reboot=k writes 0xfe to port 0x64,
 * which kiln's i8042 turns into a reset, with or without the driver.
 */
static size_t acpi_write_fadt(struct acpi_writer *w, const struct acpi_machine *m, gpa_t dsdt)
{
	struct acpi_fadt f = {
		.iapc_boot_arch = ACPI_IAPC_VGA_NOT_PRESENT | ACPI_IAPC_MSI_NOT_SUPPORTED |
				  ACPI_IAPC_PCIE_ASPM_CONTROLS | ACPI_IAPC_CMOS_RTC_NOT_PRESENT |
				  (m->kbd_data_port ? ACPI_IAPC_8042 : 0),
		.flags = ACPI_FADT_HW_REDUCED | ACPI_FADT_PWR_BUTTON | ACPI_FADT_SLP_BUTTON,
		.minor_version = ACPI_FADT_MINOR_VERSION,
		.x_dsdt = dsdt,
		.sleep_control_reg = acpi_gas_io8(m->sleep_control_port),
		.sleep_status_reg = acpi_gas_io8(m->sleep_status_port),
	};
	size_t off = acpi_table_start(w);

	acpi_header_init(&f.header, "FACP", ACPI_FADT_REVISION);
	memcpy(f.hypervisor_vendor_id, ACPI_HYPERVISOR_ID, strlen(ACPI_HYPERVISOR_ID));
	acpi_append(w, &f, sizeof(f));
	acpi_table_seal(w, off);
	return off;
}

/* --- MADT (§5.2.12) ------------------------------------------------------------------------------ */

static void acpi_madt_lapics(struct acpi_writer *w, unsigned int vcpus)
{
	for (unsigned int i = 0; i < vcpus; i++) {
		struct acpi_madt_lapic l = {
			.type = ACPI_MADT_TYPE_LAPIC,
			.length = sizeof(l),
			.processor_uid = (uint8_t)i,
			.apic_id = (uint8_t)i,
			.flags = ACPI_MADT_LAPIC_ENABLED,
		};

		acpi_append(w, &l, sizeof(l));
	}
}

/*
 * PCAT_COMPAT is set: KVM's in-kernel irqchip does emulate the dual 8259, and the flag tells the OS
 * so (and that it must mask the 8259s when it uses the APICs). Linux 6.1 ignores the flag and, on a
 * hardware-reduced machine, never touches the 8259; newer Linux trusts it instead of probing.
 *
 * The timer override (ISA IRQ 0 -> GSI 2) is the PC wiring KVM's IOAPIC models. Linux only reads
 * LINT1 from the NMI entry; MPS flags say edge-triggered, active high, as NMIs are.
 */
static size_t acpi_write_madt(struct acpi_writer *w, const struct acpi_machine *m)
{
	struct acpi_madt madt = {
		.lapic_addr = (uint32_t)m->lapic_addr,
		.flags = ACPI_MADT_PCAT_COMPAT,
	};
	struct acpi_madt_ioapic ioapic = {
		.type = ACPI_MADT_TYPE_IOAPIC,
		.length = sizeof(ioapic),
		.ioapic_id = (uint8_t)m->vcpus,
		.address = (uint32_t)m->ioapic_addr,
		.gsi_base = 0,
	};
	struct acpi_madt_iso timer = {
		.type = ACPI_MADT_TYPE_ISO,
		.length = sizeof(timer),
		.bus = 0, /* ISA */
		.source = 0,
		.gsi = 2,
		.flags = ACPI_MPS_ACTIVE_HIGH | ACPI_MPS_EDGE,
	};
	struct acpi_madt_lapic_nmi nmi = {
		.type = ACPI_MADT_TYPE_LAPIC_NMI,
		.length = sizeof(nmi),
		.processor_uid = ACPI_ALL_PROCESSORS,
		.flags = ACPI_MPS_ACTIVE_HIGH | ACPI_MPS_EDGE,
		.lint = 1,
	};
	size_t off = acpi_table_start(w);

	acpi_header_init(&madt.header, "APIC", ACPI_MADT_REVISION);
	acpi_append(w, &madt, sizeof(madt));
	acpi_madt_lapics(w, m->vcpus);
	acpi_append(w, &ioapic, sizeof(ioapic));
	acpi_append(w, &timer, sizeof(timer));
	acpi_append(w, &nmi, sizeof(nmi));
	acpi_table_seal(w, off);
	return off;
}

/* --- XSDT (§5.2.8) and RSDP (§5.2.5.3) ----------------------------------------------------------- */

static size_t acpi_write_xsdt(struct acpi_writer *w, gpa_t fadt, gpa_t madt)
{
	struct acpi_table_header h = { 0 };
	const uint64_t entries[] = { fadt, madt };
	size_t off = acpi_table_start(w);

	acpi_header_init(&h, "XSDT", 1);
	acpi_append(w, &h, sizeof(h));
	acpi_append(w, entries, sizeof(entries));
	acpi_table_seal(w, off);
	return off;
}

/* The RSDT address stays 0: with revision 2 and an XSDT address, the OS uses the XSDT. */
static void acpi_fill_rsdp(struct acpi_rsdp *r, gpa_t xsdt)
{
	*r = (struct acpi_rsdp){
		.revision = 2,
		.length = sizeof(*r),
		.xsdt_address = xsdt,
	};
	memcpy(r->signature, "RSD PTR ", sizeof(r->signature));
	memcpy(r->oem_id, ACPI_OEM_ID, sizeof(r->oem_id));
	r->checksum = acpi_checksum(r, ACPI_RSDP_V1_LEN);
	r->extended_checksum = acpi_checksum(r, sizeof(*r));
}

/* --- acpi_build ---------------------------------------------------------------------------------- */

/* The window and its end must be addressable by Memory32Fixed. */
static bool acpi_virtio_valid(const struct acpi_virtio_mmio *v)
{
	return v->size != 0 && v->base <= UINT32_MAX && v->size <= UINT32_MAX - v->base + 1;
}

static bool acpi_machine_valid(const struct acpi_machine *m)
{
	if (m->vcpus == 0 || m->vcpus > ACPI_MAX_VCPUS)
		return false;
	/* The MADT holds 32-bit APIC addresses. */
	if (m->ioapic_addr > UINT32_MAX || m->lapic_addr > UINT32_MAX)
		return false;
	if (m->uart_port == 0 || m->uart_irq > 15)
		return false;
	if (m->kbd_data_port && (m->kbd_cmd_port == 0 || m->kbd_irq > 15))
		return false;
	if (m->sleep_control_port == 0 || m->sleep_status_port == 0)
		return false;
	if (m->nvirtio > ACPI_MAX_VIRTIO || (m->nvirtio && !m->virtio))
		return false;
	for (unsigned int i = 0; i < m->nvirtio; i++) {
		if (!acpi_virtio_valid(&m->virtio[i]))
			return false;
	}
	if (m->vmgenid_addr % ACPI_VMGENID_ALIGN || m->vmgenid_addr > UINT64_MAX - ACPI_VMGENID_SIZE)
		return false;
	return true;
}

int acpi_build(const struct acpi_machine *m, void *buf, size_t size, gpa_t base, gpa_t *rsdp_gpa)
{
	struct acpi_writer w = { .buf = buf, .size = size, .base = base };
	const struct acpi_rsdp no_rsdp = { 0 };
	size_t dsdt, fadt, madt, xsdt;

	if (!m || !rsdp_gpa || (!buf && size) || !acpi_machine_valid(m))
		return -EINVAL;
	if (base % ACPI_RSDP_ALIGN || size > UINT64_MAX - base)
		return -EINVAL;

	acpi_append(&w, &no_rsdp, sizeof(no_rsdp)); /* its place, filled at the end */
	dsdt = acpi_write_dsdt(&w, m);
	fadt = acpi_write_fadt(&w, m, acpi_gpa(&w, dsdt));
	madt = acpi_write_madt(&w, m);
	xsdt = acpi_write_xsdt(&w, acpi_gpa(&w, fadt), acpi_gpa(&w, madt));
	if (w.err)
		return w.err;

	acpi_fill_rsdp((struct acpi_rsdp *)w.buf, acpi_gpa(&w, xsdt));
	*rsdp_gpa = base;
	return (int)w.used;
}
