/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a vCPU's register list from a stranger's state file (snapshot/reg_list.c,
 * reg_set_get), as an arm64 restore reads it against its vCPU's KVM_GET_REG_LIST.
 *
 * Input: a 1-byte prefix, then a section's payload (u32 count; per register u64 id, u32 size,
 * value). The prefix picks the vCPU's list: the first (prefix % 9) ids of host_pool, whose sizes
 * are 4, 8, 16 and 256 bytes.
 *
 * Checked: a refusal is one line and leaves the set as it was (the vCPU's own ids and order); a
 * list the cursor runs out in also leaves it so; an accepted list holds at most the vCPU's count
 * of ids, each one the vCPU has, each once, in the payload's order, each value the payload's
 * bytes, decoded here independently, and the cursor's finish fails exactly when bytes follow it.
 *
 * Seeds (tests/fuzz/corpus/reglist/): the prefix byte, then a payload written by hand.
 *   all        prefix 8; all 8 ids in pool order, values 0x11.. (accepted)
 *   reordered  prefix 4; 3 of the 4 ids in another order (accepted)
 *   unknown    prefix 2; an id not among the vCPU's (refused)
 *   twice      prefix 4; an id twice (refused)
 *   bad_size   prefix 4; a size that is not the id's (refused)
 */
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_check.h"
#include "snapshot/reg_list.h"
#include "support/snap_image.h"

#define TAG SNAP_TAG('A', 'C', 'P', 'U')
#define ARM64_ID(size, low) (KVM_REG_ARM64 | (size) | (uint64_t)(low))

static const uint64_t host_pool[] = {
	ARM64_ID(KVM_REG_SIZE_U64, 0x100000), ARM64_ID(KVM_REG_SIZE_U64, 0x100002),
	ARM64_ID(KVM_REG_SIZE_U32, 0x1000d4), ARM64_ID(KVM_REG_SIZE_U128, 0x100040),
	ARM64_ID(KVM_REG_SIZE_U64, 0x13c005), ARM64_ID(KVM_REG_SIZE_U64, 0x13df1a),
	ARM64_ID(KVM_REG_SIZE_U2048, 0x150000), ARM64_ID(KVM_REG_SIZE_U64, 0x140000),
};

static uint64_t fuzz_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static bool one_line(const char *why)
{
	return why[0] != '\0' && strchr(why, '\n') == NULL;
}

/* The set as reg_set_alloc left it: the vCPU's ids in its order. */
static bool untouched(const struct reg_set *s, size_t nhost)
{
	if (s->n != nhost)
		return false;
	for (size_t i = 0; i < nhost; i++)
		if (s->ids[i] != host_pool[i])
			return false;
	return true;
}

/* An accepted list: the payload's, decoded here; the bytes it took. */
static size_t check_accepted(const struct reg_set *s, size_t nhost, const uint8_t *p, size_t len)
{
	uint32_t count = (uint32_t)fuzz_le(p, 4);
	size_t off = 4;

	fuzz_check(count == s->n && count <= nhost);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t id = fuzz_le(p + off, 8);
		size_t size = (size_t)fuzz_le(p + off + 8, 4);
		bool in_host = false;

		fuzz_check(off + 12 + size <= len);
		fuzz_check(s->ids[i] == id && size == reg_id_size(id));
		for (size_t k = 0; k < nhost; k++)
			in_host |= host_pool[k] == id;
		fuzz_check(in_host);
		for (uint32_t j = 0; j < i; j++)
			fuzz_check(s->ids[j] != id);
		fuzz_check(memcmp(s->data + s->offset[i], p + off + 12, size) == 0);
		off += 12 + size;
	}
	return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct snap_writer w;
	struct snap_reader r;
	struct snap_cursor c;
	struct reg_set s;
	char why[256] = "";

	if (len < 1)
		return 0;
	size_t nhost = data[0] % (ARRAY_SIZE(host_pool) + 1);
	const uint8_t *p = data + 1;
	size_t plen = len - 1;

	if (snap_image_wrap(TAG, 0, p, plen, &w, &r) < 0 || snap_open_section(&r, TAG, 0, &c) < 0) {
		snap_writer_free(&w);
		return 0;
	}
	fuzz_check(reg_set_alloc(&s, host_pool, nhost) == 0);
	int rc = reg_set_get(&c, host_pool, nhost, &s, why, sizeof(why));
	int cursor_err = c.err;
	int finish = snap_cursor_finish(&c);

	if (rc < 0 || cursor_err)
		fuzz_check((rc == 0 || one_line(why)) && untouched(&s, nhost));
	else /* the list whole; bytes after it fail the cursor's finish (the caller's "malformed") */
		fuzz_check((check_accepted(&s, nhost, p, plen) == plen) == (finish == 0));
	reg_set_free(&s);
	snap_reader_close(&r);
	snap_writer_free(&w);
	return 0;
}
