/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/serial_input.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

/* Adds or removes in_fd from the loop so that it is watched exactly when `want`. */
static void watch_input(struct serial_input *si, bool want)
{
	int rc = 0;

	if (want == si->watching || !si->pollable)
		return;
	if (want)
		rc = io_loop_add(si->loop, si->in_fd, EPOLLIN, &si->in_ready);
	else
		rc = io_loop_remove(si->loop, si->in_fd);
	if (rc < 0)
		log_error("serial", "console input: %s: %s", want ? "watching" : "unwatching", strerror(-rc));
	else
		si->watching = want;
}

/* Hands the pending bytes to the UART; true when all were taken. */
static bool deliver(struct serial_input *si)
{
	size_t n = serial_receive(si->uart, si->pending + si->pending_off, si->pending_len);

	si->pending_off += n;
	si->pending_len -= n;
	return si->pending_len == 0;
}

/* One read into the empty pending buffer; false when the input ended (EOF or an error). */
static bool fill(struct serial_input *si)
{
	ssize_t n;

	do
		n = read(si->in_fd, si->pending, sizeof(si->pending));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return true;
	if (n <= 0) {
		/* End of input (or an error): the guest simply gets no more bytes. */
		if (n < 0)
			log_info("serial", "console input: %s", strerror(errno));
		watch_input(si, false);
		si->in_fd = -1;
		return false;
	}
	si->pending_off = 0;
	si->pending_len = (size_t)n;
	return true;
}

/*
 * Moves input into the UART until it is full (then waits for space_fd), the input would block (a
 * pollable fd is read once per readiness: it may be blocking), or the input ended.
 */
static void pump(struct serial_input *si, bool readable)
{
	for (;;) {
		if (si->pending_len > 0 && !deliver(si)) {
			watch_input(si, false);
			return;
		}
		if (si->in_fd < 0 || (si->pollable && !readable))
			break;
		if (!fill(si))
			return;
		readable = false;
	}
	watch_input(si, si->in_fd >= 0);
}

static void on_input(struct ev_handler *h, uint32_t events)
{
	(void)events;
	pump(container_of(h, struct serial_input, in_ready), true);
}

static void on_space(struct ev_handler *h, uint32_t events)
{
	struct serial_input *si = container_of(h, struct serial_input, space_ready);
	eventfd_t count;

	(void)events;
	if (eventfd_read(si->space_fd, &count) < 0 && errno != EAGAIN)
		log_error("serial", "console input space: %s", strerror(errno));
	pump(si, false);
}

int serial_input_start(struct serial_input *si, struct serial *uart, struct io_loop *loop, int in_fd)
{
	int rc;

	*si = (struct serial_input){ .uart = uart, .loop = loop, .in_fd = in_fd, .pollable = true };
	si->in_ready.ready = on_input;
	si->space_ready.ready = on_space;
	si->space_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (si->space_fd < 0)
		return -errno;
	rc = io_loop_add(loop, si->space_fd, EPOLLIN, &si->space_ready);
	if (rc < 0)
		goto fail;
	serial_notify_space(uart, si->space_fd);
	rc = io_loop_add(loop, in_fd, EPOLLIN, &si->in_ready);
	if (rc == -EPERM) {
		/* epoll refuses regular files: read on demand, starting as soon as the loop runs. */
		si->pollable = false;
		rc = eventfd_write(si->space_fd, 1) < 0 ? -errno : 0;
	} else if (rc == 0) {
		si->watching = true;
	}
	if (rc == 0)
		return 0;
	serial_notify_space(uart, -1);
	io_loop_remove(loop, si->space_fd);
fail:
	close(si->space_fd);
	si->space_fd = -1;
	return rc;
}

void serial_input_stop(struct serial_input *si)
{
	if (si->uart == NULL || si->space_fd < 0)
		return; /* never started (a zeroed struct), or failed to */
	serial_notify_space(si->uart, -1);
	close(si->space_fd);
	si->space_fd = -1;
}
