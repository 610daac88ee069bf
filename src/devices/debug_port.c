/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/debug_port.h"

#include "log.h"

static void debug_port_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct machine_events *events = opaque;
	uint8_t value = *(const uint8_t *)data;

	(void)len;
	if (offset == 0)
		events->guest_status(events, value);
	else if (value == DEBUG_PORT_BOOT_READY)
		events->boot_ready(events);
	else
		log_guest(LOG_DEBUG, "debug-port", "unknown marker %u", value);
}

static const struct bus_ops debug_port_ops = { .write = debug_port_write };

int debug_port_init(struct bus *bus, uint64_t base, struct machine_events *events)
{
	return bus_register(bus, base, 2, &debug_port_ops, events);
}
