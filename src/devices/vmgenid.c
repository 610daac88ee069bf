/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/vmgenid.h"

#include <errno.h>
#include <sys/random.h>

void vmgenid_init(struct vmgenid *v, const struct gmem *mem, gpa_t addr, struct irq_line notify)
{
	*v = (struct vmgenid){ .mem = mem, .addr = addr, .notify = notify };
}

/* getrandom(2) of 16 bytes from the host's initialised pool; a signal may cut a read short. */
static int vmgenid_random(uint8_t id[VMGENID_SIZE])
{
	size_t done = 0;

	while (done < VMGENID_SIZE) {
		ssize_t r = getrandom(id + done, VMGENID_SIZE - done, 0);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			done += (size_t)r;
	}
	return 0;
}

int vmgenid_generate(const struct vmgenid *v)
{
	uint8_t id[VMGENID_SIZE];
	int rc = vmgenid_random(id);

	return rc < 0 ? rc : gmem_write(v->mem, v->addr, id, sizeof(id));
}

/*
 * A restored guest's RAM is the memory file mapped copy-on-write: the write gives this clone its
 * own copy of the one page that holds the ID. The edge comes after the ID is in place: the guest's
 * driver reads the ID when the notification arrives.
 */
int vmgenid_renew(const struct vmgenid *v)
{
	int rc = vmgenid_generate(v);

	if (rc == 0)
		irq_line_pulse(&v->notify);
	return rc;
}
