/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Section ACPU/<id>: u32 mp_state, then the vCPU's registers as snapshot/reg_list.h writes them:
 * every id KVM_GET_REG_LIST gives (core and FP/SIMD, system registers with MPIDR_EL1, the timer's
 * CTL/CNT/CVAL, PSCI's firmware registers), each with its id's size. A restore sets them in the
 * file's order into a vCPU KVM_ARM_VCPU_INIT'd as at boot, then the MP state.
 */
#include "arch/arm64/snapshot.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/kvm_arm64.h"
#include "log.h"
#include "snapshot/reg_list.h"

static int vcpu_regs(int vcpu_fd, struct reg_set *s)
{
	uint64_t *ids;
	long n = kvm_get_reg_list(vcpu_fd, &ids);
	int rc;

	if (n < 0)
		return (int)n;
	rc = reg_set_alloc(s, ids, (size_t)n);
	free(ids);
	return rc;
}

int arm64_vcpu_save(int vcpu_fd, unsigned int id, uint64_t counter, struct snap_writer *w)
{
	struct kvm_mp_state mp;
	struct reg_set s;
	uint8_t *cnt;
	int rc = vcpu_regs(vcpu_fd, &s);

	if (rc < 0) {
		log_error("snapshot", "vCPU %u: KVM_GET_REG_LIST: %s", id, strerror(-rc));
		return rc;
	}
	for (uint32_t i = 0; i < s.n && rc == 0; i++)
		if ((rc = kvm_get_one_reg_raw(vcpu_fd, s.ids[i], s.data + s.offset[i])) < 0)
			log_error("snapshot", "vCPU %u: KVM_GET_ONE_REG %#llx: %s", id,
				  (unsigned long long)s.ids[i], strerror(-rc));
	/* The counter as the pause left it (arch_pause_clock): it ran on since, the guest saw none of it. */
	if ((cnt = reg_set_value(&s, KVM_REG_ARM_TIMER_CNT)) != NULL)
		memcpy(cnt, &counter, sizeof(counter));
	if (rc == 0 && (rc = kvm_get_mp_state(vcpu_fd, &mp)) < 0)
		log_error("snapshot", "vCPU %u: KVM_GET_MP_STATE: %s", id, strerror(-rc));
	if (rc == 0) {
		snap_begin(w, ARM64_SNAP_TAG_VCPU, id);
		snap_put_u32(w, mp.mp_state);
		reg_set_put(w, &s);
		snap_end(w);
	}
	reg_set_free(&s);
	return rc;
}

/* arm64's MP states (api.rst, KVM_SET_MP_STATE): running, powered off (PSCI CPU_OFF or never
 * started by CPU_ON), suspended (PSCI CPU_SUSPEND in KVM). */
static bool mp_state_arm64(uint32_t state)
{
	return state == KVM_MP_STATE_RUNNABLE || state == KVM_MP_STATE_STOPPED || state == KVM_MP_STATE_SUSPENDED;
}

static int apply_regs(int vcpu_fd, const struct reg_set *s, uint32_t mp_state, char *why, size_t whylen)
{
	struct kvm_mp_state mp = { .mp_state = mp_state };
	int rc;

	for (uint32_t i = 0; i < s->n; i++)
		if ((rc = kvm_set_one_reg_raw(vcpu_fd, s->ids[i], s->data + s->offset[i])) < 0)
			return fail_with(why, whylen, rc, "KVM_SET_ONE_REG %#llx: %s", (unsigned long long)s->ids[i],
					 strerror(-rc));
	rc = kvm_set_mp_state(vcpu_fd, &mp);
	return rc < 0 ? fail_with(why, whylen, rc, "KVM_SET_MP_STATE %u: %s", mp_state, strerror(-rc)) : 0;
}

int arm64_vcpu_load(int vcpu_fd, unsigned int id, const struct snap_reader *r, char *why, size_t whylen)
{
	struct snap_cursor c;
	struct reg_set s;
	uint64_t *host;
	long n;
	int rc = snap_open_section(r, ARM64_SNAP_TAG_VCPU, id, &c);

	if (rc < 0)
		return fail_with(why, whylen, -EINVAL, "it has no state for vCPU %u", id);
	if ((n = kvm_get_reg_list(vcpu_fd, &host)) < 0)
		return fail_with(why, whylen, (int)n, "KVM_GET_REG_LIST: %s", strerror((int)-n));
	if ((rc = reg_set_alloc(&s, host, (size_t)n)) < 0) {
		free(host);
		return fail_with(why, whylen, rc, "this vCPU's %ld registers: %s", n, strerror(-rc));
	}
	uint32_t mp_state = snap_get_u32(&c);
	rc = reg_set_get(&c, host, (size_t)n, &s, why, whylen);
	free(host);
	if (rc == 0 && snap_cursor_finish(&c) < 0)
		rc = fail_with(why, whylen, -EBADMSG, "its section is malformed");
	if (rc == 0 && !mp_state_arm64(mp_state))
		rc = fail_with(why, whylen, -EINVAL, "mp_state %u is not an arm64 state", mp_state);
	if (rc == 0)
		rc = apply_regs(vcpu_fd, &s, mp_state, why, whylen);
	reg_set_free(&s);
	return rc;
}
