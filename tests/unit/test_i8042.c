/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devices/i8042.c: the controller and keyboard driven through ports 0x60/0x64 as Linux's i8042 and
 * atkbd drivers drive them (each keyboard byte read in "interrupt handlers" called on IRQ 1 edges),
 * Ctrl-Alt-Del in each scancode form, the bound on what the keyboard buffers, and the reset line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/i8042.h"
#include "support/snap_image.h"

#define DATA 0x60
#define CMD 0x64
#define STATUS_OBF 0x01
#define CTR_INITIAL 0x65 /* KBDINT, SYS, AUXDIS, XLATE */
#define CTR_KBDINT 0x01
#define CTR_KBDDIS 0x10
#define CTR_XLATE 0x40
#define ACK 0xfa

struct fake_chip {
	int level;
	int edges; /* rising edges: what an ISA IRQ delivers */
};

static int fake_set_level(void *opaque, uint32_t gsi, int level)
{
	struct fake_chip *c = opaque;

	assert_int_equal(gsi, I8042_IRQ_KEYBOARD);
	if (level && !c->level)
		c->edges++;
	c->level = level;
	return 0;
}

static const struct irq_chip_ops fake_ops = { .set_level = fake_set_level };

struct fake_machine {
	struct machine_events events;
	int stops;
	enum kiln_exit_reason reason;
};

static void fake_stop(struct machine_events *ev, enum kiln_exit_reason reason)
{
	struct fake_machine *m = container_of(ev, struct fake_machine, events);

	m->stops++;
	m->reason = reason;
}

struct fixture {
	struct bus pio;
	struct i8042 kbc;
	struct fake_chip chip_state;
	struct irq_chip chip;
	struct fake_machine machine;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.chip = (struct irq_chip){ .ops = &fake_ops, .opaque = &f.chip_state };
	f.machine.events.stop = fake_stop;
	bus_init(&f.pio, "pio", 0xff);
	assert_int_equal(i8042_init(&f.kbc, &f.pio, (struct irq_line){ &f.chip, I8042_IRQ_KEYBOARD },
				    &f.machine.events),
			 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	i8042_destroy(&f->kbc);
	bus_free(&f->pio);
	return 0;
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
	uint8_t v;

	assert_true(bus_access(&f->pio, port, &v, 1, false));
	return v;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
	assert_true(bus_access(&f->pio, port, &v, 1, true));
}

/* Linux's __i8042_command with one result byte, polling the status register for it. */
static uint8_t command_reply(struct fixture *f, uint8_t cmd)
{
	outb(f, CMD, cmd);
	assert_true(inb(f, CMD) & STATUS_OBF);
	return inb(f, DATA);
}

static void write_ctr(struct fixture *f, uint8_t ctr)
{
	outb(f, CMD, 0x60);
	outb(f, DATA, ctr);
	assert_int_equal(command_reply(f, 0x20), ctr);
}

/*
 * What the guest's IRQ 1 handler reads: one byte per rising edge, as i8042_interrupt does. Fails
 * if a byte arrives without its own edge. Returns the number of bytes read into got.
 */
static size_t take_interrupt_bytes(struct fixture *f, uint8_t *got, size_t cap)
{
	size_t n = 0;
	int seen = f->chip_state.edges - (f->chip_state.level ? 1 : 0);

	while (f->chip_state.level) {
		assert_true(n < cap);
		assert_int_equal(f->chip_state.edges, seen + 1); /* a new edge for this byte */
		seen = f->chip_state.edges;
		assert_true(inb(f, CMD) & STATUS_OBF);
		got[n++] = inb(f, DATA);
	}
	assert_false(inb(f, CMD) & STATUS_OBF);
	return n;
}

/* Sends bytes to the keyboard and checks what comes back through IRQ 1. */
static void kbd_exchange(struct fixture *f, const uint8_t *send, size_t nsend, const uint8_t *want,
			 size_t nwant)
{
	uint8_t got[64];
	size_t n = 0;

	for (size_t i = 0; i < nsend; i++) {
		outb(f, DATA, send[i]);
		n += take_interrupt_bytes(f, got + n, sizeof(got) - n);
	}
	assert_int_equal(n, nwant);
	assert_memory_equal(got, want, nwant);
}

#define EXCHANGE(f, send, ...)                                                                  \
	do {                                                                                    \
		static const uint8_t s_[] = send;                                               \
		static const uint8_t w_[] = { __VA_ARGS__ };                                   \
		kbd_exchange(f, s_, sizeof(s_), w_, sizeof(w_));                                \
	} while (0)
#define BYTES(...) { __VA_ARGS__ }

/* i8042_controller_check, _init, platform_init and setup_kbd, in Linux's order. */
static void linux_probes_controller(struct fixture *f)
{
	uint8_t status = inb(f, CMD);

	assert_false(status & STATUS_OBF);      /* i8042_flush: nothing stale */
	assert_true(status & 0x10);             /* keyboard not inhibited: no "Keylock active" */
	assert_int_equal(command_reply(f, 0xaa), 0x55); /* self-test (i8042.reset) */
	assert_int_equal(command_reply(f, 0x20), CTR_INITIAL);
	assert_int_equal(command_reply(f, 0x20), CTR_INITIAL); /* a stable read */
	write_ctr(f, (CTR_INITIAL | CTR_KBDDIS) & ~CTR_KBDINT);
	assert_int_equal(command_reply(f, 0xab), 0x00); /* keyboard interface test */
	outb(f, CMD, 0xd1);                             /* A20 on through the output port */
	outb(f, DATA, 0xdf);
	outb(f, CMD, 0xff);                             /* the null pulse for SMM firmware */
	assert_int_equal(command_reply(f, 0xd0), 0xdf);
	write_ctr(f, (CTR_INITIAL & ~CTR_KBDDIS) | CTR_KBDINT); /* i8042_enable_kbd_port */
	assert_int_equal(f->machine.stops, 0);
}

/* atkbd_probe, atkbd_reset_state and atkbd_activate on a translating controller. */
static void atkbd_connects(struct fixture *f)
{
	EXCHANGE(f, BYTES(0xf2), ACK, 0xab, 0x41); /* GETID: 0xab83, translated */
	EXCHANGE(f, BYTES(0xf5), ACK);             /* deactivate */
	EXCHANGE(f, BYTES(0xed, 0x00), ACK, ACK);  /* LEDs off */
	EXCHANGE(f, BYTES(0xf3, 0x00), ACK, ACK);  /* typematic rate */
	EXCHANGE(f, BYTES(0xf4), ACK);             /* enable */
}

static void test_controller_probe_like_linux(void **state)
{
	struct fixture *f = *state;

	linux_probes_controller(f);
	/*
	 * IRQ 1 follows the output buffer only while the CTR's interrupt bit is on: the first three
	 * replies (the firmware left it on) and the CTR read back after enabling it again.
	 */
	assert_int_equal(f->chip_state.edges, 4);
	assert_int_equal(f->chip_state.level, 0);
	/* Unknown commands and AUX commands leave the controller usable. */
	outb(f, CMD, 0x42);
	assert_int_equal(command_reply(f, 0xa9), 0x01); /* no AUX port */
	outb(f, CMD, 0xd3);                              /* AUX loopback: back without AUX status */
	outb(f, DATA, 0x5a);
	assert_int_equal(inb(f, CMD) & 0x21, STATUS_OBF);
	assert_int_equal(take_interrupt_bytes(f, (uint8_t[4]){ 0 }, 4), 1);
	assert_int_equal(f->machine.stops, 0);
}

static void test_keyboard_probe_like_atkbd(void **state)
{
	struct fixture *f = *state;

	linux_probes_controller(f);
	atkbd_connects(f);
	EXCHANGE(f, BYTES(0xee), 0xee);            /* echo: no ACK */
	EXCHANGE(f, BYTES(0xf0, 0x00), ACK, ACK, 0x41); /* scancode set 2, as translated */
	EXCHANGE(f, BYTES(0xf0, 0x07), ACK, 0xfe); /* no such set */
	EXCHANGE(f, BYTES(0x01), 0xfe);            /* not a command */
	EXCHANGE(f, BYTES(0xfe), 0xfe);            /* resend: the last byte again */
	EXCHANGE(f, BYTES(0xff), ACK, 0xaa);       /* reset: ACK, then self-test passed */
	EXCHANGE(f, BYTES(0xf7, 0xfd, 0xf6), ACK, ACK, ACK);

	/* Without translation GETID's second byte and the set number come untranslated. */
	write_ctr(f, CTR_KBDINT);
	EXCHANGE(f, BYTES(0xf2), ACK, 0xab, 0x83);
	EXCHANGE(f, BYTES(0xf0, 0x00), ACK, ACK, 0x02);
	EXCHANGE(f, BYTES(0xf0, 0x03, 0xf0, 0x00), ACK, ACK, ACK, ACK, 0x03);
}

static void test_ctrl_alt_del_translated(void **state)
{
	struct fixture *f = *state;
	uint8_t got[32];

	/* Nobody listening yet: refused, nothing queued. */
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), -EAGAIN);
	linux_probes_controller(f);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), -EAGAIN);
	assert_false(inb(f, CMD) & STATUS_OBF);
	atkbd_connects(f);

	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), 0);
	/* Set 1: Ctrl, Alt, Delete down, then up in reverse order (bit 7 set). */
	static const uint8_t want[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	assert_int_equal(take_interrupt_bytes(f, got, sizeof(got)), sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
}

static void test_ctrl_alt_del_untranslated(void **state)
{
	struct fixture *f = *state;
	uint8_t got[32];
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	static const uint8_t set3[] = { 0x11, 0x19, 0x64, 0xf0, 0x64, 0xf0, 0x19, 0xf0, 0x11 };

	linux_probes_controller(f);
	write_ctr(f, CTR_KBDINT); /* i8042.direct */
	EXCHANGE(f, BYTES(0xf4), ACK);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), 0);
	assert_int_equal(take_interrupt_bytes(f, got, sizeof(got)), sizeof(set2));
	assert_memory_equal(got, set2, sizeof(set2));

	EXCHANGE(f, BYTES(0xf0, 0x03), ACK, ACK);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), 0);
	assert_int_equal(take_interrupt_bytes(f, got, sizeof(got)), sizeof(set3));
	assert_memory_equal(got, set3, sizeof(set3));
}

/* Whenever the guest is not listening, the keystrokes are refused rather than left for later. */
static void test_ctrl_alt_del_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t got[64];
	int sent = 0;

	linux_probes_controller(f);
	atkbd_connects(f);

	EXCHANGE(f, BYTES(0xf5), ACK); /* keyboard disabled */
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), -EAGAIN);
	EXCHANGE(f, BYTES(0xf4), ACK);
	outb(f, CMD, 0xad); /* keyboard interface disabled */
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), -EAGAIN);
	outb(f, CMD, 0xae);
	write_ctr(f, CTR_INITIAL & ~CTR_KBDINT); /* its interrupt off */
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), -EAGAIN);
	write_ctr(f, CTR_INITIAL);
	assert_int_equal(f->chip_state.level, 0);

	/* A guest that does not read: presses queue until the next would not fit whole. */
	while (i8042_send_ctrl_alt_del(&f->kbc) == 0)
		sent++;
	assert_int_equal(sent, 2); /* 8 bytes each: one in the output buffer, 15 of 16 buffered */
	assert_int_equal(take_interrupt_bytes(f, got, sizeof(got)), 16);
	assert_memory_equal(got, got + 8, 8);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), 0);
}

/* A guest that writes and never reads cannot make the keyboard buffer more than it holds. */
static void test_queue_bound(void **state)
{
	struct fixture *f = *state;
	uint8_t got[64];

	linux_probes_controller(f);
	for (int i = 0; i < 10000; i++)
		outb(f, DATA, 0xf2);
	assert_true(f->kbc.queue_count <= I8042_QUEUE_SIZE);
	assert_int_equal(take_interrupt_bytes(f, got, sizeof(got)), 1 + I8042_QUEUE_SIZE);
	/* The keyboard still answers afterwards. */
	EXCHANGE(f, BYTES(0xf4), ACK);

	/* Every controller command and data byte, in any order: the buffer stays bounded. */
	for (int cmd = 0; cmd < 0xf0; cmd++) {
		for (int data = 0; data < 256; data += 51) {
			outb(f, CMD, (uint8_t)cmd);
			/* To the output port: keep the reset line high. */
			outb(f, DATA, (uint8_t)(cmd == 0xd1 ? data | 1 : data));
			assert_true(f->kbc.queue_count <= I8042_QUEUE_SIZE);
		}
	}
	assert_int_equal(f->machine.stops, 0);
}

/* Keyboard bytes wait while the guest has the keyboard interface disabled; replies do not. */
static void test_disabled_interface_holds_keyboard_bytes(void **state)
{
	struct fixture *f = *state;
	uint8_t got[16];

	linux_probes_controller(f);
	atkbd_connects(f);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), 0);
	assert_int_equal(inb(f, DATA), 0x1d);
	assert_int_equal(inb(f, DATA), 0x38);
	outb(f, CMD, 0xad);                   /* disabled with 0xe0 in the output buffer */
	assert_int_equal(inb(f, DATA), 0xe0);
	assert_false(inb(f, CMD) & STATUS_OBF); /* the rest waits */
	assert_int_equal(f->chip_state.level, 0);
	assert_int_equal(command_reply(f, 0x20), CTR_INITIAL | CTR_KBDDIS); /* replies still come */
	outb(f, CMD, 0xae);
	static const uint8_t rest[] = { 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	assert_int_equal(take_interrupt_bytes(f, got, sizeof(got)), sizeof(rest));
	assert_memory_equal(got, rest, sizeof(rest));

	/* Writing to the keyboard enables its interface again, as on real controllers. */
	outb(f, CMD, 0xad);
	outb(f, DATA, 0xee);
	assert_int_equal(take_interrupt_bytes(f, got, sizeof(got)), 1);
	assert_int_equal(got[0], 0xee);
	assert_int_equal(command_reply(f, 0x20), CTR_INITIAL);
}

/* A controller reply does not overwrite a keyboard byte the guest has not read yet. */
static void test_reply_waits_for_output_buffer(void **state)
{
	struct fixture *f = *state;

	linux_probes_controller(f);
	outb(f, DATA, 0xee);
	outb(f, CMD, 0x20);
	assert_int_equal(inb(f, DATA), 0xee);
	assert_int_equal(inb(f, DATA), CTR_INITIAL);
	assert_false(inb(f, CMD) & STATUS_OBF);
	assert_int_equal(inb(f, DATA), CTR_INITIAL); /* empty: the last byte again */
}

static void test_reset_ends_the_vm(void **state)
{
	struct fixture *f = *state;

	outb(f, CMD, 0xff); /* pulses nothing */
	outb(f, CMD, 0xd1);
	outb(f, DATA, 0xdf); /* reset line high */
	assert_int_equal(f->machine.stops, 0);
	outb(f, CMD, 0xfe); /* Linux reboot=k */
	assert_int_equal(f->machine.stops, 1);
	assert_int_equal(f->machine.reason, KILN_EXIT_RESET);
	outb(f, CMD, 0xd1);
	outb(f, DATA, 0xde); /* reset line low through the output port */
	assert_int_equal(f->machine.stops, 2);
	for (int cmd = 0xf0; cmd <= 0xff; cmd++) {
		int before = f->machine.stops;

		outb(f, CMD, (uint8_t)cmd);
		assert_int_equal(f->machine.stops - before, !(cmd & 1));
	}
}

/* A snapshot taken with Ctrl-Alt-Del half read carries the rest of it into a fresh controller. */
static void test_snapshot_round_trip(void **state)
{
	struct fixture *f = *state;
	struct fixture g = { 0 };
	struct snap_writer w;
	struct snap_reader r = { 0 };
	char why[128];
	uint8_t got[32];

	linux_probes_controller(f);
	atkbd_connects(f);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->kbc), 0);
	assert_int_equal(inb(f, DATA), 0x1d); /* the first byte read before the snapshot */
	snap_writer_init(&w);
	i8042_save(&f->kbc, &w);
	assert_int_equal(snap_image_read_back(&w, &r), 0);

	g.chip = (struct irq_chip){ .ops = &fake_ops, .opaque = &g.chip_state };
	g.machine.events.stop = fake_stop;
	bus_init(&g.pio, "pio", 0xff);
	assert_int_equal(i8042_init(&g.kbc, &g.pio, (struct irq_line){ &g.chip, I8042_IRQ_KEYBOARD },
				    &g.machine.events), 0);
	assert_int_equal(i8042_load(&g.kbc, &r, why, sizeof(why)), 0);
	g.chip_state.level = 1; /* the line as the restored interrupt controller holds it */
	g.chip_state.edges = 1;
	static const uint8_t rest[] = { 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	got[0] = inb(&g, DATA);
	assert_int_equal(take_interrupt_bytes(&g, got + 1, sizeof(got) - 1) + 1, sizeof(rest));
	assert_memory_equal(got, rest, sizeof(rest));
	assert_int_equal(command_reply(&g, 0x20), (CTR_INITIAL & ~CTR_KBDDIS) | CTR_KBDINT);
	i8042_destroy(&g.kbc);
	bus_free(&g.pio);
	snap_reader_close(&r);
	snap_writer_free(&w);
}

/* A state file with a scancode set the keyboard does not have is refused. */
static void test_snapshot_hostile_values(void **state)
{
	struct fixture *f = *state;
	struct snap_writer w;
	struct snap_reader r = { 0 };
	char why[128];

	snap_writer_init(&w);
	snap_begin(&w, I8042_SNAP_TAG, 0);
	for (int i = 0; i < 3; i++)
		snap_put_u8(&w, 0);
	snap_put_bool(&w, false);
	snap_put_u8(&w, 0);
	snap_put_bool(&w, false);
	snap_put_u8(&w, 0);
	snap_put_bool(&w, false);
	snap_put_bool(&w, true);
	snap_put_u32(&w, 7); /* scancode set 7 */
	snap_end(&w);
	assert_int_equal(snap_image_read_back(&w, &r), 0);
	assert_int_equal(i8042_load(&f->kbc, &r, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "keyboard controller"));
	snap_reader_close(&r);
	snap_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_controller_probe_like_linux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyboard_probe_like_atkbd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_alt_del_translated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_alt_del_untranslated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_alt_del_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_interface_holds_keyboard_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_waits_for_output_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_ends_the_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_hostile_values, setup, teardown),
	};
	return cmocka_run_group_tests_name("i8042", tests, NULL, NULL);
}
