/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Section MACH/0: kvm_irqchip for chip 0 (PIC master), 1 (PIC slave), 2 (IOAPIC), then the u64
 * kvmclock value and the u64 host CLOCK_REALTIME (ns) when it was read. KVM checks each structure
 * when it is set; kiln checks the chip ids. There is no PIT to save (vm_build.c, create_irqchip).
 */
#include "arch/x86/machine_snapshot.h"

#include <string.h>

#include "arch/x86/kvm_x86.h"
#include "kvm/kvm.h"
#include "log.h"

static const unsigned int chip_ids[] = { KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC };

int x86_machine_save(int vm_fd, const struct kvm_clock_data *clock, uint64_t realtime_ns, struct snap_writer *w)
{
	int rc;

	snap_begin(w, X86_SNAP_TAG_MACHINE, 0);
	for (size_t i = 0; i < ARRAY_SIZE(chip_ids); i++) {
		struct kvm_irqchip chip = { .chip_id = chip_ids[i] };

		if ((rc = kvm_get_irqchip(vm_fd, &chip)) < 0) {
			log_error("snapshot", "KVM_GET_IRQCHIP %u: %s", chip_ids[i], strerror(-rc));
			return rc;
		}
		snap_put_bytes(w, &chip, sizeof(chip));
	}
	snap_put_u64(w, clock->clock);
	snap_put_u64(w, realtime_ns);
	snap_end(w);
	return 0;
}

/*
 * kvmclock from the snapshot, moved on by the wall-clock time since then when asked to. KVM's own
 * KVM_CLOCK_REALTIME flag would do this only on hosts whose clock source is the TSC (it is refused
 * elsewhere, e.g. in the nested test host), so kiln adds the elapsed time itself; the guest's clock
 * never goes back (a snapshot from the future moves it by nothing).
 */
static int load_clock(int vm_fd, uint64_t value, uint64_t realtime_ns, bool clock_realtime,
		      struct kvm_clock_data *clock, char *why, size_t whylen)
{
	uint64_t now = realtime_ns_now();
	int rc;

	*clock = (struct kvm_clock_data){ .clock = value };
	if (clock_realtime && now > realtime_ns)
		clock->clock += now - realtime_ns;
	rc = kvm_set_clock(vm_fd, clock);
	return rc < 0 ? fail_with(why, whylen, rc, "KVM_SET_CLOCK: %s", strerror(-rc)) : 0;
}

int x86_machine_load(int vm_fd, const struct snap_reader *r, bool clock_realtime, struct kvm_clock_data *clock,
		     char *why, size_t whylen)
{
	struct kvm_irqchip chips[ARRAY_SIZE(chip_ids)];
	struct snap_cursor c;
	int rc = snap_open_section(r, X86_SNAP_TAG_MACHINE, 0, &c);

	if (rc < 0)
		return fail_with(why, whylen, -EINVAL, "it has no machine state");
	for (size_t i = 0; i < ARRAY_SIZE(chips); i++)
		snap_get_bytes(&c, &chips[i], sizeof(chips[i]));
	uint64_t clock_value = snap_get_u64(&c);
	uint64_t realtime = snap_get_u64(&c);
	if (snap_cursor_finish(&c) < 0)
		return fail_with(why, whylen, -EBADMSG, "its machine section is malformed");
	for (size_t i = 0; i < ARRAY_SIZE(chips); i++) {
		if (chips[i].chip_id != chip_ids[i])
			return fail_with(why, whylen, -EBADMSG, "interrupt controller %zu has id %u", i,
					 chips[i].chip_id);
		if ((rc = kvm_set_irqchip(vm_fd, &chips[i])) < 0)
			return fail_with(why, whylen, rc, "KVM_SET_IRQCHIP %u: %s", chip_ids[i], strerror(-rc));
	}
	return load_clock(vm_fd, clock_value, realtime, clock_realtime, clock, why, whylen);
}
