/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The register games every device gets (games.h), and their interpreter. What each game expects is
 * kiln's virtio-mmio rule set (src/virtio/mmio.c): the driver may only add status bits (virtio 1.2
 * §2.1.2), a refused write keeps the status and adds NEEDS_RESET with a configuration interrupt;
 * DRIVER_OK never activates twice; queue and feature registers are frozen once in use; rings must
 * be sized, aligned and in RAM, apart from each other (§2.7); kicks where nothing is ready are
 * ignored; the register area takes only aligned 32-bit accesses; a malformed chain breaks the queue.
 */
#include "games.h"

#define S_UP_N (S_UP | S_NEEDS_RESET)
#define S_LIVE_N (S_LIVE | S_NEEDS_RESET)
#define EVENT_MARK 0xa5a5
#define KICK_PAST 0xfffffffdu /* OP_KICK: the first queue index the device does not have */
#define SELECT_KQ() W(4, REG_QUEUE_SEL, KICK_QUEUE)
#define PEEK(width_, reg_) R(width_, reg_, 0, 0)

/* --- status (§2.1.2, §3.1.1) ---------------------------------------------------------------------- */
static const struct step g_drop_driver_ok[] = {
	UP(), QUEUES(), STATUS(S_LIVE), EXPECT_STATUS(S_LIVE),
	STATUS(S_UP), EXPECT_STATUS(S_LIVE_N), EXPECT_INT(INT_CONFIG), END()
};
/* Issue 10, defect 1: DRIVER_OK dropped, then 0: the reset must still reset the running device. */
static const struct step g_drop_then_reset[] = {
	UP(), QUEUES(), STATUS(S_LIVE), GOOD(), STATUS(S_UP), STATUS(0), EXPECT_STATUS(0), END()
};
static const struct step g_driver_ok_twice[] = {
	UP(), QUEUES(), STATUS(S_LIVE), GOOD(), STATUS(S_LIVE), EXPECT_STATUS(S_LIVE), GOOD(), END()
};
static const struct step g_driver_ok_after_drop[] = {
	UP(), QUEUES(), STATUS(S_LIVE), GOOD(), STATUS(S_UP), STATUS(S_LIVE), EXPECT_STATUS(S_LIVE_N), END()
};
static const struct step g_drop_ack[] = {
	UP(), STATUS(S_DRIVER | S_FEATURES_OK), EXPECT_STATUS(S_UP_N), EXPECT_INT(INT_CONFIG), END()
};
static const struct step g_driver_ok_without_features_ok[] = {
	BEGIN(), FEATURES_GOOD(), QUEUES(), STATUS(S_ACK | S_DRIVER | S_DRIVER_OK),
	EXPECT_STATUS(S_ACK | S_DRIVER | S_NEEDS_RESET), EXPECT_INT(INT_CONFIG), END()
};
static const struct step g_driver_ok_with_needs_reset[] = {
	UP(), QUEUES(), STATUS(S_DRIVER | S_FEATURES_OK), STATUS(S_LIVE_N),
	R(4, REG_STATUS, S_DRIVER_OK | S_NEEDS_RESET, S_NEEDS_RESET), END()
};
/* The I/O thread sets NEEDS_RESET (a looping chain) while the vCPU rewrites the status: never lost. */
static const struct step g_status_written_while_breaking[] = {
	UP(), QUEUES(), STATUS(S_LIVE), CHAIN(C_LOOP), STATUS(S_LIVE), STATUS(S_LIVE), STATUS(S_LIVE),
	STATUS(S_LIVE), STATUS(S_LIVE), STATUS(S_LIVE), WAIT_STATUS(S_NEEDS_RESET), EXPECT_STATUS(S_LIVE_N),
	END()
};
static const struct step g_reset_while_serving[] = {
	UP(), QUEUES(), STATUS(S_LIVE), POST_GOOD(), KICK(KICK_QUEUE), STATUS(0), EXPECT_STATUS(0),
	UP(), QUEUES(), STATUS(S_LIVE), POST_GOOD(), KICK(KICK_QUEUE), STATUS(0), EXPECT_STATUS(0), END()
};

/* --- features (§2.2, §3.1.1 step 5 and 6) --------------------------------------------------------- */
static const struct step g_features_ok_without_version_1[] = {
	BEGIN(), FEATURES(0, 0), STATUS(S_UP), EXPECT_STATUS(S_ACK | S_DRIVER), END()
};
static const struct step g_features_ok_unoffered[] = {
	BEGIN(), FEATURES(0, F_HI_VERSION_1 | 0x80000000u), STATUS(S_UP), EXPECT_STATUS(S_ACK | S_DRIVER), END()
};
/* EVENT_IDX written after FEATURES_OK must not be taken: the device then leaves avail_event alone. */
static const struct step g_features_after_features_ok[] = {
	UP(), FEATURES(1u << F_EVENT_IDX, 0), QUEUES(), MARK_EVENT(), STATUS(S_LIVE), EXPECT_STATUS(S_LIVE),
	GOOD(), EVENT_MARKED(), END()
};
static const struct step g_selectors_out_of_range[] = {
	BEGIN(), W(4, REG_DEVICE_FEATURES_SEL, 0x80000000u), R(4, REG_DEVICE_FEATURES, ~0u, 0),
	W(4, REG_DRIVER_FEATURES_SEL, 7), W(4, REG_DRIVER_FEATURES, ~0u),
	W(4, REG_QUEUE_SEL, ~0u), R(4, REG_QUEUE_NUM_MAX, ~0u, 0), W(4, REG_QUEUE_NUM, QSZ),
	W(4, REG_QUEUE_READY, 1), R(4, REG_QUEUE_READY, ~0u, 0), W(4, REG_QUEUE_SEL, MAX_QUEUES),
	R(4, REG_QUEUE_NUM_MAX, ~0u, 0), FEATURES_GOOD(), STATUS(S_UP), EXPECT_STATUS(S_UP), QUEUES(),
	STATUS(S_LIVE), EXPECT_STATUS(S_LIVE), GOOD(), END()
};

/* --- queue registers (§4.2.3.2) ------------------------------------------------------------------- */
static const struct step g_queue_regs_after_driver_ok[] = {
	UP(), QUEUES(), STATUS(S_LIVE), SELECT_KQ(), W(4, REG_QUEUE_NUM, 2),
	W(4, REG_QUEUE_DESC_LOW, MMIO_HOLE), W(4, REG_QUEUE_DRIVER_LOW, MMIO_HOLE),
	W(4, REG_QUEUE_DEVICE_LOW, MMIO_HOLE), W(4, REG_QUEUE_READY, 0), R(4, REG_QUEUE_READY, ~0u, 1),
	EXPECT_STATUS(S_LIVE), GOOD(), END()
};
static const struct step g_queue_regs_while_ready[] = {
	UP(), QUEUES(), SELECT_KQ(), W(4, REG_QUEUE_NUM, 3), W(4, REG_QUEUE_DESC_LOW, MMIO_HOLE),
	W(4, REG_QUEUE_DEVICE_HIGH, 1), STATUS(S_LIVE), EXPECT_STATUS(S_LIVE), GOOD(), END()
};

/* --- ring layouts checked at DRIVER_OK (§2.7: sizes, alignment; in RAM; apart) -------------------- */
#define LAYOUT(field, kind, arg)                                                                   \
	{                                                                                          \
		UP(), RING(field, kind, arg), QUEUES(), STATUS(S_LIVE), EXPECT_STATUS(S_UP_N),     \
			EXPECT_INT(INT_CONFIG), END()                                              \
	}
static const struct step g_desc_in_hole[] = LAYOUT(RF_DESC, A_HOLE, 0);
static const struct step g_used_on_window[] = LAYOUT(RF_USED, A_WINDOW, 0);
static const struct step g_avail_beyond_ram[] = LAYOUT(RF_AVAIL, A_BEYOND, 0);
static const struct step g_used_across_ram_end[] = LAYOUT(RF_USED, A_RAM_END, 64);
static const struct step g_desc_across_ram_end[] = LAYOUT(RF_DESC, A_RAM_END, 128);
static const struct step g_desc_above_4g[] = LAYOUT(RF_DESC, A_HIGH, 0);
static const struct step g_desc_misaligned[] = LAYOUT(RF_DESC, A_GOOD, 8);
static const struct step g_avail_misaligned[] = LAYOUT(RF_AVAIL, A_GOOD, 1);
static const struct step g_used_misaligned[] = LAYOUT(RF_USED, A_GOOD, 2);
static const struct step g_avail_on_desc[] = LAYOUT(RF_AVAIL, A_OF_DESC, 0);
static const struct step g_avail_in_desc_tail[] = LAYOUT(RF_AVAIL, A_OF_DESC, 16 * QSZ - 2);
static const struct step g_used_in_desc[] = LAYOUT(RF_USED, A_OF_DESC, 128);
static const struct step g_used_in_avail[] = LAYOUT(RF_USED, A_OF_AVAIL, 32);
static const struct step g_size_3[] = LAYOUT(RF_NUM, A_LIT, 3);
static const struct step g_size_0[] = LAYOUT(RF_NUM, A_LIT, 0);
static const struct step g_size_above_max[] = LAYOUT(RF_NUM, A_LIT, 512);
static const struct step g_size_64k_plus_max[] = LAYOUT(RF_NUM, A_LIT, 0x10000u + QSZ);

/* --- kicks ---------------------------------------------------------------------------------------- */
static const struct step g_kick_out_of_range[] = {
	UP(), QUEUES(), STATUS(S_LIVE), KICK(KICK_PAST), KICK(MAX_QUEUES), KICK(0xffff), KICK(0x10000u),
	KICK(~0u), EXPECT_STATUS(S_LIVE), GOOD(), END()
};
static const struct step g_kick_unready[] = {
	UP(), RING(RF_READY, A_LIT, 0), QUEUES(), STATUS(S_LIVE), EXPECT_STATUS(S_LIVE), POST_GOOD(),
	KICK(KICK_QUEUE), EXPECT_STATUS(S_LIVE), END()
};
static const struct step g_kick_before_driver_ok[] = {
	UP(), QUEUES(), POST_GOOD(), KICK(KICK_QUEUE), EXPECT_STATUS(S_UP), STATUS(S_LIVE),
	EXPECT_STATUS(S_LIVE), KICK(KICK_QUEUE), DONE_GOOD(), END()
};
static const struct step g_kick_with_needs_reset[] = {
	UP(), QUEUES(), STATUS(S_LIVE), STATUS(S_UP), POST_GOOD(), KICK(KICK_QUEUE), EXPECT_STATUS(S_LIVE_N), END()
};

/* --- register accesses other than aligned 32-bit words (§4.2.2) ----------------------------------- */
static const struct step g_narrow_reads[] = {
	UP(), QUEUES(), STATUS(S_LIVE), R(1, REG_MAGIC, 0xff, 0), R(2, REG_MAGIC, 0xffff, 0),
	R(2, REG_MAGIC + 2, 0xffff, 0), R(1, REG_STATUS, 0xff, 0), R(2, REG_DEVICE_ID, 0xffff, 0),
	R(4, REG_MAGIC + 1, ~0u, 0), R(4, REG_STATUS + 2, ~0u, 0), R(4, REG_CONFIG - 2, ~0u, 0),
	R(4, REG_UNKNOWN, ~0u, 0), EXPECT_STATUS(S_LIVE), GOOD(), END()
};
static const struct step g_narrow_writes[] = {
	UP(), QUEUES(), STATUS(S_LIVE), W(1, REG_STATUS, 0), W(2, REG_STATUS, 0), W(4, REG_STATUS + 1, 0),
	W(2, REG_STATUS + 2, 0), W(1, REG_STATUS + 3, 0), EXPECT_STATUS(S_LIVE), W(1, REG_QUEUE_NOTIFY, 0),
	W(2, REG_QUEUE_NOTIFY + 1, 0), W(4, REG_QUEUE_NOTIFY + 2, 0), W(4, REG_MAGIC, 0),
	R(4, REG_MAGIC, ~0u, VIRTIO_MMIO_MAGIC), W(4, REG_INTERRUPT_ACK, ~0u), W(1, REG_INTERRUPT_ACK, 0xff),
	W(4, REG_UNKNOWN, ~0u), W(4, REG_CONFIG_GENERATION, 0), W(4, REG_CONFIG - 2, 0),
	EXPECT_STATUS(S_LIVE), GOOD(), END()
};
static const struct step g_narrow_queue_writes[] = {
	UP(), SELECT_KQ(), W(1, REG_QUEUE_READY, 1), R(4, REG_QUEUE_READY, ~0u, 0), W(2, REG_QUEUE_NUM, 3),
	W(4, REG_QUEUE_DESC_LOW + 1, ~0u), QUEUES(), STATUS(S_LIVE), EXPECT_STATUS(S_LIVE), GOOD(), END()
};
/* 8-byte accesses: a Status write of 0 in one would reset the device, were it not ignored. */
static const struct step g_eight_byte_accesses[] = {
	UP(), QUEUES(), STATUS(S_LIVE), CMPXCHG8B(REG_STATUS, 0), CMPXCHG8B(REG_QUEUE_NOTIFY, 0),
	CMPXCHG8B(REG_QUEUE_READY, 0), CMPXCHG8B(REG_CONFIG, 0), CMPXCHG8B(VIRTIO_MMIO_WINDOW - 4, 0),
	EXPECT_STATUS(S_LIVE), SELECT_KQ(), R(4, REG_QUEUE_READY, ~0u, 1), GOOD(), END()
};
/* Config space goes to the device at any width; past its end, and across the window's end, nothing. */
static const struct step g_config_edges[] = {
	UP(), QUEUES(), STATUS(S_LIVE), PEEK(1, REG_CONFIG), PEEK(2, REG_CONFIG + 1), PEEK(4, REG_CONFIG + 3),
	R(4, VIRTIO_MMIO_WINDOW - 4, ~0u, 0), R(1, VIRTIO_MMIO_WINDOW - 1, ~0u, 0),
	PEEK(4, VIRTIO_MMIO_WINDOW - 2), W(4, VIRTIO_MMIO_WINDOW - 4, ~0u), W(1, VIRTIO_MMIO_WINDOW - 1, 0xff),
	W(4, VIRTIO_MMIO_WINDOW - 2, ~0u), EXPECT_STATUS(S_LIVE), GOOD(), END()
};

/* --- malformed chains (§2.7.5: kiln's virtq_pop refuses each; the device needs a reset) ------------ */
#define BAD_CHAIN(kind)                                                                            \
	{                                                                                          \
		UP(), QUEUES(), STATUS(S_LIVE), CHAIN(kind), WAIT_STATUS(S_NEEDS_RESET),           \
			EXPECT_INT(INT_CONFIG), END()                                              \
	}
static const struct step g_chain_huge_len[] = BAD_CHAIN(C_HUGE_LEN);
static const struct step g_chain_beyond_ram[] = BAD_CHAIN(C_BEYOND_RAM);
static const struct step g_chain_in_window[] = BAD_CHAIN(C_IN_WINDOW);
static const struct step g_chain_ram_end[] = BAD_CHAIN(C_RAM_END);
static const struct step g_chain_loop[] = BAD_CHAIN(C_LOOP);
static const struct step g_chain_next_oor[] = BAD_CHAIN(C_NEXT_OUT_OF_RANGE);
static const struct step g_chain_head_oor[] = BAD_CHAIN(C_HEAD_OUT_OF_RANGE);
static const struct step g_chain_idx_too_far[] = BAD_CHAIN(C_IDX_TOO_FAR);
static const struct step g_chain_write_before_read[] = BAD_CHAIN(C_WRITE_BEFORE_READ);
static const struct step g_chain_indirect_bad_len[] = BAD_CHAIN(C_INDIRECT_BAD_LEN);
static const struct step g_chain_indirect_nested[] = BAD_CHAIN(C_INDIRECT_NESTED);
static const struct step g_chain_indirect_with_next[] = BAD_CHAIN(C_INDIRECT_WITH_NEXT);
static const struct step g_chain_indirect_too_big[] = BAD_CHAIN(C_INDIRECT_TOO_BIG);
static const struct step g_chain_indirect_loop[] = BAD_CHAIN(C_INDIRECT_LOOP);
static const struct step g_chain_indirect_beyond_ram[] = BAD_CHAIN(C_INDIRECT_BEYOND_RAM);
static const struct step g_chain_indirect_empty[] = BAD_CHAIN(C_INDIRECT_EMPTY);

static const struct game games[] = {
	{ "status bits removed after DRIVER_OK", g_drop_driver_ok },
	{ "DRIVER_OK dropped, then a reset", g_drop_then_reset },
	{ "DRIVER_OK written twice", g_driver_ok_twice },
	{ "DRIVER_OK dropped, then written again", g_driver_ok_after_drop },
	{ "ACKNOWLEDGE dropped before DRIVER_OK", g_drop_ack },
	{ "DRIVER_OK without FEATURES_OK", g_driver_ok_without_features_ok },
	{ "DRIVER_OK with NEEDS_RESET set", g_driver_ok_with_needs_reset },
	{ "reset right after a kick, twice", g_reset_while_serving },
	{ "Status rewritten while the device breaks a queue", g_status_written_while_breaking },
	{ "FEATURES_OK without VERSION_1", g_features_ok_without_version_1 },
	{ "FEATURES_OK with a feature never offered", g_features_ok_unoffered },
	{ "features written after FEATURES_OK", g_features_after_features_ok },
	{ "selectors out of range", g_selectors_out_of_range },
	{ "queue registers written after DRIVER_OK", g_queue_regs_after_driver_ok },
	{ "queue registers written while the queue is ready", g_queue_regs_while_ready },
	{ "descriptor table in the MMIO hole", g_desc_in_hole },
	{ "used ring on the device's own window", g_used_on_window },
	{ "avail ring beyond RAM", g_avail_beyond_ram },
	{ "used ring across the end of RAM", g_used_across_ram_end },
	{ "descriptor table across the end of RAM", g_desc_across_ram_end },
	{ "descriptor table above 4 GiB", g_desc_above_4g },
	{ "descriptor table misaligned", g_desc_misaligned },
	{ "avail ring misaligned", g_avail_misaligned },
	{ "used ring misaligned", g_used_misaligned },
	{ "avail ring on the descriptor table", g_avail_on_desc },
	{ "avail ring over the descriptor table's tail", g_avail_in_desc_tail },
	{ "used ring inside the descriptor table", g_used_in_desc },
	{ "used ring over the avail ring's tail", g_used_in_avail },
	{ "queue size 3", g_size_3 },
	{ "queue size 0 on a ready queue", g_size_0 },
	{ "queue size above QueueNumMax", g_size_above_max },
	{ "queue size 65536 + QueueNumMax", g_size_64k_plus_max },
	{ "kicks on queues out of range", g_kick_out_of_range },
	{ "a kick on a queue that is not ready", g_kick_unready },
	{ "a kick before DRIVER_OK", g_kick_before_driver_ok },
	{ "a kick with NEEDS_RESET set", g_kick_with_needs_reset },
	{ "8-, 16-bit and unaligned register reads", g_narrow_reads },
	{ "8-, 16-bit and unaligned register writes", g_narrow_writes },
	{ "8-, 16-bit and unaligned queue register writes", g_narrow_queue_writes },
	{ "8-byte locked accesses", g_eight_byte_accesses },
	{ "config space at every width, and past the window's end", g_config_edges },
	{ "a descriptor of 4 GiB - 1 bytes", g_chain_huge_len },
	{ "a descriptor beyond RAM", g_chain_beyond_ram },
	{ "a descriptor on the device's window", g_chain_in_window },
	{ "a descriptor across the end of RAM", g_chain_ram_end },
	{ "a chain that loops", g_chain_loop },
	{ "a next index out of range", g_chain_next_oor },
	{ "an avail ring entry out of range", g_chain_head_oor },
	{ "avail idx more than the queue size ahead", g_chain_idx_too_far },
	{ "a writable descriptor before a readable one", g_chain_write_before_read },
	{ "an indirect table of 24 bytes", g_chain_indirect_bad_len },
	{ "an indirect table inside an indirect table", g_chain_indirect_nested },
	{ "an indirect descriptor with NEXT", g_chain_indirect_with_next },
	{ "an indirect table larger than the queue", g_chain_indirect_too_big },
	{ "an indirect table that loops", g_chain_indirect_loop },
	{ "an indirect table beyond RAM", g_chain_indirect_beyond_ram },
	{ "an empty indirect table", g_chain_indirect_empty },
};

/* --- the interpreter ------------------------------------------------------------------------------ */
static uint64_t ring_value(const struct vdev *d, const struct vq *v, const struct step *s, uint64_t good)
{
	switch (s->val) {
	case A_GOOD:
		return good + s->mask;
	case A_LIT:
		return s->mask;
	case A_HOLE:
		return MMIO_HOLE;
	case A_WINDOW:
		return d->base;
	case A_BEYOND:
		return BEYOND_RAM;
	case A_RAM_END:
		return ram_end - s->mask;
	case A_HIGH:
		return good + 0x100000000ull;
	case A_OF_DESC:
		return v->desc + s->mask;
	default: /* A_OF_AVAIL */
		return v->avail + s->mask;
	}
}

static void set_ring(struct vdev *d, const struct step *s)
{
	struct vq *v = &d->q[d->kind->kick_queue];

	switch (s->reg) {
	case RF_DESC:
		v->desc = ring_value(d, v, s, v->desc);
		break;
	case RF_AVAIL:
		v->avail = ring_value(d, v, s, v->avail);
		break;
	case RF_USED:
		v->used = ring_value(d, v, s, v->used);
		break;
	case RF_NUM:
		v->num = (uint32_t)ring_value(d, v, s, v->num);
		break;
	default: /* RF_READY */
		v->ready = ring_value(d, v, s, v->ready) != 0;
		break;
	}
}

static uint32_t kick_target(const struct vdev *d, uint32_t val)
{
	if (val == KICK_QUEUE)
		return d->kind->kick_queue;
	return val == KICK_PAST ? d->nq : val;
}

static void read_step(const struct vdev *d, const struct step *s)
{
	uint32_t v = mmio_read(d->base + s->reg, s->width);

	if (s->mask == 0) /* a PEEK: only the access matters */
		return;
	if (s->reg == REG_STATUS && s->width == 4 && s->mask == ~0u)
		check(v == s->want, "Status 0x%x, want 0x%x", v, s->want);
	else
		check((v & s->mask) == s->want, "%u-byte read at 0x%x: 0x%x, want 0x%x under mask 0x%x",
		      s->width, s->reg, v, s->want, s->mask);
}

static void write_step(const struct vdev *d, const struct step *s)
{
	uint32_t val = s->val;

	if (s->reg == REG_QUEUE_SEL && val == KICK_QUEUE)
		val = d->kind->kick_queue;
	mmio_write(d->base + s->reg, val, s->width);
}

static void run_step(struct vdev *d, const struct step *s)
{
	unsigned int kq = d->kind->kick_queue;
	uint32_t st;

	switch (s->op) {
	case OP_BEGIN:
		dev_begin(d);
		break;
	case OP_FEATURES:
		dev_features(d, s->val, s->want);
		break;
	case OP_FEATURES_GOOD:
		dev_features(d, dev_good_features_lo(d), F_HI_VERSION_1);
		break;
	case OP_UP:
		st = dev_features_ok(d, 0);
		if (st != S_UP)
			check(false, "FEATURES_OK with good features: Status 0x%x", st);
		break;
	case OP_RING:
		set_ring(d, s);
		break;
	case OP_QUEUES:
		for (unsigned int q = 0; q < d->nq; q++)
			queue_program(d, q);
		break;
	case OP_WRITE:
		write_step(d, s);
		break;
	case OP_READ:
		read_step(d, s);
		break;
	case OP_CMPXCHG8B:
		mmio_cmpxchg8b(d->base + s->reg, s->val | (uint64_t)s->val << 32);
		break;
	case OP_WAIT:
		st = status_wait(d, s->mask);
		check((st & s->mask) == s->want, "Status gains 0x%x: 0x%x", s->mask, st);
		break;
	case OP_KICK:
		kick(d, kick_target(d, s->val));
		break;
	case OP_POST_GOOD:
		d->kind->post(d);
		break;
	case OP_DONE_GOOD:
		check(d->kind->done(d), "the request posted before is served");
		break;
	case OP_GOOD:
		check(dev_good_request(d), "a good request is served");
		break;
	case OP_MARK_EVENT:
		*vq_avail_event(d, kq) = EVENT_MARK;
		break;
	case OP_EVENT_MARKED:
		check(*vq_avail_event(d, kq) == EVENT_MARK, "avail_event untouched (EVENT_IDX not taken): 0x%x",
		      *vq_avail_event(d, kq));
		break;
	default: /* OP_CHAIN */
		chain_bad(d, kq, (enum chain_kind)s->val);
		kick(d, kq);
		break;
	}
}

void game_recover(struct vdev *d, const char *after)
{
	uint32_t st, ints;

	check_context(d->kind->name, after);
	dev_set_status(d, 0);
	st = dev_status(d);
	ints = reg_read(d, REG_INTERRUPT_STATUS);
	check(st == 0 && ints == 0, "a reset clears Status (0x%x) and InterruptStatus (0x%x)", st, ints);
	check(dev_activate(d, 0) && dev_good_request(d), "activated again, the device serves a good request");
	dev_reset(d);
	check_context(NULL, NULL);
}

bool game_run(struct vdev *d, const struct game *g)
{
	unsigned int before = checks_failed();

	check_context(d->kind->name, g->name);
	for (const struct step *s = g->steps; s->op != OP_END; s++)
		run_step(d, s);
	game_recover(d, g->name);
	return checks_failed() == before;
}

void games_run_all(struct vdev *d)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(games); i++)
		game_run(d, &games[i]);
}
