/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's ONE_REG registers in a state file (reg_list.h). */
#include "snapshot/reg_list.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t reg_id_size(uint64_t id)
{
	uint64_t shift = (id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT;

	return shift > 8 ? 0 : (size_t)1 << shift; /* 1 << 8: KVM_REG_SIZE_U2048 */
}

int reg_set_alloc(struct reg_set *s, const uint64_t *host, size_t nhost)
{
	size_t bytes = 0;

	*s = (struct reg_set){ 0 };
	if (nhost > REG_LIST_MAX_REGS)
		return -E2BIG;
	for (size_t i = 0; i < nhost; i++) {
		size_t size = reg_id_size(host[i]);
		if (size == 0 || size > REG_LIST_MAX_BYTES)
			return -EINVAL;
		bytes += size;
	}
	s->ids = calloc(nhost ? nhost : 1, sizeof(*s->ids));
	s->offset = calloc(nhost ? nhost : 1, sizeof(*s->offset));
	s->data = calloc(bytes ? bytes : 1, 1);
	if (s->ids == NULL || s->offset == NULL || s->data == NULL) {
		reg_set_free(s);
		return -ENOMEM;
	}
	bytes = 0;
	for (size_t i = 0; i < nhost; i++) {
		s->ids[i] = host[i];
		s->offset[i] = bytes;
		bytes += reg_id_size(host[i]);
	}
	s->n = (uint32_t)nhost;
	return 0;
}

void reg_set_free(struct reg_set *s)
{
	free(s->ids);
	free(s->offset);
	free(s->data);
	*s = (struct reg_set){ 0 };
}

uint8_t *reg_set_value(const struct reg_set *s, uint64_t id)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return s->data + s->offset[i];
	return NULL;
}

void reg_set_put(struct snap_writer *w, const struct reg_set *s)
{
	snap_put_u32(w, s->n);
	for (uint32_t i = 0; i < s->n; i++) {
		size_t size = reg_id_size(s->ids[i]);

		snap_put_u64(w, s->ids[i]);
		snap_put_u32(w, (uint32_t)size);
		snap_put_bytes(w, s->data + s->offset[i], size);
	}
}

/* Where id is among host's n ids, or -1. */
static long host_index(const uint64_t *host, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (host[i] == id)
			return (long)i;
	return -1;
}

/*
 * Values go in the slot of host's own id, so an id the file names twice is found by the slot it
 * fills twice. host's order is KVM's; a restore sets the registers in the file's order.
 */
int reg_set_get(struct snap_cursor *c, const uint64_t *host, size_t nhost, struct reg_set *s, char *why,
		size_t whylen)
{
	uint32_t n = snap_get_u32(c);
	size_t room = nhost ? nhost : 1;
	uint64_t *ids = calloc(room, sizeof(*ids));
	size_t *offset = calloc(room, sizeof(*offset));
	bool *seen = calloc(room, sizeof(*seen));
	int rc = ids && offset && seen ? 0 : fail_with(why, whylen, -ENOMEM, "out of memory");

	if (rc == 0 && c->err == 0 && n > nhost)
		rc = fail_with(why, whylen, -EINVAL, "it lists %u registers, this vCPU has %zu", n, nhost);
	for (uint32_t i = 0; i < n && rc == 0 && c->err == 0; i++) {
		uint64_t id = snap_get_u64(c);
		uint32_t size = snap_get_u32(c);
		long k = host_index(host, nhost, id);

		if (c->err)
			break;
		if (k < 0)
			rc = fail_with(why, whylen, -EINVAL, "register %#llx is not one this vCPU has",
				       (unsigned long long)id);
		else if (size != reg_id_size(id))
			rc = fail_with(why, whylen, -EBADMSG, "register %#llx has %u bytes, its id says %zu",
				       (unsigned long long)id, size, reg_id_size(id));
		else if (seen[k])
			rc = fail_with(why, whylen, -EBADMSG, "register %#llx is saved twice", (unsigned long long)id);
		if (rc < 0)
			break;
		seen[k] = true;
		ids[i] = id;
		offset[i] = s->offset[k];
		snap_get_bytes(c, s->data + s->offset[k], size);
	}
	if (rc == 0 && c->err == 0) {
		/* s keeps its values in host's slots; its list becomes the file's, in the file's order */
		memcpy(s->ids, ids, n * sizeof(*ids));
		memcpy(s->offset, offset, n * sizeof(*offset));
		s->n = n;
	}
	free(ids);
	free(offset);
	free(seen);
	return rc;
}
