/* SPDX-License-Identifier: Apache-2.0 */
/* thread.c: kiln's threads run fn(arg) on a stack smaller than a transparent huge page. */
#define _GNU_SOURCE /* pthread_getattr_np */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "thread.h"

struct seen {
	void *arg;
	size_t stack_size;
	uintptr_t local; /* the address of a local variable: inside the stack */
	uintptr_t stack_lo, stack_hi;
};

static void *report_stack(void *arg)
{
	struct seen *s = arg;
	pthread_attr_t attr;
	void *addr;

	s->arg = arg;
	s->local = (uintptr_t)&attr;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &s->stack_size);
		s->stack_lo = (uintptr_t)addr;
		s->stack_hi = (uintptr_t)addr + s->stack_size;
		pthread_attr_destroy(&attr);
	}
	return arg;
}

static void runs_fn_on_a_stack_below_a_huge_page(void **state)
{
	struct seen s = { 0 };
	pthread_t t;
	void *ret = NULL;

	(void)state;
	assert_int_equal(thread_start(&t, report_stack, &s), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_ptr_equal(ret, &s);
	assert_ptr_equal(s.arg, &s);
	assert_int_equal(s.stack_size, THREAD_STACK_SIZE);
	assert_true(s.stack_size < 2u * 1024 * 1024);
	assert_true(s.local >= s.stack_lo && s.local < s.stack_hi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_fn_on_a_stack_below_a_huge_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
