/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Malformed descriptor chains (virtio 1.2 §2.7.5, §2.7.5.3), each breaking one rule kiln's
 * virtq_pop checks. The chain goes into the descriptors from the queue's next free one on; the
 * indirect tables into those descriptors' buffers.
 */
#include "games.h"

static void put(struct vring_desc *t, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	t[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* The indirect-table cases: descriptor h names a table in its own buffer. */
static void indirect(struct vdev *d, unsigned int q, uint16_t h, enum chain_kind kind)
{
	struct vring_desc *t = vq_desc(d, q);
	uint32_t table_addr = vq_buf(d, q, h), data = vq_buf(d, q, h + 1u);
	struct vring_desc *table = (struct vring_desc *)table_addr;
	uint16_t h2 = (uint16_t)((h + 1) % QSZ);

	put(table, 0, data, 16, 0, 0);
	switch (kind) {
	case C_INDIRECT_BAD_LEN: /* §2.7.5.3.1: a multiple of 16 bytes */
		put(t, h, table_addr, 24, VIRTQ_DESC_F_INDIRECT, 0);
		break;
	case C_INDIRECT_NESTED: /* §2.7.5.3.1: no INDIRECT in an indirect table */
		put(table, 0, vq_buf(d, q, h2), 16, VIRTQ_DESC_F_INDIRECT, 0);
		put(t, h, table_addr, 16, VIRTQ_DESC_F_INDIRECT, 0);
		break;
	case C_INDIRECT_WITH_NEXT: /* §2.7.5.3.1: not both INDIRECT and NEXT */
		put(t, h, table_addr, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, h2);
		put(t, h2, data, 16, 0, 0);
		break;
	case C_INDIRECT_TOO_BIG: /* more entries than the queue has */
		for (uint16_t i = 0; i <= QSZ; i++)
			put(table, i, data, 16, i < QSZ ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
		put(t, h, table_addr, 16 * (QSZ + 1), VIRTQ_DESC_F_INDIRECT, 0);
		break;
	case C_INDIRECT_LOOP:
		put(table, 0, data, 16, VIRTQ_DESC_F_NEXT, 1);
		put(table, 1, data, 16, VIRTQ_DESC_F_NEXT, 0);
		put(t, h, table_addr, 32, VIRTQ_DESC_F_INDIRECT, 0);
		break;
	case C_INDIRECT_BEYOND_RAM:
		put(t, h, BEYOND_RAM, 32, VIRTQ_DESC_F_INDIRECT, 0);
		break;
	default: /* C_INDIRECT_EMPTY */
		put(t, h, table_addr, 0, VIRTQ_DESC_F_INDIRECT, 0);
		break;
	}
}

void chain_bad(struct vdev *d, unsigned int q, enum chain_kind kind)
{
	struct vq *v = &d->q[q];
	struct vring_desc *t = vq_desc(d, q);
	uint16_t h = v->next_desc, h2 = (uint16_t)((h + 1) % QSZ);
	uint32_t buf = vq_buf(d, q, h);

	v->next_desc = (uint16_t)((h + 2) % QSZ);
	switch (kind) {
	case C_HUGE_LEN:
		put(t, h, buf, 0xffffffffu, 0, 0);
		break;
	case C_BEYOND_RAM:
		put(t, h, BEYOND_RAM, 64, 0, 0);
		break;
	case C_IN_WINDOW:
		put(t, h, d->base, 64, VIRTQ_DESC_F_WRITE, 0);
		break;
	case C_RAM_END:
		put(t, h, ram_end - 8, 64, 0, 0);
		break;
	case C_LOOP:
		put(t, h, buf, 16, VIRTQ_DESC_F_NEXT, h2);
		put(t, h2, buf, 16, VIRTQ_DESC_F_NEXT, h);
		break;
	case C_NEXT_OUT_OF_RANGE:
		put(t, h, buf, 16, VIRTQ_DESC_F_NEXT, QSZ + 3);
		break;
	case C_HEAD_OUT_OF_RANGE:
		avail_publish(d, q, QSZ + 5);
		return;
	case C_IDX_TOO_FAR: /* §2.7.13: idx runs at most Queue Size ahead of the device */
		put(t, h, buf, 16, 0, 0);
		v->avail_idx = (uint16_t)(v->avail_idx + QSZ);
		break;
	case C_WRITE_BEFORE_READ: /* §2.7.4.2 */
		put(t, h, buf, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, h2);
		put(t, h2, buf, 16, 0, 0);
		break;
	default:
		indirect(d, q, h, kind);
		break;
	}
	avail_publish(d, q, h);
}
