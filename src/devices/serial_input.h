/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the UART's input: kiln's stdin (a terminal, a pipe, or a regular file) moved into
 * the 16550's receive queue on the I/O thread, with backpressure instead of loss. When the queue is
 * full, kiln stops reading and keeps what it read; the UART signals when the guest has read the
 * queue down to half, and reading resumes. A regular file (which epoll refuses) is read on demand.
 */
#ifndef KILN_DEVICES_SERIAL_INPUT_H
#define KILN_DEVICES_SERIAL_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/serial.h"
#include "io/loop.h"

struct serial_input {
	struct serial *uart;
	struct io_loop *loop;
	int in_fd;     /* -1 once the input ended */
	bool pollable; /* epoll watches in_fd; else it is a regular file, always readable */
	bool watching; /* in_fd is in the loop */
	int space_fd;  /* eventfd: the UART has room again (serial_notify_space) */
	uint8_t pending[256];
	size_t pending_off, pending_len; /* read from in_fd, not yet taken by the UART */
	struct ev_handler in_ready, space_ready;
};

/*
 * Starts feeding in_fd into uart on loop's thread (the loop need not run yet). 0 or -errno.
 * in_fd stays the caller's; serial_input_stop() releases the rest, after the loop has stopped, and
 * does nothing on a zeroed struct that was never started.
 */
int serial_input_start(struct serial_input *si, struct serial *uart, struct io_loop *loop, int in_fd) MUST_CHECK;
void serial_input_stop(struct serial_input *si);

#endif
