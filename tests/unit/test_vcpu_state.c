/* SPDX-License-Identifier: Apache-2.0 */
/* arch/x86: the one-line vCPU state logged when a guest crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/vcpu_state.h"
#include "fakes/fake_kvm.h"

static void test_state_names_where_the_guest_was(void **unused)
{
	struct kvm_regs r = { .rip = 0xffffffff81a00123ull, .rsp = 0xffffc90000003f58ull, .rflags = 0x10046 };
	struct kvm_sregs s = { .cr2 = 0xdead000, .cr3 = 0x1234000, .idt = { .base = 0xfffffe0000000000ull,
									   .limit = 0xfff } };
	struct kvm_vcpu_events ev = { .exception = { .injected = 1, .nr = 14 } };
	char buf[512];

	(void)unused;
	s.cs.selector = 0x10;
	x86_format_vcpu_state(&r, &s, &ev, buf, sizeof(buf));
	assert_non_null(strstr(buf, "rip=0xffffffff81a00123 "));
	assert_non_null(strstr(buf, "rsp=0xffffc90000003f58 "));
	assert_non_null(strstr(buf, "cs=0x10 "));
	assert_non_null(strstr(buf, "cr2=0xdead000 "));
	assert_non_null(strstr(buf, "idt=0xfffffe0000000000+0xfff "));
	assert_non_null(strstr(buf, "exception=14 interrupt=none nmi=none"));
	assert_null(strchr(buf, '\n'));
}

static void test_state_is_cut_to_the_buffer(void **unused)
{
	struct kvm_regs r = { .rip = 0x100000 };
	struct kvm_sregs s = { 0 };
	struct kvm_vcpu_events ev = { .nmi = { .pending = 1 } };
	char buf[16];

	(void)unused;
	memset(buf, 'x', sizeof(buf));
	x86_format_vcpu_state(&r, &s, &ev, buf, sizeof(buf));
	assert_string_equal(buf, "rip=0x100000 rs");
}

static void test_describe_reads_the_vcpu_from_kvm(void **unused)
{
	char buf[512];

	(void)unused;
	fake_kvm_reset();
	fake_kvm_vcpu(100)->regs.rip = 0xfff0;
	fake_kvm_vcpu(100)->sregs.cr3 = 0x9000;
	x86_describe_vcpu(100, buf, sizeof(buf));
	assert_non_null(strstr(buf, "rip=0xfff0 "));
	assert_non_null(strstr(buf, "cr3=0x9000 "));
	x86_describe_vcpu(7, buf, sizeof(buf)); /* not a vCPU of the fake */
	assert_string_equal(buf, "its registers cannot be read: Bad file descriptor");
}

static void test_state_after_kvm_reset_says_so(void **unused)
{
	struct kvm_regs r = { .rip = 0xfff0, .rflags = 2 };
	struct kvm_sregs s = { 0 };
	struct kvm_vcpu_events ev = { 0 };
	char buf[512];

	(void)unused;
	s.cs.selector = 0xf000;
	x86_format_vcpu_state(&r, &s, &ev, buf, sizeof(buf));
	assert_string_equal(buf, "registers unknown: KVM reset the vCPU at the shutdown (as it does on AMD)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names_where_the_guest_was),
		cmocka_unit_test(test_state_is_cut_to_the_buffer),
		cmocka_unit_test(test_describe_reads_the_vcpu_from_kvm),
		cmocka_unit_test(test_state_after_kvm_reset_says_so),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
