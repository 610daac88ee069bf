/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-console control protocol with one port (virtio 1.2 §5.3.6.2), as Linux's
 * virtio_console driver runs it:
 *
 *   driver                          device
 *   DEVICE_READY(value 1)     ->
 *                             <-    DEVICE_ADD(port 0)
 *   PORT_READY(0, 1)          ->                          port 0's receiveq is filled
 *                             <-    CONSOLE_PORT(0, 1), PORT_OPEN(0, 1)   the host end is connected
 *   PORT_OPEN(0, 1)           ->                          hvc0 exists and keeps what it receives
 *
 * Only then may input flow: Linux drops what reaches a port it has not opened yet.
 *
 * Replies are owed, one bit per message, so a driver that repeats itself or posts no control
 * receive buffers cannot make kiln queue without bound; they go out as soon as there is a buffer.
 * A reply goes out before the request that asked for it is returned: Linux spins on each control
 * message until the device returns it, and its control work reads the control receiveq in a loop,
 * so a reply already in the ring is handled in the same pass and hvc0 comes up without waiting for
 * another round trip.
 *
 * The driver is hostile: a short message, an event it may not send, or a port other than 0 is
 * ignored with a rate-limited warning; only a broken ring breaks the device.
 */
#include "virtio/console_ctrl.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "virtio/console.h"
#include "virtio/iov.h"

#define CTRL_MSG_SIZE sizeof(struct virtio_console_control)

enum {
	OWE_DEVICE_ADD = 1u << 0,
	OWE_CONSOLE_PORT = 1u << 1,
	OWE_PORT_OPEN = 1u << 2,
};

/* What each owed bit sends, in the order they go out. */
static const struct {
	unsigned int bit;
	uint16_t event;
	uint16_t value;
} owed_messages[] = {
	{ OWE_DEVICE_ADD, VIRTIO_CONSOLE_DEVICE_ADD, 0 },     /* value unused */
	{ OWE_CONSOLE_PORT, VIRTIO_CONSOLE_CONSOLE_PORT, 1 }, /* port 0 is a console: hvc0 */
	{ OWE_PORT_OPEN, VIRTIO_CONSOLE_PORT_OPEN, 1 },       /* kiln's end is always connected */
};

#define OWE_ALL (OWE_DEVICE_ADD | OWE_CONSOLE_PORT | OWE_PORT_OPEN)

void console_ctrl_reset(struct console_ctrl *ctl)
{
	*ctl = (struct console_ctrl){ 0 };
}

void console_ctrl_save(const struct console_ctrl *ctl, struct snap_writer *w)
{
	snap_put_u32(w, ctl->owed);
	snap_put_bool(w, ctl->port_open);
}

int console_ctrl_load(struct console_ctrl *ctl, struct snap_cursor *c, bool multiport, const char *dev,
		      char *why, size_t whylen)
{
	/* Any mix of the known bits is reachable: a driver may send its messages in any order. */
	uint32_t owed = snap_get_u32_in(c, 0, OWE_ALL);
	bool port_open = snap_get_bool(c);

	if (c->err < 0)
		return 0;
	if (!multiport && (owed != 0 || port_open))
		return fail_with(why, whylen, -EINVAL, "%s: a MULTIPORT control state, for a driver that did not "
				 "start MULTIPORT", dev);
	ctl->owed = owed;
	ctl->port_open = port_open;
	return 0;
}

/* Writes msg into the writable part of e; false when that is too small to hold it. */
static bool ctrl_put(const struct virtq_elem *e, const struct virtio_console_control *msg)
{
	struct iovec part[CTRL_MSG_SIZE]; /* a slice skips empty iovecs: at most one per byte */

	if (e->in_len < CTRL_MSG_SIZE)
		return false;
	unsigned int n = iov_slice(e->iov + e->out_num, e->in_num, 0, CTRL_MSG_SIZE, part);

	iov_from_buf(part, n, msg);
	return true;
}

/* Pops the next control receive buffer: 1, 0 when there is none (kicks enabled), or -EBADMSG. */
static int ctrl_next_buffer(struct virtq *q, struct virtq_elem *e, struct iovec *iov, unsigned int iov_cap)
{
	int rc;

	do {
		rc = virtq_pop(q, e, iov, iov_cap);
	} while (rc == 0 && virtq_enable_kicks(q));
	return rc;
}

/* Sends the lowest owed message into the next buffer: 1 sent, 0 no buffer, -EBADMSG. */
static int ctrl_send_one(struct console_ctrl *ctl, struct virtq *q, struct iovec *iov, unsigned int iov_cap)
{
	unsigned int i = 0;
	struct virtq_elem e;

	while (i < ARRAY_SIZE(owed_messages) && !(ctl->owed & owed_messages[i].bit))
		i++;
	if (i == ARRAY_SIZE(owed_messages))
		return 0;
	int rc = ctrl_next_buffer(q, &e, iov, iov_cap);
	if (rc <= 0)
		return rc;
	struct virtio_console_control msg = {
		.id = htole32(0),
		.event = htole16(owed_messages[i].event),
		.value = htole16(owed_messages[i].value),
	};
	if (ctrl_put(&e, &msg)) {
		ctl->owed &= ~owed_messages[i].bit;
		virtq_push(q, e.head, CTRL_MSG_SIZE);
	} else { /* still owed: it goes into the next buffer */
		log_guest(LOG_WARN, "virtio-console", "a control receive buffer of %llu bytes is too small",
			  (unsigned long long)e.in_len);
		virtq_push(q, e.head, 0);
	}
	return 1;
}

int console_ctrl_send_owed(struct console_ctrl *ctl, struct virtio_dev *d, struct iovec *iov,
			   unsigned int iov_cap)
{
	struct virtq *q = &d->queues[VIRTIO_CONSOLE_CTRL_RECEIVEQ];
	bool pushed = false;
	int rc = 0;

	while (ctl->owed != 0) {
		rc = ctrl_send_one(ctl, q, iov, iov_cap);
		if (rc <= 0)
			break;
		pushed = true;
	}
	if (pushed)
		d->transport->used(d, VIRTIO_CONSOLE_CTRL_RECEIVEQ);
	return rc < 0 ? rc : 0;
}

/* Acts on one message from the driver (§5.3.6.2, driver-to-device events only). */
static void ctrl_handle(struct console_ctrl *ctl, const struct virtio_console_control *msg)
{
	uint32_t id = le32toh(msg->id);
	uint16_t event = le16toh(msg->event), value = le16toh(msg->value);

	if (event == VIRTIO_CONSOLE_DEVICE_READY) { /* about the device: Linux sends id ~0 */
		if (value)
			ctl->owed |= OWE_DEVICE_ADD;
		else
			log_guest(LOG_WARN, "virtio-console", "the driver failed to set the device up");
		return;
	}
	if (event != VIRTIO_CONSOLE_PORT_READY && event != VIRTIO_CONSOLE_PORT_OPEN) {
		log_guest(LOG_WARN, "virtio-console", "ignoring control event %u from the driver", event);
		return;
	}
	if (id != 0) {
		log_guest(LOG_WARN, "virtio-console", "ignoring control event %u for port %u: there is only port 0",
			  event, id);
		return;
	}
	if (event == VIRTIO_CONSOLE_PORT_OPEN)
		ctl->port_open = value != 0;
	else if (value)
		ctl->owed |= OWE_CONSOLE_PORT | OWE_PORT_OPEN;
	else
		log_guest(LOG_WARN, "virtio-console", "the driver failed to add port 0");
}

int console_ctrl_receive(struct console_ctrl *ctl, struct virtio_dev *d, struct iovec *iov,
			 unsigned int iov_cap)
{
	struct virtq *q = &d->queues[VIRTIO_CONSOLE_CTRL_TRANSMITQ];
	bool pushed = false;
	int rc = 0;

	do {
		virtq_disable_kicks(q);
		for (;;) {
			struct virtq_elem e;
			struct virtio_console_control msg;

			rc = virtq_pop(q, &e, iov, iov_cap);
			if (rc <= 0)
				break;
			if (e.out_len >= CTRL_MSG_SIZE) {
				iov_to_buf(iov, e.out_num, 0, &msg, CTRL_MSG_SIZE);
				ctrl_handle(ctl, &msg);
				/*
				 * The reply before the request's return: see the top of this file. It
				 * may reuse iov: the message is copied out and e.head is all that is left.
				 */
				rc = console_ctrl_send_owed(ctl, d, iov, iov_cap);
			} else {
				log_guest(LOG_WARN, "virtio-console", "a control message of %llu bytes is too short",
					  (unsigned long long)e.out_len);
			}
			virtq_push(q, e.head, 0); /* the device wrote nothing into it */
			pushed = true;
			if (rc < 0)
				break;
		}
	} while (rc == 0 && virtq_enable_kicks(q));
	if (pushed)
		d->transport->used(d, VIRTIO_CONSOLE_CTRL_TRANSMITQ);
	return rc;
}
