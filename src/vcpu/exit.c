/* SPDX-License-Identifier: Apache-2.0 */
/* What a vCPU does with each KVM exit. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "log.h"
#include "vcpu/vcpu.h"
#include "vm.h"

static void handle_pio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* A string instruction (rep outs/ins) moves count items, one after another in data. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		bus_access(&v->vm->pio, run->io.port, data, run->io.size, is_write);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (!bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			run->mmio.is_write))
		log_guest(LOG_DEBUG, "vcpu", "unclaimed MMIO %s at %#llx",
			  run->mmio.is_write ? "write" : "read", (unsigned long long)run->mmio.phys_addr);
}

static void crash(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stops the VM as crashed, with the vCPU's registers in the log to trace the crash in the guest. */
static void crash(struct vcpu *v, const char *fmt, ...)
{
	char what[200], detail[240], state[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(detail, sizeof(detail), "vCPU %u: %s", v->id, what);
	arch_describe_vcpu(v->fd, state, sizeof(state));
	log_error("vcpu", "vCPU %u at the crash: %s", v->id, state);
	vm_request_stop(v->vm, KILN_EXIT_CRASH, detail);
}

static bool handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(v->vm, KILN_EXIT_POWEROFF, NULL);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(v->vm, KILN_EXIT_RESET, NULL);
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		vm_request_stop(v->vm, KILN_EXIT_PANIC, NULL);
		break;
	default:
		crash(v, "unknown system event %u", v->run->system_event.type);
		break;
	}
	return false;
}

/* Bit 6 (WnR) of ESR_ELx's ISS for a Data Abort: the access was a write (the Arm ARM, ESR_ELx). */
#define ARM_DABT_ISS_WNR (1ull << 6)

/*
 * arm64: a data abort outside RAM without a valid syndrome (e.g. LDP/STP, or a load with writeback,
 * to a device): KVM cannot say which register or width, so no device can take it (api.rst,
 * KVM_EXIT_ARM_NISV). Entering the guest again would repeat it forever.
 */
static void handle_arm_nisv(struct vcpu *v)
{
	crash(v, "a %s at %#llx outside RAM that KVM cannot emulate (no valid syndrome: a load/store pair, "
	      "writeback or SIMD access; KVM_EXIT_ARM_NISV)",
	      v->run->arm_nisv.esr_iss & ARM_DABT_ISS_WNR ? "write" : "read",
	      (unsigned long long)v->run->arm_nisv.fault_ipa);
}

bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	atomic_fetch_add_explicit(&v->exits[run->exit_reason < VCPU_EXIT_REASONS ? run->exit_reason : 0], 1,
				  memory_order_relaxed);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_pio(v);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		crash(v, "the guest triple-faulted (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		return handle_system_event(v);
	case KVM_EXIT_ARM_NISV:
		handle_arm_nisv(v);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		crash(v, "KVM internal error, suberror %u (1 = instruction emulation failed)",
		      run->internal.suberror);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		crash(v, "KVM could not enter the guest, hardware reason %#llx",
		      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	default:
		crash(v, "unexpected KVM exit reason %u", run->exit_reason);
		return false;
	}
}
