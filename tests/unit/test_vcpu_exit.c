/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcpu/exit.c: what a vCPU does with each KVM exit a hostile guest can cause. The exit is laid out
 * in a kvm_run buffer as KVM would leave it; the VM is a zeroed struct vm with an MMIO bus, whose
 * stop (vm_request_stop) records the reason and the one-line detail kiln prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fakes/fake_kvm.h"
#include "vcpu/vcpu.h"
#include "vm.h"

struct exit_fixture {
	struct vm vm;
	struct kvm_run run;
	struct vcpu vcpu;
};

static int setup(void **state)
{
	struct exit_fixture *f = test_calloc(1, sizeof(*f));

	fake_kvm_reset();
	f->vm.exit_fd = -1; /* vm_request_stop's wake-up write fails quietly: nobody waits here */
	bus_init(&f->vm.mmio, "mmio", 0);
	f->vcpu = (struct vcpu){ .vm = &f->vm, .id = 1, .fd = -1, .run = &f->run };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct exit_fixture *f = *state;

	bus_free(&f->vm.mmio);
	test_free(f);
	return 0;
}

/* Handles the exit as laid out in f->run; true if the vCPU may run on. */
static bool handle(struct exit_fixture *f, uint32_t reason)
{
	f->run.exit_reason = reason;
	return vcpu_handle_exit(&f->vcpu);
}

/* arm64: an access outside RAM without a valid syndrome (an LDP, a store with writeback). */
static void test_nisv_read_stops_naming_the_address(void **state)
{
	struct exit_fixture *f = *state;

	f->run.arm_nisv.fault_ipa = 0x9000000;
	f->run.arm_nisv.esr_iss = 0x10; /* DFSC only: WnR clear */
	assert_false(handle(f, KVM_EXIT_ARM_NISV));
	assert_int_equal(atomic_load(&f->vm.exit_reason), KILN_EXIT_CRASH);
	assert_non_null(strstr(f->vm.exit_detail, "vCPU 1: a read at 0x9000000 outside RAM"));
	assert_non_null(strstr(f->vm.exit_detail, "KVM_EXIT_ARM_NISV"));
	assert_null(strchr(f->vm.exit_detail, '\n'));
}

static void test_nisv_write_says_write(void **state)
{
	struct exit_fixture *f = *state;

	f->run.arm_nisv.fault_ipa = 0xffffffffffff0000ull;
	f->run.arm_nisv.esr_iss = 1u << 6; /* WnR */
	assert_false(handle(f, KVM_EXIT_ARM_NISV));
	assert_non_null(strstr(f->vm.exit_detail, "a write at 0xffffffffffff0000 outside RAM"));
}

/* A system event ends the VM with the reason its type names; a type kiln does not know is a crash. */
static void expect_system_event(struct exit_fixture *f, uint32_t type, int reason, const char *detail)
{
	atomic_store(&f->vm.exit_reason, 0);
	f->vm.exit_detail[0] = '\0';
	f->run.system_event.type = type;
	assert_false(handle(f, KVM_EXIT_SYSTEM_EVENT));
	assert_int_equal(atomic_load(&f->vm.exit_reason), reason);
	assert_non_null(strstr(f->vm.exit_detail, detail));
}

static void test_system_events(void **state)
{
	struct exit_fixture *f = *state;

	expect_system_event(f, KVM_SYSTEM_EVENT_SHUTDOWN, KILN_EXIT_POWEROFF, "");
	expect_system_event(f, KVM_SYSTEM_EVENT_RESET, KILN_EXIT_RESET, "");
	expect_system_event(f, KVM_SYSTEM_EVENT_CRASH, KILN_EXIT_PANIC, "");
	/* WAKEUP (4) and SUSPEND (5) come only with capabilities kiln does not enable. */
	expect_system_event(f, 4, KILN_EXIT_CRASH, "vCPU 1: unknown system event 4");
	expect_system_event(f, 5, KILN_EXIT_CRASH, "vCPU 1: unknown system event 5");
	expect_system_event(f, 0xffffffffu, KILN_EXIT_CRASH, "vCPU 1: unknown system event 4294967295");
}

static void test_unknown_exit_reason_is_a_crash(void **state)
{
	struct exit_fixture *f = *state;

	assert_false(handle(f, 0xfffffff0u));
	assert_int_equal(atomic_load(&f->vm.exit_reason), KILN_EXIT_CRASH);
	assert_non_null(strstr(f->vm.exit_detail, "unexpected KVM exit reason 4294967280"));
	assert_int_equal(f->vcpu.exits[0], 1); /* counted, in the slot for reasons past the table */
}

static void test_entry_failure_and_internal_error_are_crashes(void **state)
{
	struct exit_fixture *f = *state;

	f->run.fail_entry.hardware_entry_failure_reason = 1;
	assert_false(handle(f, KVM_EXIT_FAIL_ENTRY));
	assert_int_equal(atomic_load(&f->vm.exit_reason), KILN_EXIT_CRASH);
	assert_non_null(strstr(f->vm.exit_detail, "KVM could not enter the guest, hardware reason 0x1"));
	atomic_store(&f->vm.exit_reason, 0);
	f->run.internal.suberror = 3;
	assert_false(handle(f, KVM_EXIT_INTERNAL_ERROR));
	assert_non_null(strstr(f->vm.exit_detail, "KVM internal error, suberror 3"));
}

/* An MMIO read nothing claims reads 0, whatever its width, and the vCPU runs on. */
static void test_unclaimed_mmio_reads_zero(void **state)
{
	struct exit_fixture *f = *state;

	for (uint32_t len = 1; len <= 8; len++) {
		memset(f->run.mmio.data, 0xa5, sizeof(f->run.mmio.data));
		f->run.mmio.phys_addr = 0xc000000;
		f->run.mmio.len = len;
		f->run.mmio.is_write = 0;
		assert_true(handle(f, KVM_EXIT_MMIO));
		for (uint32_t i = 0; i < len; i++)
			assert_int_equal(f->run.mmio.data[i], 0);
	}
	assert_int_equal(atomic_load(&f->vm.exit_reason), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nisv_read_stops_naming_the_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nisv_write_says_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_exit_reason_is_a_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_failure_and_internal_error_are_crashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclaimed_mmio_reads_zero, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
