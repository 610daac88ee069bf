/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware-reduced ACPI sleep registers (ACPI 6.4 §4.8.3.7, named in the FADT). Writing
 * SLP_EN with the S5 sleep type from the DSDT's \_S5_ object powers the machine off.
 */
#ifndef KILN_DEVICES_ACPI_PM_H
#define KILN_DEVICES_ACPI_PM_H

#include <stdint.h>

#include "bus/bus.h"
#include "devices/machine_events.h"

struct acpi_pm {
	struct machine_events *events;
	uint8_t s5_type; /* \_S5_'s sleep type */
};

/* control_port: SLEEP_CONTROL_REG; status_port: SLEEP_STATUS_REG (reads 0). */
int acpi_pm_init(struct acpi_pm *pm, struct bus *pio, uint16_t control_port, uint16_t status_port,
		 uint8_t s5_type, struct machine_events *events) MUST_CHECK;

#endif
