/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Console output (the UART's or virtio-console's) that never blocks a kiln thread: bytes go into
 * a bounded buffer and out to the host fd as fast as its reader takes them. When the reader stops
 * (`kiln run | less`, a stuck supervisor) the buffer fills and what does not fit is dropped,
 * counted and logged once; the guest, its other devices and pause/resume carry on.
 */
#ifndef KILN_IO_CONSOLE_OUT_H
#define KILN_IO_CONSOLE_OUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/uio.h>

#include "io/loop.h"
#include "util.h"

/* Bytes queued for a reader that is not keeping up: twice a default pipe's 64 KiB. */
#define CONSOLE_OUT_CAPACITY (128u * 1024)
/* How long console_out_destroy() waits for a reader to take what is still queued. */
#define CONSOLE_OUT_EXIT_WAIT_MS 2000

struct console_out;

/*
 * Output to fd (the caller keeps it, and its file status flags stay as they are), drained by
 * loop's thread whenever fd is not ready at once. loop is only recorded here, and may be NULL
 * until console_out_set_loop(): it must be initialized by the first write. Every byte dropped is
 * added to *dropped. 0 or -errno.
 */
int console_out_create(int fd, struct io_loop *loop, atomic_ullong *dropped,
		       struct console_out **out) MUST_CHECK;
/* The loop, for an owner that learns it after create (a virtio device: from its transport). */
void console_out_set_loop(struct console_out *o, struct io_loop *loop);

/*
 * Any thread, never blocks: queues iov[0..n) and writes what fd takes now; what does not fit in
 * the buffer is dropped. Takes o's own lock, which is taken last: a device may hold its lock.
 */
void console_out_writev(struct console_out *o, const struct iovec *iov, unsigned int n);
void console_out_write(struct console_out *o, const void *buf, size_t len);

/*
 * A snapshot (the vCPUs parked, the I/O thread held): writes what is queued on the caller's thread,
 * waiting up to ms for the reader to take it. What the reader has not taken by then stays queued,
 * for loop's thread to write once fd has room; a write error (the reader went away) drops it,
 * counted as always. Takes o's lock, last. Returns the bytes still queued.
 */
size_t console_out_sync(struct console_out *o, unsigned int ms);

/*
 * Once loop's thread no longer runs (the loop itself may be gone): writes what is still queued,
 * waiting up to CONSOLE_OUT_EXIT_WAIT_MS for the reader (what is left then is dropped), then frees
 * o. NULL is a no-op.
 */
void console_out_destroy(struct console_out *o);

#endif
