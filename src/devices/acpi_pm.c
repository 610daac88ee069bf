/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/acpi_pm.h"

#include <string.h>

/* Sleep control register layout, ACPI 6.4 §4.8.3.7: SLP_TYP in bits 2-4, SLP_EN in bit 5. */
#define SLP_TYP(v) (((v) >> 2) & 0x7)
#define SLP_EN 0x20

static void sleep_control_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint8_t value = *(const uint8_t *)data;

	(void)offset;
	(void)len;
	if ((value & SLP_EN) && SLP_TYP(value) == pm->s5_type)
		pm->events->stop(pm->events, KILN_EXIT_POWEROFF);
}

static void sleep_status_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static const struct bus_ops sleep_control_ops = { .write = sleep_control_write };
static const struct bus_ops sleep_status_ops = { .read = sleep_status_read };

int acpi_pm_init(struct acpi_pm *pm, struct bus *pio, uint16_t control_port, uint16_t status_port,
		 uint8_t s5_type, struct machine_events *events)
{
	int rc;

	*pm = (struct acpi_pm){ .events = events, .s5_type = s5_type };
	rc = bus_register(pio, control_port, 1, &sleep_control_ops, pm);
	if (rc == 0)
		rc = bus_register(pio, status_port, 1, &sleep_status_ops, pm);
	return rc;
}
