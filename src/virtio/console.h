/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console (virtio 1.2 §5.3): one port, no MULTIPORT, no SIZE. The guest's hvc0 writes go to
 * out_fd; what arrives on in_fd is read straight into the guest's receive buffers.
 */
#ifndef KILN_VIRTIO_CONSOLE_H
#define KILN_VIRTIO_CONSOLE_H

#include "util.h"
#include "virtio/device.h"

/* Virtqueues, §5.3.2. */
#define VIRTIO_CONSOLE_RECEIVEQ 0  /* host -> guest */
#define VIRTIO_CONSOLE_TRANSMITQ 1 /* guest -> host */

struct virtio_console;

/*
 * in_fd: console input, watched on the device's I/O loop from activate on (-1: none; an fd epoll
 * cannot watch, such as a regular file or /dev/null, also means none). out_fd: console output
 * (-1: discarded). The caller keeps ownership of both fds. 0 or -ENOMEM.
 */
int virtio_console_create(int in_fd, int out_fd, struct virtio_console **out) MUST_CHECK;
struct virtio_dev *virtio_console_dev(struct virtio_console *c);
/* Stops watching in_fd; call once the I/O thread no longer runs. NULL is a no-op. */
void virtio_console_destroy(struct virtio_console *c);

#endif
