/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the i8042 controller and its keyboard (devices/i8042.c) under a hostile guest,
 * with Ctrl-Alt-Del pressed from the host side in between. Ports 0x60 and 0x64 go through the PIO
 * bus; the machine's stop callback and the IRQ chip are the target's own.
 *
 * Input: a program of 2-byte steps (op, val). Ports are accessed with 1 byte, or with
 * 1 << ((op >> 5) & 3) bytes when op & 0x80 (wider than the 1-byte ports: unclaimed).
 *   op & 7 = 0 or 7  write val to the data port 0x60
 *            1       write val to the command port 0x64
 *            2       read the data port          3  read the status port
 *            4       the host sends Ctrl-Alt-Del
 *            5       the guest reads the data port while the status says a byte waits
 *            6       the host sends Ctrl-Alt-Del, then the guest reads as in 5
 * After the program the guest enables the keyboard interface (0xAE) and reads everything.
 *
 * Checks: the harness keeps a model of the controller and the keyboard from what the guest wrote
 * (IBM PS/2 Technical Reference, "Keyboard/Auxiliary Device Controller" and "Keyboard"; the
 * keyboard protocol as Linux's atkbd speaks it) and compares:
 * - every data read with the model's output buffer: controller replies before keyboard bytes,
 *   keyboard bytes held while the guest has the interface disabled, the keyboard's answers (ACK,
 *   ECHO, ID, scancode set, NAK, Resend, BAT) in order, what a full buffer drops;
 * - the status register: output buffer full as the model has it, system flag and keylock bits,
 *   bit 3 telling which port was written last, no input-buffer-full or AUX bits;
 * - IRQ 1: up exactly while a byte waits and the configuration byte enables it, only level changes,
 *   a new rising edge for each byte that follows a read;
 * - the reset line: the machine hears KILN_EXIT_RESET exactly for a pulse command with bit 0 clear
 *   or an output-port write (0xD1) with bit 0 clear, each time, and nothing else stops it;
 * - Ctrl-Alt-Del: refused (-EAGAIN, nothing queued) exactly when the guest has not enabled
 *   scanning, the keyboard interface or its interrupt, or the buffer lacks room; else queued whole
 *   in the form the guest chose (translated set 1, or set 1, 2 or 3) and read back in order;
 * - the keyboard's buffer never holds more than I8042_QUEUE_SIZE bytes, and a guest that keeps
 *   reading empties the output buffer within I8042_QUEUE_SIZE + 2 reads.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "devices/i8042.h"
#include "fuzz/fuzz_check.h"

#define KBC_DATA 0x60
#define KBC_CMD 0x64
#define KBC_DRAIN_MAX (I8042_QUEUE_SIZE + 2) /* a controller reply, the output buffer, the queue */

/* Status and configuration bits (the Technical Reference's names). */
#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08
#define ST_UNLOCKED 0x10
#define CTR_INT 0x01
#define CTR_KBD_DISABLED 0x10
#define CTR_AUX_DISABLED 0x20
#define CTR_TRANSLATE 0x40
#define CTR_INITIAL 0x65
#define OUTPORT_INITIAL 0x03
#define KBD_ACK 0xfa
#define KBD_NAK 0xfe

/* What the guest can know from what it wrote: the controller and the keyboard, as a model. */
struct kbc_model {
	uint8_t ctr, outport;
	uint8_t cmd_pending; /* a controller command waiting for its data byte */
	bool last_was_cmd;
	uint8_t out;         /* the output buffer: what a data read returns, also when empty */
	bool out_full;
	uint8_t reply;       /* a controller reply waiting for the output buffer */
	bool reply_pending;
	uint8_t kbd_pending; /* a keyboard command waiting for its parameter */
	bool scanning;
	uint8_t set;
	uint8_t queue[I8042_QUEUE_SIZE]; /* what the keyboard sent and the guest has not read */
	unsigned int head, count;
	uint8_t kbd_last; /* the last byte the keyboard sent, for Resend */
	unsigned int resets;
};

struct kbc_fuzz {
	struct bus pio;
	struct i8042 kbc;
	struct irq_chip chip;
	int line;
	unsigned int rises;
	struct machine_events events;
	unsigned int stops;
	struct kbc_model m;
};

static int kbc_set_level(void *opaque, uint32_t gsi, int level)
{
	struct kbc_fuzz *f = opaque;

	fuzz_check(gsi == I8042_IRQ_KEYBOARD);
	fuzz_check(level != f->line); /* an ISA edge: only changes are signalled */
	f->rises += level;
	f->line = level;
	return 0;
}

static const struct irq_chip_ops kbc_chip_ops = { .set_level = kbc_set_level };

static void kbc_stop(struct machine_events *ev, enum kiln_exit_reason reason)
{
	struct kbc_fuzz *f = container_of(ev, struct kbc_fuzz, events);

	fuzz_check(reason == KILN_EXIT_RESET);
	f->stops++;
}

/* --- the model's buffers ---------------------------------------------------------------------------- */

/* The keyboard sends a byte; a full buffer drops it (a real keyboard's buffer is as small). */
static void kbc_model_push(struct kbc_model *m, uint8_t byte)
{
	if (m->count == I8042_QUEUE_SIZE)
		return;
	m->queue[(m->head + m->count++) % I8042_QUEUE_SIZE] = byte;
	m->kbd_last = byte;
}

/* The output buffer takes a controller reply first, then a keyboard byte unless it is disabled. */
static void kbc_model_fill(struct kbc_model *m)
{
	if (m->out_full)
		return;
	if (m->reply_pending) {
		m->out = m->reply;
		m->reply_pending = false;
		m->out_full = true;
	} else if (m->count > 0 && !(m->ctr & CTR_KBD_DISABLED)) {
		m->out = m->queue[m->head];
		m->head = (m->head + 1) % I8042_QUEUE_SIZE;
		m->count--;
		m->out_full = true;
	}
}

static void kbc_model_reply(struct kbc_model *m, uint8_t byte)
{
	m->reply = byte;
	m->reply_pending = true;
}

/* --- the controller --------------------------------------------------------------------------------- */

static void kbc_model_command(struct kbc_model *m, uint8_t cmd)
{
	m->cmd_pending = 0;
	switch (cmd) {
	case 0x20:
		kbc_model_reply(m, m->ctr);
		break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		m->cmd_pending = cmd;
		break;
	case 0xa7:
		m->ctr |= CTR_AUX_DISABLED;
		break;
	case 0xa8:
		m->ctr &= (uint8_t)~CTR_AUX_DISABLED;
		break;
	case 0xa9:
		kbc_model_reply(m, 0x01); /* AUX interface test: clock line stuck low, i.e. no mouse */
		break;
	case 0xaa:
		kbc_model_reply(m, 0x55); /* self-test passed */
		break;
	case 0xab:
		kbc_model_reply(m, 0x00); /* keyboard interface test passed */
		break;
	case 0xad:
		m->ctr |= CTR_KBD_DISABLED;
		break;
	case 0xae:
		m->ctr &= (uint8_t)~CTR_KBD_DISABLED;
		break;
	case 0xc0:
		kbc_model_reply(m, 0x80); /* input port: keyboard not inhibited */
		break;
	case 0xd0:
		kbc_model_reply(m, m->outport);
		break;
	case 0xe0:
		kbc_model_reply(m, 0x00);
		break;
	default:
		if (cmd >= 0xf0 && !(cmd & 0x01))
			m->resets++; /* a pulse of output port bit 0, the CPU's reset line */
		break;
	}
}

/* --- the keyboard ----------------------------------------------------------------------------------- */

static bool kbc_model_translating(const struct kbc_model *m)
{
	return m->ctr & CTR_TRANSLATE;
}

/* Disable (0xF5), Set Defaults (0xF6), Reset (0xFF): set 2, and the keyboard's buffer emptied. */
static void kbc_model_defaults(struct kbc_model *m, bool scanning)
{
	m->scanning = scanning;
	m->set = 2;
	m->count = 0;
}

/* The parameter of 0xED (LEDs), 0xF3 (typematic) or 0xF0 (scancode set: 0 asks which one). */
static void kbc_model_parameter(struct kbc_model *m, uint8_t cmd, uint8_t byte)
{
	/* What Get Scancode Set answers for sets 1-3 through the controller's translation. */
	static const uint8_t translated_set[4] = { 0, 0x43, 0x41, 0x3f };

	if (cmd != 0xf0) {
		kbc_model_push(m, KBD_ACK);
	} else if (byte == 0) {
		kbc_model_push(m, KBD_ACK);
		kbc_model_push(m, kbc_model_translating(m) ? translated_set[m->set] : m->set);
	} else if (byte <= 3) {
		m->set = byte;
		kbc_model_push(m, KBD_ACK);
	} else {
		kbc_model_push(m, KBD_NAK);
	}
}

static void kbc_model_keyboard(struct kbc_model *m, uint8_t byte)
{
	uint8_t cmd = m->kbd_pending;

	m->kbd_pending = 0;
	if (cmd != 0) {
		kbc_model_parameter(m, cmd, byte);
		return;
	}
	switch (byte) {
	case 0xed: case 0xf0: case 0xf3:
		m->kbd_pending = byte;
		kbc_model_push(m, KBD_ACK);
		break;
	case 0xee:
		kbc_model_push(m, 0xee); /* echo */
		break;
	case 0xf2: /* Get ID: an MF2 keyboard, 0x83 read as 0x41 through translation */
		kbc_model_push(m, KBD_ACK);
		kbc_model_push(m, 0xab);
		kbc_model_push(m, kbc_model_translating(m) ? 0x41 : 0x83);
		break;
	case 0xf4:
		m->scanning = true;
		kbc_model_push(m, KBD_ACK);
		break;
	case 0xf5: case 0xf6:
		kbc_model_defaults(m, byte == 0xf6);
		kbc_model_push(m, KBD_ACK);
		break;
	case 0xfe:
		kbc_model_push(m, m->kbd_last); /* resend */
		break;
	case 0xff:
		kbc_model_defaults(m, true);
		kbc_model_push(m, KBD_ACK);
		kbc_model_push(m, 0xaa); /* self-test passed */
		break;
	default: /* 0xF7-0xFD set key types in set 3; anything else is not a command */
		kbc_model_push(m, byte >= 0xf7 && byte <= 0xfd ? KBD_ACK : KBD_NAK);
		break;
	}
}

static void kbc_model_data(struct kbc_model *m, uint8_t v)
{
	uint8_t cmd = m->cmd_pending;

	m->cmd_pending = 0;
	if (cmd == 0x60) {
		m->ctr = v;
	} else if (cmd == 0xd1) {
		m->outport = v;
		m->resets += !(v & 0x01);
	} else if (cmd == 0xd2 || cmd == 0xd3) {
		kbc_model_reply(m, v); /* comes back as if the keyboard (or the mouse) had sent it */
	} else if (cmd == 0) {
		m->ctr &= (uint8_t)~CTR_KBD_DISABLED; /* talking to the keyboard enables its interface */
		kbc_model_keyboard(m, v);
	}
}

/* --- the ports -------------------------------------------------------------------------------------- */

static uint8_t kbc_status(struct kbc_fuzz *f)
{
	uint8_t st;

	fuzz_check(bus_access(&f->pio, KBC_CMD, &st, 1, false));
	fuzz_check((st & ~(ST_OBF | ST_CMD)) == (ST_SYS | ST_UNLOCKED));
	fuzz_check(!!(st & ST_CMD) == f->m.last_was_cmd);
	fuzz_check(!!(st & ST_OBF) == f->m.out_full);
	return st;
}

static uint8_t kbc_read_data(struct kbc_fuzz *f)
{
	bool line_was_up = f->line;
	unsigned int rises = f->rises;
	uint8_t v;

	fuzz_check(bus_access(&f->pio, KBC_DATA, &v, 1, false));
	fuzz_check(v == f->m.out); /* an empty buffer reads as the last byte */
	f->m.out_full = false;
	kbc_model_fill(&f->m);
	/* The next byte is a new edge: the line dropped for the read and rose again. */
	if (line_was_up && f->line)
		fuzz_check(f->rises == rises + 1);
	return v;
}

static void kbc_write(struct kbc_fuzz *f, bool command_port, uint8_t v)
{
	f->m.last_was_cmd = command_port;
	if (command_port)
		kbc_model_command(&f->m, v);
	else
		kbc_model_data(&f->m, v);
	kbc_model_fill(&f->m);
	fuzz_check(bus_access(&f->pio, command_port ? KBC_CMD : KBC_DATA, &v, 1, true));
}

/* --- Ctrl-Alt-Del ----------------------------------------------------------------------------------- */

/* The bytes of Ctrl, Alt, Delete down and up (reverse order) in the form the guest chose. */
static unsigned int kbc_cad_bytes(const struct kbc_model *m, const uint8_t **bytes)
{
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	static const uint8_t set3[] = { 0x11, 0x19, 0x64, 0xf0, 0x64, 0xf0, 0x19, 0xf0, 0x11 };

	if (kbc_model_translating(m) || m->set == 1) {
		*bytes = set1;
		return sizeof(set1);
	}
	*bytes = m->set == 3 ? set3 : set2;
	return m->set == 3 ? sizeof(set3) : sizeof(set2);
}

/* Queued whole or not at all (-EAGAIN) when the guest does not listen or the buffer lacks room. */
static void kbc_cad(struct kbc_fuzz *f)
{
	struct kbc_model *m = &f->m;
	const uint8_t *bytes;
	unsigned int n = kbc_cad_bytes(m, &bytes);
	bool ok = m->scanning && !(m->ctr & CTR_KBD_DISABLED) && (m->ctr & CTR_INT) &&
		  I8042_QUEUE_SIZE - m->count >= n;

	fuzz_check(i8042_send_ctrl_alt_del(&f->kbc) == (ok ? 0 : -EAGAIN));
	for (unsigned int i = 0; ok && i < n; i++)
		kbc_model_push(m, bytes[i]);
	kbc_model_fill(m);
}

/* The guest reads while a byte waits. */
static void kbc_drain(struct kbc_fuzz *f)
{
	for (unsigned int n = 0; kbc_status(f) & ST_OBF; n++) {
		fuzz_check(n < KBC_DRAIN_MAX);
		kbc_read_data(f);
	}
}

/* --- one run ---------------------------------------------------------------------------------------- */

/* A port access wider than the 1-byte ports: unclaimed, so it changes nothing. */
static void kbc_wide(struct kbc_fuzz *f, uint16_t port, unsigned int width, bool write, uint8_t val)
{
	uint8_t buf[8];

	memset(buf, val, sizeof(buf));
	fuzz_check(!bus_access(&f->pio, port, buf, width, write));
	for (unsigned int i = 0; !write && i < width; i++)
		fuzz_check(buf[i] == 0xff);
}

static void kbc_step(struct kbc_fuzz *f, uint8_t op, uint8_t val)
{
	unsigned int width = (op & 0x80) ? 1u << ((op >> 5) & 3) : 1;
	unsigned int kind = op & 7;

	if (width > 1 && kind <= 3)
		kbc_wide(f, kind == 1 || kind == 3 ? KBC_CMD : KBC_DATA, width, kind <= 1, val);
	else if (kind == 0 || kind == 7)
		kbc_write(f, false, val);
	else if (kind == 1)
		kbc_write(f, true, val);
	else if (kind == 2)
		kbc_read_data(f);
	else if (kind == 3)
		kbc_status(f);
	else if (kind == 4)
		kbc_cad(f);
	else if (kind == 5)
		kbc_drain(f);
	else {
		kbc_cad(f);
		kbc_drain(f);
	}
	fuzz_check(f->kbc.queue_count == f->m.count && f->m.count <= I8042_QUEUE_SIZE);
	fuzz_check(f->line == ((kbc_status(f) & ST_OBF) && (f->m.ctr & CTR_INT)));
	fuzz_check(f->stops == f->m.resets);
}

static struct kbc_fuzz kbc_f;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct kbc_fuzz *f = &kbc_f;

	memset(f, 0, sizeof(*f));
	f->chip = (struct irq_chip){ .ops = &kbc_chip_ops, .opaque = f };
	f->events.stop = kbc_stop;
	f->m = (struct kbc_model){ .ctr = CTR_INITIAL, .outport = OUTPORT_INITIAL, .set = 2 };
	bus_init(&f->pio, "pio", 0xff);
	fuzz_check(i8042_init(&f->kbc, &f->pio, (struct irq_line){ &f->chip, I8042_IRQ_KEYBOARD },
			     &f->events) == 0);
	for (size_t i = 0; i + 1 < len; i += 2)
		kbc_step(f, data[i], data[i + 1]);
	kbc_write(f, true, 0xae);
	kbc_drain(f);
	fuzz_check(f->stops == f->m.resets);
	i8042_destroy(&f->kbc);
	bus_free(&f->pio);
	return 0;
}
