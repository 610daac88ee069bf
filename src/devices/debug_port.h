/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln's debug port, two byte registers (I/O ports on x86, MMIO on arm64) the guest (kiln's guest
 * init, or a tiny test guest) writes to:
 *   base + 0: a byte, the guest's exit status; the VM ends at once (KILN_EXIT_STATUS). The guest
 *             flushes its output and its disks before it writes here.
 *   base + 1: the byte DEBUG_PORT_BOOT_READY, the boot-ready marker (`--boot-time`).
 * Reads return 0.
 */
#ifndef KILN_DEVICES_DEBUG_PORT_H
#define KILN_DEVICES_DEBUG_PORT_H

#include <stdint.h>

#include "bus/bus.h"
#include "devices/machine_events.h"

#define DEBUG_PORT_BOOT_READY 1

int debug_port_init(struct bus *bus, uint64_t base, struct machine_events *events) MUST_CHECK;

#endif
