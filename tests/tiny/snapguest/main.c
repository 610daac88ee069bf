/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot tests' guest (tests/integration/snapshot.sh): freestanding C linked with the hostile
 * guest's virtio driver and output (tests/tiny/hostile/), entered through its start.S. What it does
 * depends on kiln's devices:
 *
 * - a virtio-console (kiln --console virtio): drives it with MULTIPORT when the command line says
 *   "multiport" (then the control handshake as Linux runs it, virtio 1.2 §5.3.6.2), without it
 *   otherwise; counts 1..COUNT_END on it, a line per number and a transmit chain per line, each
 *   waited for; then posts one receive buffer and waits for it to come back (input, or the end of
 *   input: with MULTIPORT only once the port is open). The exit status is (1 + ... + COUNT_END) mod
 *   100, 50; a step that fails prints "not ok - ..." on the console and exits 90 + the step.
 *   A snapshot taken midway is restored to count on: no gap, no repeat, and the port still open.
 *
 * - a virtio-vsock device (its CID on the UART): posts receive buffers and one event buffer, says
 *   "vsock: ready" and waits, with no timeout, for an event: a restore's TRANSPORT_RESET (§5.10.6.6).
 *   Then, as a driver does after it, it connects anew: to host port G2H_PORT (kiln connects to
 *   "<uds>_1234"), sends G2H_TEXT and shuts the connection down; then it says "vsock: listening on
 *   port 5001", takes the host's connection there, sends H2G_TEXT and shuts it down. Each step is
 *   an "ok - vsock: ..." line on the UART; the exit status is the number of failed checks.
 *
 * No device of either kind: "not ok" and status 1.
 */
#include "requests.h"

#define COUNT_END 2500
#define PAUSES_PER_LINE 50   /* a pace the snapshot tests can catch midway */
#define CONSOLE_FAIL 90      /* + the step that failed */

#define VSOCK_EVENTQ 2
#define VSOCK_EVENT_LEN 4    /* struct virtio_vsock_event: le32 id */
#define VSOCK_EVENT_TRANSPORT_RESET 0
#define VSOCK_OP_SHUTDOWN 4
#define VSOCK_SHUTDOWN_BOTH 3
#define VSOCK_RX_POSTED 8
#define VSOCK_WAITS 8        /* used_wait bounds, each about 9 s on PVM: the host side may be slow */
#define G2H_PORT 1234
#define G2H_LOCAL 5000
#define G2H_TEXT "hello from the guest\n"
#define H2G_PORT 5001
#define H2G_TEXT "hello to the host\n"

int snapguest_main(uint32_t start_info);

static struct vdev devs[GUEST_MAX_DEVS];

/* Whether the kernel command line (hvm_start_info.cmdline_paddr, at 0x18) holds word. */
static bool cmdline_has(uint32_t start_info, const char *word)
{
	const char *p = (const char *)*(const uint32_t *)(start_info + 0x18);
	size_t n = 0;

	while (word[n])
		n++;
	for (; p != NULL && *p; p++)
		if (memcmp(p, word, n) == 0 && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

static void pause_for(unsigned int pauses)
{
	while (pauses--)
		poll_pause();
}

/* --- virtio-console ----------------------------------------------------------------------------- */

static bool console_write(struct vdev *d, const char *text, uint32_t len)
{
	struct vring_used_elem e;

	console_post_tx(d, text, len);
	kick(d, CONSOLE_TXQ);
	return used_wait(d, CONSOLE_TXQ, &e);
}

static void console_fail(struct vdev *d, const char *what)
{
	char line[96];
	uint32_t len = 0;

	for (const char *s = "not ok - virtio-console: "; *s; s++)
		line[len++] = *s;
	for (; *what && len < sizeof(line) - 1; what++)
		line[len++] = *what;
	line[len++] = '\n';
	(void)console_write(d, line, len);
}

static bool ctrl_send(struct vdev *d, uint32_t id, uint16_t event, uint16_t value)
{
	const uint32_t msg[2] = { id, (uint32_t)event | (uint32_t)value << 16 };
	const struct seg s = { 0, sizeof(msg), false };
	struct vring_used_elem e;

	memcpy(next_buf(d, CONSOLE_CTRL_TXQ, 0), msg, sizeof(msg));
	chain_post(d, CONSOLE_CTRL_TXQ, &s, 1);
	kick(d, CONSOLE_CTRL_TXQ);
	return used_wait(d, CONSOLE_CTRL_TXQ, &e);
}

/* Waits for the device's next control message, which must be event (port 0, value 1 but for DEVICE_ADD). */
static bool ctrl_expect(struct vdev *d, uint16_t event)
{
	struct vring_used_elem e;
	const struct seg s = { 0, 8, true };

	if (!used_wait(d, CONSOLE_CTRL_RXQ, &e) || e.len != 8)
		return false;
	const uint32_t *msg = (const uint32_t *)vq_buf(d, CONSOLE_CTRL_RXQ, e.id);
	bool ok = msg[0] == 0 && (msg[1] & 0xffff) == event;

	chain_post(d, CONSOLE_CTRL_RXQ, &s, 1); /* the buffer goes back */
	kick(d, CONSOLE_CTRL_RXQ);
	return ok;
}

/* Linux's handshake: DEVICE_READY, DEVICE_ADD; PORT_READY, CONSOLE_PORT and PORT_OPEN; PORT_OPEN. */
static bool console_handshake(struct vdev *d)
{
	const struct seg s = { 0, 8, true };

	for (int i = 0; i < 4; i++)
		chain_post(d, CONSOLE_CTRL_RXQ, &s, 1);
	kick(d, CONSOLE_CTRL_RXQ);
	return ctrl_send(d, 0xffffffffu, CONSOLE_DEVICE_READY, 1) && ctrl_expect(d, 1 /* DEVICE_ADD */) &&
	       ctrl_send(d, 0, CONSOLE_PORT_READY, 1) && ctrl_expect(d, 4 /* CONSOLE_PORT */) &&
	       ctrl_expect(d, CONSOLE_PORT_OPEN) && ctrl_send(d, 0, CONSOLE_PORT_OPEN, 1);
}

static int console_test(struct vdev *d, bool multiport)
{
	const struct seg in = { 0, 64, true };
	struct vring_used_elem e;
	uint32_t sum = 0;
	char line[12];

	if (!dev_activate(d, multiport ? 1u << CONSOLE_F_MULTIPORT : 0))
		return CONSOLE_FAIL + 1;
	if (multiport && !console_handshake(d)) {
		console_fail(d, "the MULTIPORT handshake");
		return CONSOLE_FAIL + 2;
	}
	outb(0xf5, 1); /* tiny.h: PORT_DEBUG_READY, BOOT_READY */
	for (uint32_t n = 1; n <= COUNT_END; n++) {
		uint32_t len = 0, v = n;
		char digits[10];
		int k = 0;

		do {
			digits[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (k)
			line[len++] = digits[--k];
		line[len++] = '\n';
		if (!console_write(d, line, len))
			return CONSOLE_FAIL + 3;
		sum += n;
		pause_for(PAUSES_PER_LINE);
	}
	chain_post(d, CONSOLE_RXQ, &in, 1);
	kick(d, CONSOLE_RXQ);
	if (!used_wait(d, CONSOLE_RXQ, &e)) {
		console_fail(d, "no input, nor its end, reached the port");
		return CONSOLE_FAIL + 4;
	}
	return (int)(sum % 100);
}

/* --- virtio-vsock ------------------------------------------------------------------------------- */

/* The next packet the device sent, its buffer given back; NULL when none came. */
static const struct vsock_hdr *vsock_next(struct vdev *d, struct vsock_hdr *h)
{
	struct vring_used_elem e;
	const struct vsock_hdr *p = NULL;

	for (int i = 0; i < VSOCK_WAITS && p == NULL; i++)
		p = vsock_rx_wait(d, &e);
	if (p == NULL)
		return NULL;
	*h = *p;
	vsock_post_rx(d, 1);
	kick(d, VSOCK_RXQ);
	return h;
}

static bool vsock_send(struct vdev *d, uint32_t local, uint32_t peer, uint16_t op, uint32_t flags,
		       const char *text)
{
	struct vsock_hdr h = vsock_hdr(d, local, peer, op);
	uint32_t len = 0;
	struct vring_used_elem e;

	while (text && text[len])
		len++;
	h.len = len;
	h.flags = flags;
	vsock_post_tx(d, &h, text, len);
	kick(d, VSOCK_TXQ);
	return used_wait(d, VSOCK_TXQ, &e);
}

/* Data, then both directions shut: kiln resets the connection once the host end has all of it. */
static bool vsock_send_and_close(struct vdev *d, uint32_t local, uint32_t peer, const char *text)
{
	struct vsock_hdr h;

	if (!vsock_send(d, local, peer, VSOCK_OP_RW, 0, text) ||
	    !vsock_send(d, local, peer, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_BOTH, NULL))
		return false;
	while (vsock_next(d, &h) != NULL) /* credit updates and the host's shutdown may come first */
		if (h.op == VSOCK_OP_RST && h.src_port == peer && h.dst_port == local)
			return true;
	return false;
}

static bool vsock_connect_out(struct vdev *d)
{
	struct vsock_hdr h;

	if (!vsock_send(d, G2H_LOCAL, G2H_PORT, VSOCK_OP_REQUEST, 0, NULL) || vsock_next(d, &h) == NULL)
		return false;
	if (!check(h.op == VSOCK_OP_RESPONSE && h.src_port == G2H_PORT && h.dst_port == G2H_LOCAL,
		   "vsock: the host accepted a connection to port %u (op %u)", G2H_PORT, h.op))
		return false;
	return check(vsock_send_and_close(d, G2H_LOCAL, G2H_PORT, G2H_TEXT), "vsock: sent to the host, closed");
}

static bool vsock_accept_in(struct vdev *d)
{
	struct vsock_hdr h;

	gprintf("vsock: listening on port %u\n", H2G_PORT);
	if (!check(vsock_next(d, &h) != NULL && h.op == VSOCK_OP_REQUEST && h.dst_port == H2G_PORT,
		   "vsock: the host connects to port %u", H2G_PORT))
		return false;
	return vsock_send(d, H2G_PORT, h.src_port, VSOCK_OP_RESPONSE, 0, NULL) &&
	       check(vsock_send_and_close(d, H2G_PORT, h.src_port, H2G_TEXT), "vsock: sent to the host's client, closed");
}

static void vsock_test(struct vdev *d)
{
	const struct seg ev = { 0, VSOCK_EVENT_LEN, true };
	volatile uint16_t *used_idx;
	struct vring_used_elem e;

	check_context(NULL, NULL);
	if (!check(dev_activate(d, 0), "vsock: the device runs"))
		return;
	vsock_post_rx(d, VSOCK_RX_POSTED);
	kick(d, VSOCK_RXQ);
	chain_post(d, VSOCK_EVENTQ, &ev, 1);
	kick(d, VSOCK_EVENTQ);
	gprintf("vsock: ready, CID %u\n", vsock_guest_cid(d));
	outb(0xf5, 1); /* tiny.h: PORT_DEBUG_READY, BOOT_READY */
	used_idx = (volatile uint16_t *)((uint32_t)d->q[VSOCK_EVENTQ].used + 2);
	while (*used_idx == 0) /* a snapshot is taken here, and restored */
		poll_pause();
	if (!check(used_wait(d, VSOCK_EVENTQ, &e) && e.len == VSOCK_EVENT_LEN &&
		   *(const uint32_t *)vq_buf(d, VSOCK_EVENTQ, e.id) == VSOCK_EVENT_TRANSPORT_RESET,
		   "vsock: a TRANSPORT_RESET event"))
		return;
	gprintf("# vsock: CID %u after the reset\n", vsock_guest_cid(d));
	if (vsock_connect_out(d))
		(void)vsock_accept_in(d);
}

int snapguest_main(uint32_t start_info)
{
	struct vdev *d;
	unsigned int n = dev_scan(devs, GUEST_MAX_DEVS);

	if ((d = dev_find(devs, n, DEV_ID_CONSOLE)) != NULL)
		return console_test(d, cmdline_has(start_info, "multiport"));
	if ((d = dev_find(devs, n, DEV_ID_VSOCK)) != NULL) {
		vsock_test(d);
		return checks_failed() > 255 ? 255 : (int)checks_failed();
	}
	check(false, "a virtio-console or virtio-vsock device");
	return 1;
}
