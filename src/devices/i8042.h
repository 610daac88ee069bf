/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The i8042 keyboard controller with an MF2 keyboard behind it, as far as Linux's i8042 and atkbd
 * drivers need them, so that a control plane can press Ctrl-Alt-Del; and, as before, the reset
 * line: 0xFE on the command port (Linux `reboot=k`) ends the VM. No mouse (AUX) port.
 *
 * The guest reads one byte at a time from the output buffer (port 0x60); each byte the keyboard
 * sends raises IRQ 1 (an ISA edge: the line drops when the guest reads the byte and rises again
 * for the next). The keyboard's own buffer holds I8042_QUEUE_SIZE bytes, like a real keyboard's;
 * replies that do not fit are dropped, so nothing the guest writes makes it grow.
 */
#ifndef KILN_DEVICES_I8042_H
#define KILN_DEVICES_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "devices/machine_events.h"
#include "irq/irq.h"
#include "snapshot/snap_file.h"

#define I8042_IRQ_KEYBOARD 1 /* the ISA IRQ of the keyboard */
#define I8042_QUEUE_SIZE 16  /* bytes the keyboard buffers before the guest reads them */

struct i8042 {
	pthread_mutex_t lock;
	struct machine_events *events;
	struct irq_line irq;
	int irq_level;

	/* The controller. */
	uint8_t ctr;          /* the configuration byte ("command byte") */
	uint8_t outport;      /* the output port: bit 0 is the reset line (active low) */
	uint8_t pending_cmd;  /* a controller command waiting for its data byte, or 0 */
	bool last_was_cmd;    /* status bit 3: the last write went to the command port */
	uint8_t out;          /* the output buffer, as the guest reads it at 0x60 */
	bool out_full;
	uint8_t reply;        /* a controller reply waiting for the output buffer */
	bool reply_pending;

	/* The keyboard. */
	bool scanning;        /* enabled by the guest (0xF4): keystrokes may be sent */
	uint8_t scancode_set; /* 1, 2 or 3 (2 after reset) */
	uint8_t kbd_pending;  /* a keyboard command waiting for its parameter byte, or 0 */
	uint8_t kbd_last;     /* the last byte sent, for Resend (0xFE) */
	uint8_t queue[I8042_QUEUE_SIZE];
	unsigned int queue_head, queue_count;
};

/* Registers ports 0x60 and 0x64 on the PIO bus; irq is the keyboard's line (ISA IRQ 1). */
int i8042_init(struct i8042 *k, struct bus *pio, struct irq_line irq, struct machine_events *events)
	MUST_CHECK;
void i8042_destroy(struct i8042 *k);

/*
 * Snapshots: section KBDC/0 holds the controller's and the keyboard's registers and buffer.
 * load checks each value (scancode set, buffer indices) and sets no interrupt line: the interrupt
 * controllers' own state comes back with the machine's.
 */
#define I8042_SNAP_TAG SNAP_TAG('K', 'B', 'D', 'C')
void i8042_save(struct i8042 *k, struct snap_writer *w);
int i8042_load(struct i8042 *k, const struct snap_reader *r, char *why, size_t whylen) MUST_CHECK;

/*
 * Presses and releases Ctrl, Alt and Delete (make codes, then break codes in reverse order), in the
 * scancode form the guest asked for (set 1 when the controller translates), and raises IRQ 1.
 * -EAGAIN when the guest has not enabled the keyboard yet (its driver is not listening) or has
 * not yet read enough of what the keyboard sent before for all the bytes to fit; nothing is
 * queued then.
 */
int i8042_send_ctrl_alt_del(struct i8042 *k) MUST_CHECK;

#endif
