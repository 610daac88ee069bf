/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile tiny guest (freestanding C, -m32, paging off): what every part of it shares. Port and
 * MMIO accessors of each width (inline asm, so the access is exactly the one written), the output
 * (UART, or a log flushed through virtio-console when kiln's console is virtio), TAP-style checks,
 * and the guest's memory map.
 */
#ifndef HOSTILE_GUEST_H
#define HOSTILE_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- memory map (guest-physical; kiln's tests boot this guest with --mem 16M) -------------------- */
/* The image, stack included, is at 1 MiB (hostile.ld). */
#define GUEST_SCRATCH 0x200000u    /* 1 MiB a game may hand the device whole */
#define GUEST_SCRATCH_SIZE 0x100000u
#define GUEST_AREA_BASE 0x400000u  /* rings and buffers: one DEV_AREA_SIZE area per device */
#define DEV_AREA_SIZE 0x100000u
#define GUEST_MAX_DEVS 7
#define GUEST_LOG_BASE 0xc00000u   /* the output log, when it goes out through virtio-console */
#define GUEST_LOG_SIZE 0x100000u
#define BEYOND_RAM 0x40000000u     /* no RAM there with --mem 16M, and below the MMIO hole */
#define MMIO_HOLE 0xc0000000u      /* the 32-bit MMIO hole: never RAM */

/* --- port and MMIO access ----------------------------------------------------------------------- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t mmio_read(uint32_t addr, unsigned int width)
{
	uint32_t v = 0;

	if (width == 1)
		__asm__ __volatile__("movb (%1), %b0" : "+q"(v) : "r"(addr) : "memory");
	else if (width == 2)
		__asm__ __volatile__("movw (%1), %w0" : "+r"(v) : "r"(addr) : "memory");
	else
		__asm__ __volatile__("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write(uint32_t addr, uint32_t v, unsigned int width)
{
	if (width == 1)
		__asm__ __volatile__("movb %b0, (%1)" : : "q"(v), "r"(addr) : "memory");
	else if (width == 2)
		__asm__ __volatile__("movw %w0, (%1)" : : "r"(v), "r"(addr) : "memory");
	else
		__asm__ __volatile__("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

/*
 * lock cmpxchg8b on MMIO: an 8-byte read, then (the 8 bytes read being 0, as kiln gives for any
 * access it ignores) an 8-byte write of val. The only 8-byte access without SSE or MMX.
 */
static inline void mmio_cmpxchg8b(uint32_t addr, uint64_t val)
{
	uint32_t lo = 0, hi = 0;

	__asm__ __volatile__("lock; cmpxchg8b (%4)"
			     : "+a"(lo), "+d"(hi)
			     : "b"((uint32_t)val), "c"((uint32_t)(val >> 32)), "r"(addr)
			     : "memory", "cc");
}

/* A full fence: the driver's stores (avail idx) before its loads (used flags), virtio 1.2 §2.7.13. */
static inline void mb(void)
{
	__asm__ __volatile__("lock; addl $0, (%%esp)" : : : "memory", "cc");
}

static inline void barrier(void)
{
	__asm__ __volatile__("" : : : "memory");
}

/*
 * How many pauses a wait for kiln lasts before it counts as a failure: generous, as kiln answers in
 * microseconds. A pause is a VM exit: about 9 s in all on PVM, where an exit costs ~9 us.
 */
#define WAIT_POLLS 1000000u

/* A pause between polls: one port read, a VM exit, so that each poll costs the same everywhere. */
static inline void poll_pause(void)
{
	(void)inb(0xf4);
}

/* --- io.c ----------------------------------------------------------------------------------------- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* Output goes to the UART until output_to_log(); then to a log that output_take_log() hands out. */
void output_to_log(void);
const char *output_take_log(uint32_t *len);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vgprintf(const char *fmt, va_list ap);

/* What the checks are about, printed before each: a device and a game (either may be NULL). */
void check_context(const char *device, const char *game);
/* "ok - DEVICE: GAME: ..." or "not ok - ..." (counted); returns ok. */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned int checks_failed(void);

/* Serial-console mode only: asks the test's host side to act ("@host ACTION"), waits for its ack. */
bool host_can_act(void);
void host_act(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Guest RAM below 4 GiB ends here (from the PVH start info's memory map). */
extern uint32_t ram_end;
void ram_end_from_start_info(uint32_t start_info);

#endif
