/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside virtio-console: the MULTIPORT control protocol (virtio 1.2 §5.3.6.2) for kiln's
 * single port, port 0, the console. console.c owns the lock and calls these under it; they touch
 * only the two control queues and the state below.
 */
#ifndef KILN_VIRTIO_CONSOLE_CTRL_H
#define KILN_VIRTIO_CONSOLE_CTRL_H

#include <stdbool.h>
#include <sys/uio.h>

#include "util.h"
#include "virtio/device.h"

struct console_ctrl {
	unsigned int owed; /* messages due to the driver, waiting for control receive buffers */
	bool port_open;    /* the driver's port 0 is open (its PORT_OPEN(0, 1)): input may flow */
};

/* Forgets the handshake (device reset). */
void console_ctrl_reset(struct console_ctrl *ctl);

/*
 * Snapshots: the handshake as far as it went (u32 messages owed, bool port open), so a restored
 * driver's port works on without a new one. load checks the values (owed bits this file knows;
 * none at all unless multiport: the driver took MULTIPORT and started the device) and sets *ctl
 * only when they hold: 0, or -EINVAL with a reason naming dev in why; a malformed section is the
 * cursor's error (left for the caller's snap_cursor_finish).
 */
void console_ctrl_save(const struct console_ctrl *ctl, struct snap_writer *w);
int console_ctrl_load(struct console_ctrl *ctl, struct snap_cursor *c, bool multiport, const char *dev,
		      char *why, size_t whylen) MUST_CHECK;

/*
 * The driver kicked the control transmitq: handles each of its messages, replies as the protocol
 * asks, and updates ctl->port_open. iov[0..iov_cap) is scratch. 0, or -EBADMSG when a control
 * queue broke.
 */
int console_ctrl_receive(struct console_ctrl *ctl, struct virtio_dev *d, struct iovec *iov,
			 unsigned int iov_cap) MUST_CHECK;

/* The driver posted control receive buffers: sends what it is owed. 0 or -EBADMSG. */
int console_ctrl_send_owed(struct console_ctrl *ctl, struct virtio_dev *d, struct iovec *iov,
			   unsigned int iov_cap) MUST_CHECK;

#endif
