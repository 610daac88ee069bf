/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 16550A UART (register set as in the TI/National PC16550D datasheet). Transmission is instant:
 * the transmit holding register is always empty again by the time the guest looks. The byte goes
 * to a console_out, which never blocks the vCPU: a host reader that stops costs output (counted in
 * bytes_dropped), never the guest's progress or a pause.
 */
#include "devices/serial.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>

#include "log.h"

enum {
	REG_RBR_THR = 0, /* DLL when LCR.DLAB */
	REG_IER = 1,     /* DLM when LCR.DLAB */
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI 0x01  /* receive data available */
#define IER_THRI 0x02 /* transmit holding register empty */
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

static uint8_t current_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO_ENABLED : 0;

	if ((s->ier & IER_RDI) && s->rx_count > 0)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thr_interrupt_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* ISA IRQs are edge-triggered: the line follows "an interrupt is pending", the IOAPIC sees edges. */
static void update_irq(struct serial *s)
{
	int level = !(current_iir(s) & IIR_NONE);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count == SERIAL_RX_CAPACITY)
		return;
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_CAPACITY] = byte;
	s->rx_count++;
}

/*
 * Tells the host side that input it was refused fits again. Half empty, not empty: the host
 * refills while the guest still has bytes to read.
 */
static void rx_signal_space(struct serial *s)
{
	if (!s->space_wanted || s->rx_count > SERIAL_RX_CAPACITY / 2)
		return;
	s->space_wanted = false;
	if (eventfd_write(s->space_fd, 1) < 0)
		log_error("serial", "signalling input space: %s", strerror(errno));
}

static uint8_t rx_pop(struct serial *s)
{
	if (s->rx_count == 0)
		return 0;
	uint8_t byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_CAPACITY;
	s->rx_count--;
	rx_signal_space(s);
	return byte;
}

static void transmit(struct serial *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP) {
		rx_push(s, byte); /* loopback: the guest's driver probes the UART this way */
	} else {
		atomic_fetch_add_explicit(&s->bytes_from_guest, 1, memory_order_relaxed);
		if (s->out)
			console_out_write(s->out, &byte, 1);
	}
	s->thr_interrupt_pending = 1;
}

static uint8_t modem_status(const struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* In loopback the modem control outputs come back as the modem status inputs. */
	uint8_t msr = 0;
	if (s->mcr & MCR_DTR)
		msr |= MSR_DSR;
	if (s->mcr & MCR_RTS)
		msr |= MSR_CTS;
	if (s->mcr & MCR_OUT1)
		msr |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return msr;
}

static uint8_t read_register(struct serial *s, uint64_t reg)
{
	switch (reg) {
	case REG_RBR_THR:
		return (s->lcr & LCR_DLAB) ? s->dll : rx_pop(s);
	case REG_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case REG_IIR_FCR: {
		uint8_t iir = current_iir(s);
		if ((iir & 0x0f) == IIR_THRI)
			s->thr_interrupt_pending = 0; /* reading IIR acknowledges THRE */
		return iir;
	}
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case REG_MSR:
		return modem_status(s);
	default:
		return s->scr;
	}
}

static void write_register(struct serial *s, uint64_t reg, uint8_t val)
{
	switch (reg) {
	case REG_RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = val;
		else
			transmit(s, val);
		break;
	case REG_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = val;
		} else {
			/* Enabling THRI while the THR is empty raises it at once. */
			if ((val & IER_THRI) && !(s->ier & IER_THRI))
				s->thr_interrupt_pending = 1;
			s->ier = val & 0x0f;
		}
		break;
	case REG_IIR_FCR:
		if (val & FCR_CLEAR_RX) {
			/* Emptied as if read: input parked on a full queue resumes (Linux clears it at open). */
			s->rx_count = 0;
			rx_signal_space(s);
		}
		s->fcr = val & FCR_FIFO_ENABLE;
		break;
	case REG_LCR:
		s->lcr = val;
		break;
	case REG_MCR:
		s->mcr = val & 0x1f;
		break;
	case REG_SCR:
		s->scr = val;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

static void serial_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct serial *s = opaque;
	uint8_t *out = data;

	pthread_mutex_lock(&s->lock);
	out[0] = read_register(s, offset);
	for (unsigned int i = 1; i < len; i++)
		out[i] = 0;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct serial *s = opaque;

	(void)len; /* registers are a byte wide; wider writes use their low byte */
	pthread_mutex_lock(&s->lock);
	write_register(s, offset, *(const uint8_t *)data);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops serial_ops = { .read = serial_read, .write = serial_write };

int serial_init(struct serial *s, struct bus *bus, uint64_t base, struct irq_line irq, int out_fd,
		struct io_loop *loop)
{
	int rc = 0;

	*s = (struct serial){ .irq = irq, .space_fd = -1 };
	pthread_mutex_init(&s->lock, NULL);
	if (out_fd >= 0)
		rc = console_out_create(out_fd, loop, &s->bytes_dropped, &s->out);
	if (rc == 0)
		rc = bus_register(bus, base, 8, &serial_ops, s);
	if (rc < 0) {
		console_out_destroy(s->out);
		s->out = NULL;
	}
	return rc;
}

void serial_destroy(struct serial *s)
{
	console_out_destroy(s->out);
	s->out = NULL;
	pthread_mutex_destroy(&s->lock);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t accepted;

	pthread_mutex_lock(&s->lock);
	accepted = SERIAL_RX_CAPACITY - s->rx_count;
	if (accepted > len)
		accepted = len;
	for (size_t i = 0; i < accepted; i++)
		rx_push(s, buf[i]);
	if (accepted < len && s->space_fd >= 0)
		s->space_wanted = true;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return accepted;
}

void serial_notify_space(struct serial *s, int eventfd)
{
	pthread_mutex_lock(&s->lock);
	s->space_fd = eventfd;
	pthread_mutex_unlock(&s->lock);
}

/* UART/0 layout: u8 ier, lcr, mcr, scr, dll, dlm, fcr; bool THRE pending; u32 IRQ level; u32 bytes
 * of unread input, then those bytes, oldest first. */
void serial_save(struct serial *s, struct snap_writer *w)
{
	pthread_mutex_lock(&s->lock);
	snap_begin(w, SERIAL_SNAP_TAG, 0);
	snap_put_u8(w, s->ier);
	snap_put_u8(w, s->lcr);
	snap_put_u8(w, s->mcr);
	snap_put_u8(w, s->scr);
	snap_put_u8(w, s->dll);
	snap_put_u8(w, s->dlm);
	snap_put_u8(w, s->fcr);
	snap_put_bool(w, s->thr_interrupt_pending);
	snap_put_u32(w, (uint32_t)s->irq_level);
	snap_put_u32(w, (uint32_t)s->rx_count);
	for (size_t i = 0; i < s->rx_count; i++)
		snap_put_u8(w, s->rx[(s->rx_head + i) % SERIAL_RX_CAPACITY]);
	snap_end(w);
	pthread_mutex_unlock(&s->lock);
}

int serial_load(struct serial *s, const struct snap_reader *r, char *why, size_t whylen)
{
	struct snap_cursor c;

	if (snap_open_section(r, SERIAL_SNAP_TAG, 0, &c) < 0)
		return fail_with(why, whylen, -EINVAL, "it has no UART state");
	pthread_mutex_lock(&s->lock);
	/* Held to the bits a guest's own writes can set (write_register). */
	s->ier = snap_get_u8(&c) & 0x0f;
	s->lcr = snap_get_u8(&c);
	s->mcr = snap_get_u8(&c) & 0x1f;
	s->scr = snap_get_u8(&c);
	s->dll = snap_get_u8(&c);
	s->dlm = snap_get_u8(&c);
	s->fcr = snap_get_u8(&c) & FCR_FIFO_ENABLE;
	s->thr_interrupt_pending = snap_get_bool(&c);
	s->irq_level = (int)snap_get_u32_in(&c, 0, 1);
	s->rx_head = 0;
	s->rx_count = snap_get_u32_in(&c, 0, SERIAL_RX_CAPACITY);
	snap_get_bytes(&c, s->rx, s->rx_count);
	int rc = snap_cursor_finish(&c);
	if (rc < 0)
		s->rx_count = 0;
	pthread_mutex_unlock(&s->lock);
	return rc < 0 ? fail_with(why, whylen, -EBADMSG, "its UART state is malformed") : 0;
}
