/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A 16550A UART: guest output goes to a file descriptor without ever blocking the vCPU
 * (io/console_out.h), host input is queued for the guest.
 */
#ifndef KILN_DEVICES_SERIAL_H
#define KILN_DEVICES_SERIAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/bus.h"
#include "io/console_out.h"
#include "io/loop.h"
#include "irq/irq.h"
#include "snapshot/snap_file.h"

#define SERIAL_RX_CAPACITY 4096

struct serial {
	pthread_mutex_t lock;
	struct irq_line irq;
	struct console_out *out; /* NULL: output discarded */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	int thr_interrupt_pending; /* THR became empty and the guest has not read IIR since */
	int irq_level;
	uint8_t rx[SERIAL_RX_CAPACITY]; /* ring of received bytes */
	size_t rx_head, rx_count;
	int space_fd;      /* eventfd signalled when input refused earlier fits again; -1: none */
	bool space_wanted; /* serial_receive refused bytes since the last signal */
	/* Metrics, read at any time (relaxed). */
	atomic_ullong bytes_from_guest; /* transmitted by the guest (loopback aside) */
	atomic_ullong bytes_dropped;    /* of those, lost on the way out: the host's reader stalled */
};

/*
 * Registers the 8 registers at base on bus (x86: ports on the PIO bus; arm64: bytes on the MMIO
 * bus). out_fd (-1: output discarded) stays the caller's; what it cannot take at once is drained on
 * loop's thread.
 */
int serial_init(struct serial *s, struct bus *bus, uint64_t base, struct irq_line irq, int out_fd,
		struct io_loop *loop) MUST_CHECK;
/* Once loop's thread no longer runs: writes out what the guest transmitted last (console_out.h). */
void serial_destroy(struct serial *s);

/*
 * Queues host input for the guest; returns the bytes accepted. When some did not fit, the eventfd
 * set with serial_notify_space() is signalled once the guest has read the queue down to half.
 */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);
void serial_notify_space(struct serial *s, int eventfd);

/*
 * Snapshots: section UART/0 holds the registers and the input the guest has not read. load checks
 * each value and sets no interrupt line: the interrupt controllers' state comes back with the
 * machine's. Output already queued for the host is the host's, not the guest's: not saved.
 */
#define SERIAL_SNAP_TAG SNAP_TAG('U', 'A', 'R', 'T')
void serial_save(struct serial *s, struct snap_writer *w);
int serial_load(struct serial *s, const struct snap_reader *r, char *why, size_t whylen) MUST_CHECK;

#endif
