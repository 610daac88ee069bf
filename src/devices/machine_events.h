/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a device may tell the machine that owns it: the guest reset or powered off, reported its
 * exit status (which ends the VM), reached its boot-ready marker. The VM implements these; devices never see the VM itself.
 * Every callback may run on any vCPU thread.
 */
#ifndef KILN_DEVICES_MACHINE_EVENTS_H
#define KILN_DEVICES_MACHINE_EVENTS_H

#include <kiln/kiln.h>

struct machine_events {
	void (*stop)(struct machine_events *ev, enum kiln_exit_reason reason);
	void (*guest_status)(struct machine_events *ev, int status);
	void (*boot_ready)(struct machine_events *ev);
};

#endif
