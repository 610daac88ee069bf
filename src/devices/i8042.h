/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The i8042 keyboard controller, only as far as a guest needs it to reset the machine: writing
 * 0xFE to the command port pulses the reset line (Linux `reboot=k`), which ends the VM.
 */
#ifndef KILN_DEVICES_I8042_H
#define KILN_DEVICES_I8042_H

#include <pthread.h>
#include <stdint.h>

#include "bus/bus.h"
#include "devices/machine_events.h"

struct i8042 {
	pthread_mutex_t lock;
	struct machine_events *events;
	uint8_t command_byte;  /* the controller configuration byte */
	uint8_t pending_cmd;   /* a command waiting for its data byte, or 0 */
	uint8_t output;        /* byte for the guest to read from the data port */
	int output_full;
};

int i8042_init(struct i8042 *k, struct bus *pio, struct machine_events *events) MUST_CHECK;
void i8042_destroy(struct i8042 *k);

#endif
