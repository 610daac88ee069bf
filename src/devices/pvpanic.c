/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/pvpanic.h"

#include <string.h>

static void pvpanic_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
	*(uint8_t *)data = PVPANIC_PANICKED; /* the only event kiln acts on */
}

static void pvpanic_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct machine_events *events = opaque;

	(void)offset;
	(void)len;
	if (*(const uint8_t *)data & PVPANIC_PANICKED)
		events->stop(events, KILN_EXIT_PANIC);
}

static const struct bus_ops pvpanic_ops = { .read = pvpanic_read, .write = pvpanic_write };

int pvpanic_init(struct bus *pio, uint16_t port, struct machine_events *events)
{
	return bus_register(pio, port, 1, &pvpanic_ops, events);
}
