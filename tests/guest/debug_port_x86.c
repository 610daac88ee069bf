// SPDX-License-Identifier: Apache-2.0
/* The guest init's debug port on x86: I/O ports 0xf4 (status) and 0xf5 (boot-ready), through ioperm. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/io.h>

#include "debug_port.h"

#define DEBUG_PORT_BASE 0xf4

int debug_port_open(const char **what)
{
	*what = "ioperm(0xf4)";
	return ioperm(DEBUG_PORT_BASE, 2, 1) < 0 ? -errno : 0;
}

void debug_port_write(unsigned int reg, unsigned char value)
{
	outb(value, DEBUG_PORT_BASE + reg);
}
