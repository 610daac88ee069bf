/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ACPI tables kiln gives an x86 guest: RSDP, XSDT, FADT (hardware-reduced), MADT and a DSDT
 * describing COM1, the i8042 keyboard, pvpanic, the virtio-mmio devices, the VM Generation ID with
 * the Generic Event Device that notifies it, and \_S5_ (ACPI 6.5).
 */
#ifndef KILN_ARCH_X86_ACPI_H
#define KILN_ARCH_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "util.h" /* gpa_t, MUST_CHECK */

/*
 * The sleep type _S5_ gives; the guest writes it to the sleep control register. Hardware-reduced
 * sleep (ACPI 6.5 §4.8.3.7): the guest writes SLP_TYP << 2 | SLP_EN (1 << 5) to SLEEP_CONTROL_REG,
 * so a poweroff is the byte 0x34; bits 0, 1, 6 and 7 are reserved. Before that Linux writes
 * WAK_STS (1 << 7) to SLEEP_STATUS_REG to clear it, and after it polls that register for WAK_STS.
 */
#define ACPI_S5_SLP_TYP 5

/* xAPIC ids are 8-bit and 0xff is the broadcast id; the IOAPIC takes the id after the last vCPU. */
#define ACPI_MAX_VCPUS 254
/* Virtio-mmio devices are named VR00-VRFF in the DSDT. */
#define ACPI_MAX_VIRTIO 256
/* The VM Generation ID: 16 bytes, 16-byte aligned so that they lie in one page. */
#define ACPI_VMGENID_SIZE 16
#define ACPI_VMGENID_ALIGN 16
/* The notification the GED's _EVT sends the vmgenid device (device-specific, §5.6.6). */
#define ACPI_VMGENID_NOTIFY 0x80

struct acpi_virtio_mmio {
	gpa_t base;    /* MMIO window, below 4 GiB */
	uint32_t size; /* 0x1000 */
	uint32_t gsi;
};

struct acpi_machine {
	unsigned int vcpus;          /* one LAPIC (APIC id = processor UID = index) per vCPU */
	gpa_t ioapic_addr;           /* IOAPIC, GSI base 0, its APIC id = vcpus (after the LAPICs) */
	gpa_t lapic_addr;
	uint16_t uart_port;          /* 16550 COM1: _HID PNP0501, IO port, 8 ports, IRQ uart_irq */
	uint8_t uart_irq;            /* an ISA IRQ, 0-15 */
	uint16_t kbd_data_port;      /* i8042 keyboard: _HID PNP0303, IO data and command ports (1 */
	uint16_t kbd_cmd_port;       /* byte each), IRQ kbd_irq (ISA, 0-15); data port 0 = none */
	uint8_t kbd_irq;
	uint16_t sleep_control_port; /* FADT SLEEP_CONTROL_REG (1 byte, system I/O) */
	uint16_t sleep_status_port;  /* FADT SLEEP_STATUS_REG (1 byte, system I/O) */
	uint16_t pvpanic_port;       /* pvpanic: _HID "QEMU0001", IO port, 1 byte; 0 = none */
	const struct acpi_virtio_mmio *virtio; /* each a Device with _HID "LNRO0005", _UID index */
	unsigned int nvirtio;
	gpa_t vmgenid_addr;          /* VM Generation ID: Device VGEN, ADDR = this; 0 = none */
	uint32_t ged_gsi;            /* with it: Device GED0 (ACPI0013), whose interrupt notifies VGEN */
};

/*
 * Writes RSDP, XSDT, FADT, MADT and DSDT into buf, which the guest will see at guest-physical
 * address base (the RSDP first, at base, which must be 16-byte aligned). Returns the bytes used, or
 * -ENOSPC if size is too small (nothing is written past size), or -EINVAL for a bad machine
 * description. *rsdp_gpa receives the RSDP's address.
 */
int acpi_build(const struct acpi_machine *m, void *buf, size_t size, gpa_t base, gpa_t *rsdp_gpa)
	MUST_CHECK;

#endif
