/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A vCPU's registers as KVM's ONE_REG interface names them (api.rst 4.68, KVM_SET_ONE_REG; 4.84,
 * KVM_GET_REG_LIST): a 64-bit id per register whose size field (KVM_REG_SIZE_MASK) gives the value's
 * size, 1 << n bytes. arm64 saves its vCPUs this way; the code knows no architecture.
 *
 * In a state file: u32 count, then per register u64 id, u32 size (the id's, repeated to catch a
 * corrupt id), size bytes of value. A file's list is input from a stranger: reg_set_get takes only
 * ids the restoring vCPU's own KVM_GET_REG_LIST holds, each once, each with its id's size.
 */
#ifndef KILN_SNAPSHOT_REG_LIST_H
#define KILN_SNAPSHOT_REG_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snap_file.h"
#include "util.h"

#define REG_LIST_MAX_REGS 4096u /* KVM lists some 500 on arm64 today */
#define REG_LIST_MAX_BYTES 256u /* KVM_REG_SIZE_U2048: the largest size an id can name */

/* The registers of one vCPU: ids[i]'s value is size(ids[i]) bytes at data + offset[i]. */
struct reg_set {
	uint32_t n;
	uint64_t *ids;
	size_t *offset;
	uint8_t *data;
};

/* The bytes of id's value (0 when its size field names more than REG_LIST_MAX_BYTES). */
size_t reg_id_size(uint64_t id);
/*
 * Room for the registers of host (nhost ids, as KVM_GET_REG_LIST gave them), filled with those ids
 * and zero values: 0, -E2BIG for more than REG_LIST_MAX_REGS ids, -EINVAL for an id whose size is
 * over REG_LIST_MAX_BYTES (one KVM would not list), -ENOMEM.
 */
int reg_set_alloc(struct reg_set *s, const uint64_t *host, size_t nhost) MUST_CHECK;
void reg_set_free(struct reg_set *s);
/* The value of id in s, or NULL. */
uint8_t *reg_set_value(const struct reg_set *s, uint64_t id);
void reg_set_put(struct snap_writer *w, const struct reg_set *s);
/*
 * The list at c into s (reg_set_alloc'd for the same host ids): 0, or -EINVAL/-EBADMSG with one
 * line in why naming the register refused. The cursor's other errors are left for its finish.
 */
int reg_set_get(struct snap_cursor *c, const uint64_t *host, size_t nhost, struct reg_set *s, char *why,
		size_t whylen) MUST_CHECK;

#endif
