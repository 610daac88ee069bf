/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The i8042 keyboard controller and an MF2 keyboard (IBM PS/2 Hardware Interface Technical
 * Reference, "Keyboard/Auxiliary Device Controller" and "Keyboard and Auxiliary Device").
 *
 * What Linux does with it (drivers/input/serio/i8042.c, drivers/input/keyboard/atkbd.c): the
 * controller is found through the PNP0303 device of kiln's DSDT; the driver flushes the output
 * buffer, reads the configuration byte (CTR) until two reads agree, writes it back with the
 * keyboard interface disabled, sends 0xD1 0xDF (A20 on through the output port) and 0xFF (a null
 * pulse), then enables the keyboard interface and its interrupt. atkbd then sends the keyboard
 * GETID (0xF2: ACK, 0xAB, 0x83, or 0x41 when translated), 0xF5 (disable), 0xED 00 (LEDs),
 * 0xF3 00 (typematic rate) and 0xF4 (enable), each byte answered with ACK (0xFA) through IRQ 1.
 *
 * Translation (CTR bit 6) starts on, as PC firmware leaves it: Linux keeps it, and atkbd then
 * expects scancode set 1 (Ctrl 1D, Alt 38, Delete E0 53; a release has bit 7 set). Without it the
 * keyboard's own set is sent (set 2: 14, 11, E0 71; a release is F0 then the code).
 */
#include "devices/i8042.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "log.h"

/* Status register (read at 0x64). */
#define STATUS_OUTPUT_FULL 0x01
#define STATUS_SYSTEM_FLAG 0x04 /* set after a successful self-test, as firmware leaves it */
#define STATUS_COMMAND 0x08     /* the last write was to the command port */
#define STATUS_UNLOCKED 0x10    /* keyboard not inhibited by the keylock */

/* Configuration byte (CTR). */
#define CTR_KBD_INT 0x01
#define CTR_SYSTEM_FLAG 0x04
#define CTR_KBD_DISABLED 0x10
#define CTR_AUX_DISABLED 0x20
#define CTR_TRANSLATE 0x40
/* What PC firmware leaves: keyboard interrupt on, POST passed, no AUX, translation on. */
#define CTR_INITIAL (CTR_KBD_INT | CTR_SYSTEM_FLAG | CTR_AUX_DISABLED | CTR_TRANSLATE)

/* Controller commands (written to 0x64). */
#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_INPUT 0xc0
#define CMD_READ_OUTPORT 0xd0
#define CMD_WRITE_OUTPORT 0xd1
#define CMD_WRITE_KBD_OUT 0xd2
#define CMD_WRITE_AUX_OUT 0xd3
#define CMD_WRITE_AUX 0xd4
#define CMD_READ_TEST_INPUTS 0xe0
#define CMD_PULSE_FIRST 0xf0 /* 0xF0-0xFF pulse output port bits 0-3 low for each clear bit */
#define CMD_PULSE_RESET 0xfe

#define SELF_TEST_PASSED 0x55
#define KBD_TEST_PASSED 0x00
#define AUX_TEST_NO_PORT 0x01 /* "clock line stuck low": Linux then takes the AUX port as absent */
#define INPUT_PORT 0x80       /* keyboard not inhibited */
#define OUTPORT_RESET 0x01    /* bit 0: the CPU's reset line, active low */
#define OUTPORT_INITIAL 0x03  /* reset line high, A20 on */

/* Keyboard commands and replies. */
#define KBD_SET_LEDS 0xed
#define KBD_ECHO 0xee
#define KBD_SCANCODE_SET 0xf0
#define KBD_GET_ID 0xf2
#define KBD_SET_TYPEMATIC 0xf3
#define KBD_ENABLE 0xf4
#define KBD_DISABLE 0xf5 /* and restore defaults */
#define KBD_DEFAULTS 0xf6
#define KBD_SET3_FIRST 0xf7 /* 0xF7-0xFD: scancode set 3 key types */
#define KBD_SET3_LAST 0xfd
#define KBD_RESEND 0xfe
#define KBD_RESET 0xff
#define KBD_ACK 0xfa
#define KBD_NAK 0xfe /* "resend": the keyboard did not understand */
#define KBD_BAT_OK 0xaa
#define KBD_ID0 0xab
#define KBD_ID1 0x83
#define KBD_ID1_TRANSLATED 0x41 /* 0x83 after the controller's translation */

/* A key: its make code in each scancode set, and whether it has the E0 prefix (sets 1 and 2). */
struct key {
	uint8_t set1, set2, set3;
	bool extended;
};

static const struct key key_left_ctrl = { .set1 = 0x1d, .set2 = 0x14, .set3 = 0x11 };
static const struct key key_left_alt = { .set1 = 0x38, .set2 = 0x11, .set3 = 0x19 };
static const struct key key_delete = { .set1 = 0x53, .set2 = 0x71, .set3 = 0x64, .extended = true };

#define SET23_BREAK 0xf0
#define EXTENDED_PREFIX 0xe0
#define SET1_BREAK_BIT 0x80
/* The scancode set 1 values the keyboard reports for sets 1-3 when the controller translates. */
static const uint8_t translated_set_number[4] = { 0, 0x43, 0x41, 0x3f };

/* --- the keyboard's buffer ------------------------------------------------------------------------ */

static unsigned int queue_free(const struct i8042 *k)
{
	return I8042_QUEUE_SIZE - k->queue_count;
}

/* A byte from the keyboard; dropped when the buffer is full (the guest has not been reading). */
static void queue_push(struct i8042 *k, uint8_t byte)
{
	if (k->queue_count == I8042_QUEUE_SIZE) {
		log_guest(LOG_DEBUG, "i8042", "keyboard buffer full: byte 0x%02x dropped", byte);
		return;
	}
	k->queue[(k->queue_head + k->queue_count) % I8042_QUEUE_SIZE] = byte;
	k->queue_count++;
	k->kbd_last = byte;
}

static uint8_t queue_pop(struct i8042 *k)
{
	uint8_t byte = k->queue[k->queue_head];

	k->queue_head = (k->queue_head + 1) % I8042_QUEUE_SIZE;
	k->queue_count--;
	return byte;
}

static bool translating(const struct i8042 *k)
{
	return (k->ctr & CTR_TRANSLATE) != 0;
}

/*
 * Moves the next byte into an empty output buffer: a controller reply first, then the keyboard's,
 * which waits while the guest has the keyboard interface disabled.
 */
static void fill_output(struct i8042 *k)
{
	if (k->out_full)
		return;
	if (k->reply_pending) {
		k->out = k->reply;
		k->reply_pending = false;
		k->out_full = true;
	} else if (k->queue_count > 0 && !(k->ctr & CTR_KBD_DISABLED)) {
		k->out = queue_pop(k);
		k->out_full = true;
	}
}

/* IRQ 1 is up while a byte waits and the guest enabled the keyboard interrupt (an ISA edge). */
static void update_irq(struct i8042 *k)
{
	int level = k->out_full && (k->ctr & CTR_KBD_INT);

	if (level != k->irq_level) {
		k->irq_level = level;
		irq_line_set(&k->irq, level);
	}
}

/* --- the keyboard --------------------------------------------------------------------------------- */

/* Power-on defaults (0xF5, 0xF6, 0xFF): the keyboard's buffer is emptied too. */
static void keyboard_defaults(struct i8042 *k, bool scanning)
{
	k->scanning = scanning;
	k->scancode_set = 2;
	k->kbd_pending = 0;
	k->queue_count = 0;
}

/* The parameter byte of 0xED, 0xF0 or 0xF3. */
static void keyboard_parameter(struct i8042 *k, uint8_t cmd, uint8_t value)
{
	if (cmd != KBD_SCANCODE_SET) { /* LEDs and typematic rate: nothing to show or repeat */
		queue_push(k, KBD_ACK);
	} else if (value == 0) {
		queue_push(k, KBD_ACK);
		queue_push(k, translating(k) ? translated_set_number[k->scancode_set] : k->scancode_set);
	} else if (value <= 3) {
		k->scancode_set = value;
		queue_push(k, KBD_ACK);
	} else {
		queue_push(k, KBD_NAK);
	}
}

/* A byte the guest writes to the data port with no controller command pending. */
static void keyboard_write(struct i8042 *k, uint8_t byte)
{
	uint8_t cmd = k->kbd_pending;

	if (cmd != 0) {
		k->kbd_pending = 0;
		keyboard_parameter(k, cmd, byte);
		return;
	}
	switch (byte) {
	case KBD_SET_LEDS:
	case KBD_SCANCODE_SET:
	case KBD_SET_TYPEMATIC:
		k->kbd_pending = byte;
		queue_push(k, KBD_ACK);
		break;
	case KBD_ECHO:
		queue_push(k, KBD_ECHO);
		break;
	case KBD_GET_ID:
		queue_push(k, KBD_ACK);
		queue_push(k, KBD_ID0);
		queue_push(k, translating(k) ? KBD_ID1_TRANSLATED : KBD_ID1);
		break;
	case KBD_ENABLE:
		k->scanning = true;
		queue_push(k, KBD_ACK);
		break;
	case KBD_DISABLE:
	case KBD_DEFAULTS:
		keyboard_defaults(k, byte == KBD_DEFAULTS);
		queue_push(k, KBD_ACK);
		break;
	case KBD_RESEND:
		queue_push(k, k->kbd_last);
		break;
	case KBD_RESET:
		keyboard_defaults(k, true);
		queue_push(k, KBD_ACK);
		queue_push(k, KBD_BAT_OK);
		break;
	default:
		if (byte >= KBD_SET3_FIRST && byte <= KBD_SET3_LAST)
			queue_push(k, KBD_ACK);
		else
			queue_push(k, KBD_NAK);
		break;
	}
}

/* The bytes of one key going down or up in the form the guest reads; returns how many. */
static unsigned int key_bytes(const struct i8042 *k, const struct key *key, bool release, uint8_t out[3])
{
	unsigned int n = 0;

	if (translating(k) || k->scancode_set == 1) {
		if (key->extended)
			out[n++] = EXTENDED_PREFIX;
		out[n++] = (uint8_t)(key->set1 | (release ? SET1_BREAK_BIT : 0));
	} else if (k->scancode_set == 3) {
		if (release)
			out[n++] = SET23_BREAK;
		out[n++] = key->set3;
	} else {
		if (key->extended)
			out[n++] = EXTENDED_PREFIX;
		if (release)
			out[n++] = SET23_BREAK;
		out[n++] = key->set2;
	}
	return n;
}

/* --- the controller ------------------------------------------------------------------------------- */

static void reply(struct i8042 *k, uint8_t byte)
{
	k->reply = byte;
	k->reply_pending = true;
}

/* A command written to 0x64; returns true if it pulses the reset line. */
static bool controller_command(struct i8042 *k, uint8_t cmd)
{
	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_READ_CTR:
		reply(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPORT:
	case CMD_WRITE_KBD_OUT:
	case CMD_WRITE_AUX_OUT:
	case CMD_WRITE_AUX:
		k->pending_cmd = cmd;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUX_DISABLED;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= (uint8_t)~CTR_AUX_DISABLED;
		break;
	case CMD_AUX_TEST:
		reply(k, AUX_TEST_NO_PORT);
		break;
	case CMD_SELF_TEST:
		reply(k, SELF_TEST_PASSED);
		break;
	case CMD_KBD_TEST:
		reply(k, KBD_TEST_PASSED);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBD_DISABLED;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= (uint8_t)~CTR_KBD_DISABLED;
		break;
	case CMD_READ_INPUT:
		reply(k, INPUT_PORT);
		break;
	case CMD_READ_OUTPORT:
		reply(k, k->outport);
		break;
	case CMD_READ_TEST_INPUTS:
		reply(k, 0);
		break;
	default:
		/* 0xF0-0xFF pulse the output port bits whose command bit is clear; bit 0 resets. */
		if (cmd >= CMD_PULSE_FIRST)
			return !(cmd & OUTPORT_RESET);
		log_guest(LOG_DEBUG, "i8042", "controller command 0x%02x ignored", cmd);
		break;
	}
	return false;
}

/* A byte written to 0x60; returns true if it drives the reset line low. */
static bool data_write(struct i8042 *k, uint8_t value)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = value;
		break;
	case CMD_WRITE_OUTPORT:
		k->outport = value;
		return !(value & OUTPORT_RESET);
	case CMD_WRITE_KBD_OUT: /* the byte comes back as if the keyboard had sent it */
	case CMD_WRITE_AUX_OUT: /* no AUX port: the byte comes back without AUX status, a failed loop test */
		reply(k, value);
		break;
	case CMD_WRITE_AUX: /* no mouse to send it to */
		break;
	default:
		/* Talking to the keyboard re-enables its interface, as on real controllers. */
		k->ctr &= (uint8_t)~CTR_KBD_DISABLED;
		keyboard_write(k, value);
		break;
	}
	return false;
}

/* --- the ports ------------------------------------------------------------------------------------ */

static void i8042_data_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct i8042 *k = opaque;
	uint8_t value;

	(void)offset;
	pthread_mutex_lock(&k->lock);
	value = k->out; /* an empty buffer reads as the last byte, as on real controllers */
	k->out_full = false;
	update_irq(k);  /* the line drops, so the next byte makes a new edge */
	fill_output(k);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	memset(data, 0, len);
	*(uint8_t *)data = value;
}

static void i8042_status_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct i8042 *k = opaque;
	uint8_t value = STATUS_SYSTEM_FLAG | STATUS_UNLOCKED;

	(void)offset;
	pthread_mutex_lock(&k->lock);
	if (k->out_full)
		value |= STATUS_OUTPUT_FULL;
	if (k->last_was_cmd)
		value |= STATUS_COMMAND;
	pthread_mutex_unlock(&k->lock);
	memset(data, 0, len);
	*(uint8_t *)data = value;
}

/* Both ports take the low byte of a wider write. */
static void i8042_write(struct i8042 *k, bool command_port, uint8_t value)
{
	bool reset;

	pthread_mutex_lock(&k->lock);
	k->last_was_cmd = command_port;
	reset = command_port ? controller_command(k, value) : data_write(k, value);
	fill_output(k);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		k->events->stop(k->events, KILN_EXIT_RESET);
}

static void i8042_data_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	(void)offset;
	(void)len;
	i8042_write(opaque, false, *(const uint8_t *)data);
}

static void i8042_command_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	(void)offset;
	(void)len;
	i8042_write(opaque, true, *(const uint8_t *)data);
}

/* The controller's two ports are 4 apart: data at 0x60, command/status at 0x64. */
static const struct bus_ops i8042_data_ops = { .read = i8042_data_read, .write = i8042_data_write };
static const struct bus_ops i8042_command_ops = { .read = i8042_status_read,
						  .write = i8042_command_write };

int i8042_init(struct i8042 *k, struct bus *pio, struct irq_line irq, struct machine_events *events)
{
	int rc;

	*k = (struct i8042){
		.events = events,
		.irq = irq,
		.ctr = CTR_INITIAL,
		.outport = OUTPORT_INITIAL,
		.scancode_set = 2,
	};
	/* The keyboard starts disabled: keystrokes wait until the guest's driver enables it. */
	keyboard_defaults(k, false);
	pthread_mutex_init(&k->lock, NULL);
	rc = bus_register(pio, X86_PORT_I8042_DATA, 1, &i8042_data_ops, k);
	if (rc == 0)
		rc = bus_register(pio, X86_PORT_I8042_CMD, 1, &i8042_command_ops, k);
	return rc;
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

int i8042_send_ctrl_alt_del(struct i8042 *k)
{
	static const struct key *const keys[] = { &key_left_ctrl, &key_left_alt, &key_delete };
	uint8_t bytes[2 * ARRAY_SIZE(keys) * 3];
	unsigned int n = 0;
	int rc = 0;

	pthread_mutex_lock(&k->lock);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		n += key_bytes(k, keys[i], false, bytes + n);
	for (size_t i = ARRAY_SIZE(keys); i-- > 0;)
		n += key_bytes(k, keys[i], true, bytes + n);
	if (!k->scanning || (k->ctr & CTR_KBD_DISABLED) || !(k->ctr & CTR_KBD_INT) || queue_free(k) < n) {
		rc = -EAGAIN;
	} else {
		for (unsigned int i = 0; i < n; i++)
			queue_push(k, bytes[i]);
		fill_output(k);
		update_irq(k);
	}
	pthread_mutex_unlock(&k->lock);
	return rc;
}

/* KBDC/0 layout: u8 ctr, outport, pending_cmd, bool last_was_cmd, u8 out, bool out_full, u8 reply,
 * bool reply_pending, bool scanning, u32 scancode_set, u8 kbd_pending, kbd_last, u32 irq_level,
 * u32 queue_head, u32 queue_count, the queue's I8042_QUEUE_SIZE bytes. */
void i8042_save(struct i8042 *k, struct snap_writer *w)
{
	pthread_mutex_lock(&k->lock);
	snap_begin(w, I8042_SNAP_TAG, 0);
	snap_put_u8(w, k->ctr);
	snap_put_u8(w, k->outport);
	snap_put_u8(w, k->pending_cmd);
	snap_put_bool(w, k->last_was_cmd);
	snap_put_u8(w, k->out);
	snap_put_bool(w, k->out_full);
	snap_put_u8(w, k->reply);
	snap_put_bool(w, k->reply_pending);
	snap_put_bool(w, k->scanning);
	snap_put_u32(w, k->scancode_set);
	snap_put_u8(w, k->kbd_pending);
	snap_put_u8(w, k->kbd_last);
	snap_put_u32(w, (uint32_t)k->irq_level);
	snap_put_u32(w, k->queue_head);
	snap_put_u32(w, k->queue_count);
	snap_put_bytes(w, k->queue, sizeof(k->queue));
	snap_end(w);
	pthread_mutex_unlock(&k->lock);
}

int i8042_load(struct i8042 *k, const struct snap_reader *r, char *why, size_t whylen)
{
	struct snap_cursor c;

	if (snap_open_section(r, I8042_SNAP_TAG, 0, &c) < 0)
		return fail_with(why, whylen, -EINVAL, "it has no keyboard controller state");
	pthread_mutex_lock(&k->lock);
	k->ctr = snap_get_u8(&c);
	k->outport = snap_get_u8(&c);
	k->pending_cmd = snap_get_u8(&c);
	k->last_was_cmd = snap_get_bool(&c);
	k->out = snap_get_u8(&c);
	k->out_full = snap_get_bool(&c);
	k->reply = snap_get_u8(&c);
	k->reply_pending = snap_get_bool(&c);
	k->scanning = snap_get_bool(&c);
	k->scancode_set = (uint8_t)snap_get_u32_in(&c, 1, 3);
	k->kbd_pending = snap_get_u8(&c);
	k->kbd_last = snap_get_u8(&c);
	k->irq_level = (int)snap_get_u32_in(&c, 0, 1);
	k->queue_head = snap_get_u32_in(&c, 0, I8042_QUEUE_SIZE - 1);
	k->queue_count = snap_get_u32_in(&c, 0, I8042_QUEUE_SIZE);
	snap_get_bytes(&c, k->queue, sizeof(k->queue));
	int rc = snap_cursor_finish(&c);
	pthread_mutex_unlock(&k->lock);
	return rc < 0 ? fail_with(why, whylen, -EBADMSG, "its keyboard controller state is malformed") : 0;
}
