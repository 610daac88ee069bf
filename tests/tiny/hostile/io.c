/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile guest's library: the few libc functions the compiler may call, the output (COM1 by
 * polling, or a log in RAM when kiln's console is virtio and COM1 goes nowhere), a printf with
 * %s %u %d %x %c, TAP-style checks, the host side's actions, and the end of RAM.
 */
#include "guest.h"

#define PORT_COM1 0x3f8
#define PORT_COM1_LSR 0x3fd
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

uint32_t ram_end;

static bool to_log;
static uint32_t log_len;
static unsigned int failed;
static const char *context[2];

/* String instructions: one instruction, where a loop would be many (and PVM emulates each). */
void *memset(void *s, int c, size_t n)
{
	void *d = s;

	__asm__ __volatile__("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ __volatile__("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

static void uart_putc(char c)
{
	while (!(inb(PORT_COM1_LSR) & LSR_THR_EMPTY))
		;
	outb(PORT_COM1, (uint8_t)c);
}

static void putc_out(char c)
{
	if (!to_log) {
		uart_putc(c);
		return;
	}
	if (log_len < GUEST_LOG_SIZE)
		((char *)GUEST_LOG_BASE)[log_len++] = c;
}

void output_to_log(void)
{
	to_log = true;
}

const char *output_take_log(uint32_t *len)
{
	*len = log_len;
	log_len = 0;
	return (const char *)GUEST_LOG_BASE;
}

static void put_str(const char *s)
{
	while (*s)
		putc_out(*s++);
}

static void put_num(uint32_t v, unsigned int base)
{
	char buf[11];
	int i = 0;

	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		putc_out(buf[--i]);
}

void vgprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_out(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			put_str(va_arg(ap, const char *));
			break;
		case 'u':
			put_num(va_arg(ap, unsigned int), 10);
			break;
		case 'd': {
			int v = va_arg(ap, int);

			if (v < 0)
				putc_out('-');
			put_num(v < 0 ? -(uint32_t)v : (uint32_t)v, 10);
			break;
		}
		case 'x':
			put_num(va_arg(ap, unsigned int), 16);
			break;
		case 'c':
			putc_out((char)va_arg(ap, int));
			break;
		case '%':
			putc_out('%');
			break;
		default: /* not a conversion this printf has: print it as written */
			putc_out('%');
			if (*fmt == '\0')
				return;
			putc_out(*fmt);
			break;
		}
	}
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
}

void check_context(const char *device, const char *game)
{
	context[0] = device;
	context[1] = game;
}

bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok)
		failed++;
	put_str(ok ? "ok - " : "not ok - ");
	for (unsigned int i = 0; i < ARRAY_SIZE(context) && context[i] != NULL; i++)
		gprintf("%s: ", context[i]);
	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
	putc_out('\n');
	return ok;
}

unsigned int checks_failed(void)
{
	return failed;
}

bool host_can_act(void)
{
	return !to_log;
}

/*
 * The host side (tests/integration/hostile_host.c) reads kiln's stdout: a line "@host ACTION" asks
 * it to act (send on the vsock socket, put a frame on the tap); it answers with one byte on the
 * console's input once it has, which the guest reads from COM1.
 */
void host_act(const char *fmt, ...)
{
	va_list ap;
	unsigned int i;

	put_str("@host ");
	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
	putc_out('\n');
	for (i = 0; i < WAIT_POLLS && !(inb(PORT_COM1_LSR) & LSR_DATA_READY); i++)
		poll_pause();
	if (check(i < WAIT_POLLS, "the host side acknowledged its action"))
		(void)inb(PORT_COM1);
}

/* hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h): memmap_paddr at 0x28, its count at 0x30. */
void ram_end_from_start_info(uint32_t start_info)
{
	const uint8_t *info = (const uint8_t *)start_info;
	uint32_t map = *(const uint32_t *)(info + 0x28);
	uint32_t count = *(const uint32_t *)(info + 0x30);

	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = (const uint8_t *)map + 24 * i; /* addr u64, size u64, type u32, pad */
		uint64_t addr = *(const uint64_t *)e, size = *(const uint64_t *)(e + 8);
		uint32_t type = *(const uint32_t *)(e + 16);

		if (type == 1 && addr + size <= 0x100000000ull && addr + size > ram_end)
			ram_end = (uint32_t)(addr + size);
	}
}
