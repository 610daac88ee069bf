/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the 16550A UART (devices/serial.c) and its host input (devices/serial_input.c)
 * under a hostile guest, with host input interleaved. The guest side goes through the PIO bus at
 * 0x3f8; the host side is a pipe that serial_input reads when a stand-in for the I/O loop (this
 * file's io_loop_add/io_loop_remove, polled instead of epoll_wait) finds its fds ready.
 *
 * Input: a program of 2-byte steps (op, val):
 *   op 0x00-0x7f  guest access to port 0x3f8 + (op & 7), a write of val if op & 0x08, of
 *                 1 << ((op >> 4) & 3) bytes (1, 2, 4 or 8; past the UART's 8 ports it is unclaimed)
 *   op 0x80-0xbf  host input: ((op & 0x3f) + 1) * (val + 1) bytes into the pipe (what it takes)
 *   op 0xc0-0xff  op & 3: 0 or 3, val + 1 passes of the I/O loop; 1, the host closes its input;
 *                 2, the guest reads RBR while LSR says data is ready
 * After the program the guest clears DLAB and reads everything, the loop runs, until neither moves.
 *
 * Checks: the harness keeps a model of the registers (PC16550D datasheet) and of the receive FIFO
 * (host bytes as serial_input delivered them, loopback bytes, an FCR clear) and compares every
 * read: RBR returns the oldest byte, LSR.DR says whether one is there, IIR gives receive data over
 * THRE as enabled and reading it acknowledges THRE, the IRQ line is up exactly while IIR has an
 * interrupt and only changes level; the FIFO never exceeds SERIAL_RX_CAPACITY; serial_input adds and
 * removes only fds it does not or does watch; and, in the end, every byte the host wrote reached
 * the FIFO, in order: input parked on a full FIFO always resumes.
 */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bus/bus.h"
#include "devices/serial.h"
#include "devices/serial_input.h"
#include "fuzz/fuzz_check.h"
#include "io/loop.h"

#define UART_BASE 0x3f8
#define UART_GSI 4
#define UART_WATCH_MAX 4
#define UART_LOOP_PASSES_END 64 /* enough passes for 16 KiB of input in 256-byte reads, and more */

/* Registers (PC16550D). */
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define IER_RDI 0x01
#define IER_THRI 0x02
#define FCR_FIFO 0x01
#define FCR_CLEAR_RX 0x02
#define LSR_DR 0x01
#define LSR_THRE_TEMT 0x60

/* --- the stand-in for the I/O loop: what serial_input watches, polled by the harness ---------------- */

struct uart_watch {
	int fd;
	struct ev_handler *h;
};

static struct uart_watch uart_watches[UART_WATCH_MAX];
static unsigned int uart_nwatches;

int io_loop_add(struct io_loop *l, int fd, uint32_t events, struct ev_handler *h)
{
	(void)l;
	fuzz_check(events == EPOLLIN);
	for (unsigned int i = 0; i < uart_nwatches; i++)
		fuzz_check(uart_watches[i].fd != fd); /* epoll would say EEXIST */
	fuzz_check(uart_nwatches < UART_WATCH_MAX);
	uart_watches[uart_nwatches++] = (struct uart_watch){ fd, h };
	return 0;
}

int io_loop_remove(struct io_loop *l, int fd)
{
	(void)l;
	for (unsigned int i = 0; i < uart_nwatches; i++) {
		if (uart_watches[i].fd == fd) {
			uart_watches[i] = uart_watches[--uart_nwatches];
			return 0;
		}
	}
	abort(); /* epoll would say ENOENT */
}

/* --- the model ------------------------------------------------------------------------------------ */

struct uart_model {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_pending; /* THRE interrupt raised and not yet acknowledged by an IIR read */
	uint8_t rx[SERIAL_RX_CAPACITY];
	size_t rx_head, rx_count;
	uint64_t host_written;   /* bytes the pipe took */
	uint64_t host_delivered; /* of them, bytes the UART took */
};

struct uart_fuzz {
	struct bus pio;
	struct serial uart;
	struct irq_chip chip;
	int line; /* the IRQ line's level as the chip saw it */
	struct io_loop loop;
	struct serial_input si;
	int host[2]; /* the host's input: serial_input reads host[0] */
	struct uart_model m;
};

/* The n-th byte the host sends: not periodic in 256, so that a lost or repeated block shows. */
static uint8_t uart_host_byte(uint64_t n)
{
	return (uint8_t)(n * 7 + (n >> 8));
}

static int uart_set_level(void *opaque, uint32_t gsi, int level)
{
	struct uart_fuzz *f = opaque;

	fuzz_check(gsi == UART_GSI);
	fuzz_check(level != f->line); /* an edge-triggered ISA line: only changes are signalled */
	f->line = level;
	return 0;
}

static const struct irq_chip_ops uart_chip_ops = { .set_level = uart_set_level };

static void uart_model_push(struct uart_model *m, uint8_t byte)
{
	if (m->rx_count == SERIAL_RX_CAPACITY)
		return;
	m->rx[(m->rx_head + m->rx_count) % SERIAL_RX_CAPACITY] = byte;
	m->rx_count++;
}

static uint8_t uart_model_iir(const struct uart_model *m)
{
	uint8_t fifo = (m->fcr & FCR_FIFO) ? 0xc0 : 0;

	if ((m->ier & IER_RDI) && m->rx_count > 0)
		return 0x04 | fifo;
	if ((m->ier & IER_THRI) && m->thr_pending)
		return 0x02 | fifo;
	return 0x01 | fifo;
}

/* In loopback, MCR's DTR, RTS, OUT1, OUT2 come back as DSR, CTS, RI, DCD; else DCD, DSR, CTS. */
static uint8_t uart_model_msr(const struct uart_model *m)
{
	static const uint8_t loop_msr[16] = { 0x00, 0x20, 0x10, 0x30, 0x40, 0x60, 0x50, 0x70,
					      0x80, 0xa0, 0x90, 0xb0, 0xc0, 0xe0, 0xd0, 0xf0 };

	return (m->mcr & MCR_LOOP) ? loop_msr[m->mcr & 0x0f] : 0xb0;
}

/* The register read at reg: what the model says, and what the read changes. -1: any value. */
static int uart_model_read(struct uart_model *m, unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case 0:
		if (m->lcr & LCR_DLAB)
			return m->dll;
		if (m->rx_count == 0)
			return -1; /* nothing received: the value is not specified */
		v = m->rx[m->rx_head];
		m->rx_head = (m->rx_head + 1) % SERIAL_RX_CAPACITY;
		m->rx_count--;
		return v;
	case 1:
		return (m->lcr & LCR_DLAB) ? m->dlm : m->ier;
	case 2:
		v = uart_model_iir(m);
		if ((v & 0x0f) == 0x02)
			m->thr_pending = false;
		return v;
	case 3:
		return m->lcr;
	case 4:
		return m->mcr;
	case 5:
		return LSR_THRE_TEMT | (m->rx_count > 0 ? LSR_DR : 0);
	case 6:
		return uart_model_msr(m);
	default:
		return m->scr;
	}
}

static void uart_model_write(struct uart_model *m, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case 0:
		if (m->lcr & LCR_DLAB) {
			m->dll = v;
			break;
		}
		if (m->mcr & MCR_LOOP)
			uart_model_push(m, v);
		m->thr_pending = true; /* sent at once: the THR is empty again */
		break;
	case 1:
		if (m->lcr & LCR_DLAB) {
			m->dlm = v;
			break;
		}
		if ((v & IER_THRI) && !(m->ier & IER_THRI))
			m->thr_pending = true;
		m->ier = v & 0x0f;
		break;
	case 2:
		if (v & FCR_CLEAR_RX)
			m->rx_count = 0;
		m->fcr = v & FCR_FIFO;
		break;
	case 3:
		m->lcr = v;
		break;
	case 4:
		m->mcr = v & 0x1f;
		break;
	case 7:
		m->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

/* After every step: the FIFO agrees with the model, and the line with IIR. */
static void uart_check_state(const struct uart_fuzz *f)
{
	fuzz_check(f->uart.rx_count <= SERIAL_RX_CAPACITY);
	fuzz_check(f->uart.rx_count == f->m.rx_count);
	fuzz_check(f->line == !(uart_model_iir(&f->m) & 0x01));
}

/* --- the guest ------------------------------------------------------------------------------------ */

static void uart_guest_access(struct uart_fuzz *f, unsigned int reg, unsigned int width, bool write,
			      uint8_t val)
{
	uint8_t buf[8];
	bool claimed;

	memset(buf, write ? val : 0x5a, sizeof(buf));
	claimed = bus_access(&f->pio, UART_BASE + reg, buf, width, write);
	fuzz_check(claimed == (reg + width <= 8));
	if (!claimed) {
		for (unsigned int i = 0; !write && i < width; i++)
			fuzz_check(buf[i] == 0xff);
		return;
	}
	if (write) {
		uart_model_write(&f->m, reg, val); /* registers are a byte: wider writes use the low one */
		return;
	}
	int want = uart_model_read(&f->m, reg);

	fuzz_check(want < 0 || buf[0] == want);
	for (unsigned int i = 1; i < width; i++)
		fuzz_check(buf[i] == 0);
}

/* The guest reads RBR while LSR.DR is set; returns how many bytes it read. */
static unsigned int uart_guest_drain(struct uart_fuzz *f)
{
	unsigned int n = 0;
	uint8_t lsr;

	for (;;) {
		bus_access(&f->pio, UART_BASE + 5, &lsr, 1, false);
		fuzz_check(lsr == uart_model_read(&f->m, 5));
		if (!(lsr & LSR_DR) || (f->m.lcr & LCR_DLAB))
			return n;
		fuzz_check(n++ <= SERIAL_RX_CAPACITY);
		uart_guest_access(f, 0, 1, false, 0);
	}
}

/* --- the host ------------------------------------------------------------------------------------- */

static void uart_host_write(struct uart_fuzz *f, size_t n)
{
	uint8_t buf[64 * 256];
	ssize_t took;

	if (f->host[1] < 0)
		return;
	for (size_t i = 0; i < n; i++)
		buf[i] = uart_host_byte(f->m.host_written + i);
	took = write(f->host[1], buf, n);
	fuzz_check(took >= 0 || errno == EAGAIN);
	if (took > 0)
		f->m.host_written += (uint64_t)took;
}

/* Bytes serial_input gave the UART since the model last looked: the next ones the host wrote. */
static void uart_host_delivered(struct uart_fuzz *f)
{
	fuzz_check(f->uart.rx_count >= f->m.rx_count);
	while (f->m.rx_count < f->uart.rx_count) {
		fuzz_check(f->m.host_delivered < f->m.host_written);
		uart_model_push(&f->m, uart_host_byte(f->m.host_delivered++));
	}
}

/* One pass of the I/O loop: each watched fd that is ready gets its handler. True if any ran. */
static bool uart_loop_pass(struct uart_fuzz *f)
{
	struct uart_watch ready[UART_WATCH_MAX];
	unsigned int n = 0;

	for (unsigned int i = 0; i < uart_nwatches; i++) {
		struct pollfd p = { .fd = uart_watches[i].fd, .events = POLLIN };

		fuzz_check(poll(&p, 1, 0) >= 0);
		if (p.revents != 0)
			ready[n++] = uart_watches[i];
	}
	for (unsigned int i = 0; i < n; i++) {
		ready[i].h->ready(ready[i].h, EPOLLIN);
		uart_host_delivered(f);
	}
	return n > 0;
}

static void uart_host_close(struct uart_fuzz *f)
{
	if (f->host[1] >= 0)
		close(f->host[1]);
	f->host[1] = -1;
}

/* --- one run -------------------------------------------------------------------------------------- */

static void uart_step(struct uart_fuzz *f, uint8_t op, uint8_t val)
{
	if (op < 0x80) {
		uart_guest_access(f, op & 7, 1u << ((op >> 4) & 3), op & 0x08, val);
	} else if (op < 0xc0) {
		uart_host_write(f, (size_t)((op & 0x3f) + 1) * (val + 1u));
	} else if ((op & 3) == 1) {
		uart_host_close(f);
	} else if ((op & 3) == 2) {
		uart_guest_drain(f);
	} else {
		for (unsigned int i = 0; i <= val && uart_loop_pass(f); i++)
			continue;
	}
	uart_check_state(f);
}

/* The guest keeps reading and the loop keeps running: every byte the host wrote must arrive. */
static void uart_finish(struct uart_fuzz *f)
{
	unsigned int idle = 0;

	uart_guest_access(f, 3, 1, true, f->m.lcr & (uint8_t)~LCR_DLAB);
	for (unsigned int round = 0; idle < 2; round++) {
		bool moved = uart_guest_drain(f) > 0;

		moved |= uart_loop_pass(f);
		uart_check_state(f);
		idle = moved ? 0 : idle + 1;
		fuzz_check(round < UART_LOOP_PASSES_END + f->m.host_written / 128);
	}
	fuzz_check(f->m.host_delivered == f->m.host_written);
}

static struct uart_fuzz uart_f;

static void uart_setup(struct uart_fuzz *f, int out_fd)
{
	memset(f, 0, sizeof(*f));
	uart_nwatches = 0;
	f->chip = (struct irq_chip){ .ops = &uart_chip_ops, .opaque = f };
	bus_init(&f->pio, "pio", 0xff);
	fuzz_check(serial_init(&f->uart, &f->pio, UART_BASE, (struct irq_line){ &f->chip, UART_GSI },
			       out_fd, &f->loop) == 0);
	fuzz_check(pipe2(f->host, O_NONBLOCK | O_CLOEXEC) == 0);
	/* A small pipe (twice the FIFO): parking input on a full FIFO takes little host data (and time). */
	fuzz_check(fcntl(f->host[1], F_SETPIPE_SZ, 8192) >= 0);
	fuzz_check(serial_input_start(&f->si, &f->uart, &f->loop, f->host[0]) == 0);
}

static void uart_teardown(struct uart_fuzz *f)
{
	serial_input_stop(&f->si);
	close(f->host[0]);
	uart_host_close(f);
	serial_destroy(&f->uart);
	bus_free(&f->pio);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int out_fd = -2;

	/* Guest output is written and thrown away: what matters here is the register file. */
	if (out_fd == -2)
		out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	uart_setup(&uart_f, out_fd);
	for (size_t i = 0; i + 1 < len; i += 2)
		uart_step(&uart_f, data[i], data[i + 1]);
	uart_finish(&uart_f);
	uart_teardown(&uart_f);
	return 0;
}
