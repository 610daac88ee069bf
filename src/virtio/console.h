/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console (virtio 1.2 §5.3): one port, the console, offered with MULTIPORT (max_nr_ports 1)
 * so that input waits for the driver's PORT_OPEN; a driver that declines MULTIPORT gets the plain
 * single-port device. No SIZE, no EMERG_WRITE. The guest's hvc0 writes go to out_fd; what arrives
 * on in_fd is read straight into the guest's receive buffers.
 */
#ifndef KILN_VIRTIO_CONSOLE_H
#define KILN_VIRTIO_CONSOLE_H

#include <stdint.h>

#include "util.h"
#include "virtio/device.h"

/* Virtqueues, §5.3.2: port 0's pair, then the control pair (only with MULTIPORT). */
#define VIRTIO_CONSOLE_RECEIVEQ 0       /* host -> guest */
#define VIRTIO_CONSOLE_TRANSMITQ 1      /* guest -> host */
#define VIRTIO_CONSOLE_CTRL_RECEIVEQ 2  /* control messages, device -> driver */
#define VIRTIO_CONSOLE_CTRL_TRANSMITQ 3 /* control messages, driver -> device */

/* Feature bits, §5.3.3. */
#define VIRTIO_CONSOLE_F_MULTIPORT 1

/* Control message events, §5.3.6.2. */
enum virtio_console_event {
	VIRTIO_CONSOLE_DEVICE_READY = 0,
	VIRTIO_CONSOLE_DEVICE_ADD = 1,
	VIRTIO_CONSOLE_DEVICE_REMOVE = 2,
	VIRTIO_CONSOLE_PORT_READY = 3,
	VIRTIO_CONSOLE_CONSOLE_PORT = 4,
	VIRTIO_CONSOLE_RESIZE = 5,
	VIRTIO_CONSOLE_PORT_OPEN = 6,
	VIRTIO_CONSOLE_PORT_NAME = 7,
};

/* A control message, §5.3.6.2; all fields little-endian. */
struct virtio_console_control {
	uint32_t id; /* port number */
	uint16_t event;
	uint16_t value;
};
_Static_assert(sizeof(struct virtio_console_control) == 8, "virtio 1.2 §5.3.6.2 control message");

struct virtio_console;

/*
 * in_fd: console input (-1: none), read once the driver's port is open. An fd epoll can watch
 * (pipe, tty, socket) is watched on the device's I/O loop (dev->io, from the transport); any other
 * (a regular file, /dev/null) is always readable and read whenever the driver has receive buffers.
 * out_fd: console output (-1: discarded), never blocking (io/console_out.h). The caller keeps
 * ownership of both fds. 0 or -errno.
 */
int virtio_console_create(int in_fd, int out_fd, struct virtio_console **out) MUST_CHECK;
struct virtio_dev *virtio_console_dev(struct virtio_console *c);
/*
 * Call once the I/O thread no longer runs: stops watching in_fd, writes out what the guest wrote
 * last (console_out_destroy), frees c. NULL is a no-op.
 */
void virtio_console_destroy(struct virtio_console *c);

#endif
