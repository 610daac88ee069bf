/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM Generation ID (Microsoft's "Virtual Machine Generation ID"; Linux's drivers/virt/vmgenid.c):
 * 16 random bytes in guest memory that the guest never uses as RAM, which the DSDT points at
 * (arch/x86/acpi.c: Device VGEN, its ADDR). kiln writes a fresh ID at every boot, and at every
 * restore, where it then pulses the line of the ACPI Generic Event Device, whose _EVT notifies VGEN:
 * the guest reads the new ID and reseeds its random number generator with it (Linux 5.18 and later:
 * add_vmfork_randomness), so that clones of one snapshot do not share their random numbers. The
 * device has no state beyond guest memory: nothing of it goes into the state file.
 */
#ifndef KILN_DEVICES_VMGENID_H
#define KILN_DEVICES_VMGENID_H

#include <stdint.h>

#include "irq/irq.h"
#include "mem/gmem.h"
#include "util.h"

#define VMGENID_SIZE 16

struct vmgenid {
	const struct gmem *mem;
	gpa_t addr;             /* where the ID lies in guest RAM */
	struct irq_line notify; /* the GED's interrupt: an edge says "the ID changed" */
};

void vmgenid_init(struct vmgenid *v, const struct gmem *mem, gpa_t addr, struct irq_line notify);

/* A boot: writes a fresh random ID. 0, or -errno from getrandom(2), or -EFAULT outside guest RAM. */
int vmgenid_generate(const struct vmgenid *v) MUST_CHECK;

/*
 * A restore, once the machine's and the vCPUs' state are loaded and before the guest runs: a
 * fresh ID, then an edge on the GED's line, which the restored interrupt controller latches for
 * the guest. Errors as vmgenid_generate's; the guest is not notified then.
 */
int vmgenid_renew(const struct vmgenid *v) MUST_CHECK;

#endif
