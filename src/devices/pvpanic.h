/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pvpanic (QEMU's docs/specs/pvpanic.rst; ACPI _HID "QEMU0001"): one I/O port. A read tells the
 * guest which events the device takes; the guest kernel writes PVPANIC_PANICKED when it panics,
 * which ends the VM with KILN_EXIT_PANIC.
 */
#ifndef KILN_DEVICES_PVPANIC_H
#define KILN_DEVICES_PVPANIC_H

#include <stdint.h>

#include "bus/bus.h"
#include "devices/machine_events.h"

#define PVPANIC_PANICKED 0x01

int pvpanic_init(struct bus *pio, uint16_t port, struct machine_events *events) MUST_CHECK;

#endif
