/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Register games: a game is a name and a small register program, a list of steps the interpreter
 * (games.c) runs against one device. A step writes or reads a register of any width at any offset,
 * changes a ring's address or size before the queues are programmed, posts a malformed chain, or
 * checks what kiln answered. Adding a game is adding a table row built from the macros below.
 *
 * After each game, the runner resets the device, checks the reset took (status and interrupt
 * status 0), activates it properly and checks one good request is served: kiln still runs, and
 * the device still works.
 */
#ifndef HOSTILE_GAMES_H
#define HOSTILE_GAMES_H

#include "virtio.h"

enum game_op {
	OP_END,
	OP_BEGIN,         /* reset, ACKNOWLEDGE, DRIVER, offered features read */
	OP_FEATURES,      /* DriverFeatures: val is the low word, want the high one */
	OP_FEATURES_GOOD, /* DriverFeatures: VERSION_1 and INDIRECT_DESC (when offered) */
	OP_UP,            /* OP_BEGIN, OP_FEATURES_GOOD, FEATURES_OK: checks the status is S_UP */
	OP_RING,          /* sets a field of the kick queue's struct vq: reg is a ring_field, val an addr_kind */
	OP_QUEUES,        /* programs every queue's registers from its struct vq */
	OP_WRITE,         /* writes val to register reg with width bytes */
	OP_READ,          /* reads register reg with width bytes: checks (value & mask) == want */
	OP_CMPXCHG8B,     /* a locked 8-byte read and write (of val, twice) at reg */
	OP_STATUS,        /* writes val to Status */
	OP_WAIT,          /* waits until the status has every bit of mask, then checks (status & mask) == want */
	OP_KICK,          /* QueueNotify: val, or the kick queue when val is KICK_QUEUE */
	OP_POST_GOOD,     /* the device's good request into the rings, no kick */
	OP_DONE_GOOD,     /* checks the good request posted before completes */
	OP_GOOD,          /* post, kick, check: the device serves a good request */
	OP_MARK_EVENT,    /* a mark in the kick queue's avail_event (written only under EVENT_IDX) */
	OP_EVENT_MARKED,  /* checks the mark is still there */
	OP_CHAIN,         /* a malformed chain (val: a chain_kind) on the kick queue, and a kick */
};

/* OP_RING fields. */
enum ring_field { RF_DESC, RF_AVAIL, RF_USED, RF_NUM, RF_READY };

/* OP_RING values: what goes in the field (mask is an addend or the literal). */
enum addr_kind {
	A_GOOD,     /* the field's good address + mask */
	A_LIT,      /* mask itself */
	A_HOLE,     /* the MMIO hole's start */
	A_WINDOW,   /* the device's own MMIO window */
	A_BEYOND,   /* an address above RAM, below the hole */
	A_RAM_END,  /* ram_end - mask: straddles the end of RAM */
	A_HIGH,     /* the good address + 4 GiB: no RAM there */
	A_OF_DESC,  /* the queue's descriptor table + mask */
	A_OF_AVAIL, /* the queue's avail ring + mask */
};

#define KICK_QUEUE 0xfffffffeu

struct step {
	uint8_t op;
	uint8_t width;
	uint16_t reg;
	uint32_t val;
	uint32_t mask;
	uint32_t want;
};

struct game {
	const char *name;
	const struct step *steps;
};

#define BEGIN() { .op = OP_BEGIN }
#define FEATURES(lo, hi) { .op = OP_FEATURES, .val = (lo), .want = (hi) }
#define FEATURES_GOOD() { .op = OP_FEATURES_GOOD }
#define UP() { .op = OP_UP }
#define RING(field, kind, arg) { .op = OP_RING, .reg = (field), .val = (kind), .mask = (arg) }
#define QUEUES() { .op = OP_QUEUES }
#define W(width_, reg_, v) { .op = OP_WRITE, .width = (width_), .reg = (reg_), .val = (v) }
#define R(width_, reg_, mask_, want_) \
	{ .op = OP_READ, .width = (width_), .reg = (reg_), .mask = (mask_), .want = (want_) }
#define CMPXCHG8B(reg_, v) { .op = OP_CMPXCHG8B, .reg = (reg_), .val = (v) }
#define STATUS(v) W(4, REG_STATUS, v)
#define EXPECT_STATUS(v) R(4, REG_STATUS, 0xffffffffu, v)
#define EXPECT_INT(bits) R(4, REG_INTERRUPT_STATUS, bits, bits)
#define WAIT_STATUS(bits) { .op = OP_WAIT, .mask = (bits), .want = (bits) }
#define KICK(q) { .op = OP_KICK, .val = (q) }
#define POST_GOOD() { .op = OP_POST_GOOD }
#define DONE_GOOD() { .op = OP_DONE_GOOD }
#define GOOD() { .op = OP_GOOD }
#define MARK_EVENT() { .op = OP_MARK_EVENT }
#define EVENT_MARKED() { .op = OP_EVENT_MARKED }
#define CHAIN(kind) { .op = OP_CHAIN, .val = (kind) }
#define END() { .op = OP_END }

/* Runs one game on d, then the reset and good request after it; returns false if kiln broke a rule. */
bool game_run(struct vdev *d, const struct game *g);
/* The reset, activation and good request every game ends with. */
void game_recover(struct vdev *d, const char *after);
/* Every game of the table on d. */
void games_run_all(struct vdev *d);

/* chains.c: malformed chains; chain_bad writes one into queue q and publishes it (no kick). */
enum chain_kind {
	C_HUGE_LEN,
	C_BEYOND_RAM,
	C_IN_WINDOW,
	C_RAM_END,
	C_LOOP,
	C_NEXT_OUT_OF_RANGE,
	C_HEAD_OUT_OF_RANGE,
	C_IDX_TOO_FAR,
	C_WRITE_BEFORE_READ,
	C_INDIRECT_BAD_LEN,
	C_INDIRECT_NESTED,
	C_INDIRECT_WITH_NEXT,
	C_INDIRECT_TOO_BIG,
	C_INDIRECT_LOOP,
	C_INDIRECT_BEYOND_RAM,
	C_INDIRECT_EMPTY,
};
void chain_bad(struct vdev *d, unsigned int q, enum chain_kind kind);

#endif
