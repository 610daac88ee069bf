/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: virtio-console with MULTIPORT (virtio/console.c, console_ctrl.c, virtio 1.2
 * §5.3.6.2) behind the real transport: control messages of any port id, event and value, short
 * and long, in control receive buffers of any size, with terminal input on a pipe (or a file) and
 * output on a pipe. Besides the harness's invariants:
 * - the device sends only DEVICE_ADD (value 0), CONSOLE_PORT (value 1) and PORT_OPEN (value 1),
 *   for port 0, as 8 bytes, and never more of each than the driver asked for (DEVICE_READY with a
 *   value for DEVICE_ADD, PORT_READY(0, value) for the other two);
 * - input reaches the receive buffers only while the driver's port 0 is open (its last
 *   PORT_OPEN(0, v) had v != 0), in order, never past a chain's end;
 * - every transmit chain's bytes reach the terminal, in order.
 *
 * Input: byte 0: bit 0 EVENT_IDX, bit 1 input from a file instead of a pipe. Then operations
 * (op u8 % 5):
 *   0 CTRL   a control message: id u8 (0: 0, 1: 0xffffffff, 2: 1, else u32 follows), event u16,
 *            value u16, shape u8 (bits 0-2: bytes added to 8, or with bit 3 cut from it; bit 4
 *            split in two descriptors; bit 5 indirect); then a kick
 *   1 CRX    1 + (b % 4) control receive buffers of u8 % 16 bytes each; then a kick
 *   2 RX     1 + (b % 4) receive buffers of u8 bytes each; then a kick
 *   3 TYPE   n u8 bytes typed into the terminal, then the I/O loop runs (n 0: the host hangs up)
 *   4 TX     n u8 bytes written by the guest; the host reads the terminal
 */
#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz_virtio_common.h"
#include "fuzz/fuzz_virtio_hosts.h"
#include "virtio/console.h"

#define FUZZ_QSIZE 16
#define FUZZ_STREAM 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

struct fuzz_queue {
	struct fv_posted chains[FUZZ_QSIZE]; /* posted and not used yet, [first, end) */
	unsigned int first, end, desc;
	uint16_t used;
};

struct fuzz_console {
	struct fuzz_queue q[4];
	bool port_open;
	unsigned int asked[3], sent[3]; /* DEVICE_ADD, CONSOLE_PORT, PORT_OPEN */
	uint8_t typed[FUZZ_STREAM], written[FUZZ_STREAM];
	size_t typed_len, delivered, written_len, shown;
	bool file_input;
};

static struct fv fuzz_fv;
static struct fuzz_console fuzz_con;
static uint8_t fuzz_buf[FUZZ_STREAM];

/* Posts p on queue q when the ring and the buffer area have room; false: the driver waits. */
static bool fuzz_post(struct fv *f, struct fuzz_console *c, unsigned int q, struct fv_posted *p)
{
	struct fuzz_queue *fq = &c->q[q];
	bool idle = true;

	for (unsigned int i = 0; i < 4; i++)
		idle &= c->q[i].first == c->q[i].end;
	if (fq->end - fq->first == FUZZ_QSIZE || !fv_post(f, q, p, &fq->desc, idle))
		return false;
	fq->chains[fq->end++ % FUZZ_QSIZE] = *p;
	return true;
}

/* The driver's message: what the model expects the device to owe (§5.3.6.2). */
static void fuzz_learn(struct fuzz_console *c, uint32_t id, uint16_t event, uint16_t value)
{
	if (event == VIRTIO_CONSOLE_DEVICE_READY && value != 0) {
		c->asked[0]++;
	} else if (id == 0 && event == VIRTIO_CONSOLE_PORT_READY && value != 0) {
		c->asked[1]++;
		c->asked[2]++;
	} else if (id == 0 && event == VIRTIO_CONSOLE_PORT_OPEN) {
		c->port_open = value != 0;
	}
}

static void fuzz_ctrl(struct fv *f, struct fuzz_console *c, struct fv_in *in)
{
	static const uint32_t ids[] = { 0, 0xffffffff, 1 };
	uint8_t sel = fv_u8(in);
	uint32_t id = sel < 3 ? ids[sel] : fv_u32(in);
	struct virtio_console_control msg = { .id = htole32(id), .event = htole16(fv_u16(in)),
					      .value = htole16(fv_u16(in)) };
	uint8_t shape = fv_u8(in), bytes[16] = { 0 };
	unsigned int len = shape & 8 ? 8 - (shape & 7) : 8 + (shape & 7);
	struct fv_posted p = { .indirect = shape & 0x20 };

	memcpy(bytes, &msg, sizeof(msg));
	if ((shape & 0x10) && len > 3) {
		p.segs[p.n++] = (struct fv_seg){ .len = 3, .data = bytes, .data_len = 3 };
		p.segs[p.n++] = (struct fv_seg){ .len = len - 3, .data = bytes + 3, .data_len = len - 3 };
	} else {
		p.segs[p.n++] = (struct fv_seg){ .len = len, .data = bytes, .data_len = len };
	}
	if (!fuzz_post(f, c, VIRTIO_CONSOLE_CTRL_TRANSMITQ, &p))
		return;
	if (len >= sizeof(msg)) /* shorter ones are ignored */
		fuzz_learn(c, id, le16toh(msg.event), le16toh(msg.value));
	fv_kick(f, VIRTIO_CONSOLE_CTRL_TRANSMITQ);
}

/* Receive buffers for queue q, 1 + (b % 4) of them, each of u8 bytes masked by mask. */
static void fuzz_buffers(struct fv *f, struct fuzz_console *c, struct fv_in *in, unsigned int q, uint8_t mask)
{
	uint8_t b = fv_u8(in);

	for (unsigned int i = 0; i < 1 + b % 4u; i++) {
		struct fv_posted p = { .n = 1, .segs[0] = { .len = fv_u8(in) & mask, .write = true } };

		if (!fuzz_post(f, c, q, &p))
			break;
	}
	fv_kick(f, q);
}

static void fuzz_type(struct fv *f, struct fuzz_console *c, struct fv_host *h, struct fv_in *in)
{
	size_t n;
	const uint8_t *bytes = fv_bytes(in, fv_u8(in), &n);

	if (n == 0 && h->con_in[1] >= 0) {
		close(h->con_in[1]); /* EOF: the input ends for good */
		h->con_in[1] = -1;
	} else if (h->con_in[1] >= 0 && c->typed_len + n <= FUZZ_STREAM) {
		ssize_t w = write(h->con_in[1], bytes, n);

		if (w > 0) {
			memcpy(c->typed + c->typed_len, bytes, (size_t)w);
			c->typed_len += (size_t)w;
		}
	}
	fv_pump(f);
}

static void fuzz_tx(struct fv *f, struct fuzz_console *c, struct fv_host *h, struct fv_in *in)
{
	size_t n;
	const uint8_t *bytes = fv_bytes(in, fv_u8(in), &n);
	struct fv_posted p = { .n = 1, .segs[0] = { .len = (uint32_t)n, .data = bytes, .data_len = n } };

	if (c->written_len + n <= FUZZ_STREAM && fuzz_post(f, c, VIRTIO_CONSOLE_TRANSMITQ, &p)) {
		memcpy(c->written + c->written_len, bytes, n);
		c->written_len += n;
		fv_kick(f, VIRTIO_CONSOLE_TRANSMITQ);
	}
	ssize_t r;

	while ((r = read(h->con_out[0], fuzz_buf, sizeof(fuzz_buf))) > 0) {
		fv_check(c->shown + (size_t)r <= c->written_len);
		fv_check(memcmp(fuzz_buf, c->written + c->shown, (size_t)r) == 0);
		c->shown += (size_t)r;
	}
}

/* --- what the device did ----------------------------------------------------------------------- */

/* The next used entry of queue q, with the chain it returns (in the order posted); false: none. */
static bool fuzz_next_used(struct fv *f, struct fuzz_queue *fq, unsigned int q, const struct fv_posted **p,
			   uint32_t *len)
{
	uint32_t id;

	if (fq->used == fv_used_idx(f, q))
		return false;
	fv_check(fq->first != fq->end);
	*p = &fq->chains[fq->first++ % FUZZ_QSIZE];
	fv_used(f, q, fq->used++, &id, len);
	fv_check(id == (*p)->head && *len <= (*p)->cap);
	fq->desc -= (*p)->ndesc;
	return true;
}

/* A message from the device (§5.3.6.2): one the driver asked for, for port 0. */
static void fuzz_check_message(struct fuzz_console *c, const struct virtio_console_control *m)
{
	static const uint16_t events[3] = { VIRTIO_CONSOLE_DEVICE_ADD, VIRTIO_CONSOLE_CONSOLE_PORT,
					    VIRTIO_CONSOLE_PORT_OPEN };
	unsigned int k = 0;

	while (k < 3 && le16toh(m->event) != events[k])
		k++;
	fv_check(k < 3 && le32toh(m->id) == 0 && le16toh(m->value) == (k == 0 ? 0 : 1));
	fv_check(++c->sent[k] <= c->asked[k]);
}

static void fuzz_collect(struct fv *f, struct fuzz_console *c)
{
	const struct fv_posted *p;
	uint32_t len;

	while (fuzz_next_used(f, &c->q[VIRTIO_CONSOLE_CTRL_RECEIVEQ], VIRTIO_CONSOLE_CTRL_RECEIVEQ, &p, &len)) {
		struct virtio_console_control m;

		/* A buffer too small for a message comes back empty; the message waits for the next. */
		fv_check(len == (p->cap < sizeof(m) ? 0 : sizeof(m)));
		if (len == sizeof(m) && fv_written(f, p, sizeof(m), (uint8_t *)&m) == sizeof(m))
			fuzz_check_message(c, &m);
	}
	while (fuzz_next_used(f, &c->q[VIRTIO_CONSOLE_RECEIVEQ], VIRTIO_CONSOLE_RECEIVEQ, &p, &len)) {
		fv_check(len == 0 || c->port_open); /* Linux drops what reaches a port it has not opened */
		fv_check(c->delivered + len <= c->typed_len);
		fv_check(fv_written(f, p, len, fuzz_buf) == len);
		fv_check(memcmp(fuzz_buf, c->typed + c->delivered, len) == 0);
		c->delivered += len;
	}
	for (unsigned int q = VIRTIO_CONSOLE_TRANSMITQ; q <= VIRTIO_CONSOLE_CTRL_TRANSMITQ; q += 2)
		while (fuzz_next_used(f, &c->q[q], q, &p, &len))
			fv_check(len == 0); /* the device writes nothing into what it sends */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fv_in in = { data, len };
	struct fuzz_console *c = &fuzz_con;
	struct fv *f = &fuzz_fv;
	struct fv_host h;

	if (len < 1)
		return 0;
	uint8_t cfg = fv_u8(&in);
	struct fv_host_opts opts = { .con_input = cfg & 2 ? FV_CON_FILE : FV_CON_PIPE };

	memset(c, 0, sizeof(*c));
	if (cfg & 2) {
		c->typed_len = strlen(FV_CON_FILE_INPUT);
		memcpy(c->typed, FV_CON_FILE_INPUT, c->typed_len);
	}
	fv_begin(f);
	fv_host_create(&h, FV_CONSOLE, &opts);
	fv_attach(f, h.dev);
	fv_check(fv_driver_init(f, (1ull << VIRTIO_CONSOLE_F_MULTIPORT) | (cfg & 1 ? 1ull << VIRTIO_F_EVENT_IDX : 0),
				FUZZ_QSIZE));
	while (in.len > 0) {
		switch (fv_u8(&in) % 5) {
		case 0:
			fuzz_ctrl(f, c, &in);
			break;
		case 1:
			fuzz_buffers(f, c, &in, VIRTIO_CONSOLE_CTRL_RECEIVEQ, 15);
			break;
		case 2:
			fuzz_buffers(f, c, &in, VIRTIO_CONSOLE_RECEIVEQ, 0xff);
			break;
		case 3:
			fuzz_type(f, c, &h, &in);
			break;
		default:
			fuzz_tx(f, c, &h, &in);
			break;
		}
		fuzz_collect(f, c);
		fv_check(!(f->status & FV_NEEDS_RESET)); /* every chain here is well formed */
	}
	fv_detach(f);
	fv_host_destroy(&h);
	fv_end(f);
	return 0;
}
