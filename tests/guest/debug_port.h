/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln's debug device as the guest init sees it: two byte registers (src/devices/debug_port.h),
 * +0 the exit status (kiln ends the VM there), +1 the boot-ready marker. Where they are differs per
 * architecture: build.sh links init.c with one of debug_port_x86.c (I/O ports 0xf4-0xf5) or
 * debug_port_arm64.c (MMIO, found in the device tree).
 */
#ifndef KILN_GUEST_DEBUG_PORT_H
#define KILN_GUEST_DEBUG_PORT_H

#define DEBUG_PORT_STATUS 0	/* the exit status byte */
#define DEBUG_PORT_READY 1	/* the boot-ready marker */

/* Makes the registers writable; 0, or -errno with *what naming the step that failed. */
int debug_port_open(const char **what);
/* Writes VALUE to register REG (DEBUG_PORT_*); only after debug_port_open() returned 0. */
void debug_port_write(unsigned int reg, unsigned char value);

#endif
