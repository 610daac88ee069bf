/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot/reg_list.c, a vCPU's ONE_REG registers in a state file: sizes from the ids, a round
 * trip, the file's own order and subsets, and each refusal of a list from a stranger (an id the
 * vCPU lacks, a size that is not the id's, an id twice, more ids than the vCPU has, a list cut
 * short). And snapshot/config_section.c's ARCH section: a restore refuses another machine's file.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snapshot/config_section.h"
#include "snapshot/reg_list.h"
#include "support/snap_image.h"

#define TAG SNAP_TAG('A', 'C', 'P', 'U')
/* ids shaped as arm64's (api.rst 4.68): core x0 and v0, fpsr, a system register */
#define X0 (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | 0x0010ull << 16)
#define V0 (KVM_REG_ARM64 | KVM_REG_SIZE_U128 | 0x0010ull << 16 | 0x40)
#define FPSR (KVM_REG_ARM64 | KVM_REG_SIZE_U32 | 0x0010ull << 16 | 0xd4)
#define SYSREG (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | 0x0013ull << 16 | 0xc005)
#define UNKNOWN (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | 0x0013ull << 16 | 0xffff)

static const uint64_t host[] = { X0, V0, FPSR, SYSREG };

/* A list of n registers as a file would hold it: ids[i] with size sizes[i] and bytes of value i+1. */
static void put_list(struct snap_writer *w, const uint64_t *ids, const uint32_t *sizes, uint32_t n, uint32_t count)
{
	uint8_t value[REG_LIST_MAX_BYTES];

	snap_begin(w, TAG, 0);
	snap_put_u32(w, count);
	for (uint32_t i = 0; i < n; i++) {
		memset(value, (int)i + 1, sizeof(value));
		snap_put_u64(w, ids[i]);
		snap_put_u32(w, sizes[i]);
		snap_put_bytes(w, value, sizes[i]);
	}
	snap_end(w);
}

/* reg_set_get of such a list against host: its result, the set in *s (reg_set_free it), why. */
static int get_list(const uint64_t *ids, const uint32_t *sizes, uint32_t n, uint32_t count, struct reg_set *s,
		    char *why, size_t whylen, int *finish)
{
	struct snap_writer w;
	struct snap_reader r;
	struct snap_cursor c;
	int rc;

	snap_writer_init(&w);
	put_list(&w, ids, sizes, n, count);
	assert_int_equal(snap_image_read_back(&w, &r), 0);
	assert_int_equal(snap_open_section(&r, TAG, 0, &c), 0);
	assert_int_equal(reg_set_alloc(s, host, ARRAY_SIZE(host)), 0);
	rc = reg_set_get(&c, host, ARRAY_SIZE(host), s, why, whylen);
	*finish = snap_cursor_finish(&c);
	snap_reader_close(&r);
	snap_writer_free(&w);
	return rc;
}

static void test_sizes_from_ids(void **state)
{
	(void)state;
	assert_int_equal(reg_id_size(FPSR), 4);
	assert_int_equal(reg_id_size(X0), 8);
	assert_int_equal(reg_id_size(V0), 16);
	assert_int_equal(reg_id_size(KVM_REG_ARM64 | KVM_REG_SIZE_U2048), 256);
	assert_int_equal(reg_id_size(KVM_REG_ARM64 | 9ull << KVM_REG_SIZE_SHIFT), 0);
}

static void test_alloc_refuses(void **state)
{
	const uint64_t bad[] = { X0, KVM_REG_ARM64 | 9ull << KVM_REG_SIZE_SHIFT };
	uint64_t *many = calloc(REG_LIST_MAX_REGS + 1, sizeof(*many));
	struct reg_set s;

	(void)state;
	assert_non_null(many);
	for (size_t i = 0; i <= REG_LIST_MAX_REGS; i++)
		many[i] = X0 + i;
	assert_int_equal(reg_set_alloc(&s, bad, ARRAY_SIZE(bad)), -EINVAL);
	assert_int_equal(reg_set_alloc(&s, many, REG_LIST_MAX_REGS + 1), -E2BIG);
	assert_int_equal(reg_set_alloc(&s, many, REG_LIST_MAX_REGS), 0);
	reg_set_free(&s);
	free(many);
}

/* Saved as kiln saves (reg_set_put), read back whole: the same ids, order and values. */
static void test_round_trip(void **state)
{
	struct reg_set out, in;
	struct snap_writer w;
	struct snap_reader r;
	struct snap_cursor c;
	char why[128] = "";

	(void)state;
	assert_int_equal(reg_set_alloc(&out, host, ARRAY_SIZE(host)), 0);
	for (uint32_t i = 0; i < out.n; i++)
		memset(out.data + out.offset[i], 0xa0 + (int)i, reg_id_size(out.ids[i]));
	snap_writer_init(&w);
	snap_begin(&w, TAG, 0);
	reg_set_put(&w, &out);
	snap_end(&w);
	assert_int_equal(snap_image_read_back(&w, &r), 0);
	assert_int_equal(snap_open_section(&r, TAG, 0, &c), 0);
	assert_int_equal(reg_set_alloc(&in, host, ARRAY_SIZE(host)), 0);
	assert_int_equal(reg_set_get(&c, host, ARRAY_SIZE(host), &in, why, sizeof(why)), 0);
	assert_int_equal(snap_cursor_finish(&c), 0);
	assert_int_equal(in.n, ARRAY_SIZE(host));
	for (uint32_t i = 0; i < in.n; i++) {
		assert_true(in.ids[i] == host[i]);
		assert_memory_equal(reg_set_value(&in, host[i]), reg_set_value(&out, host[i]), reg_id_size(host[i]));
	}
	assert_null(reg_set_value(&in, UNKNOWN));
	reg_set_free(&in);
	reg_set_free(&out);
	snap_reader_close(&r);
	snap_writer_free(&w);
}

/* A file may hold fewer registers, in its own order: the set is the file's, values in place. */
static void test_subset_in_file_order(void **state)
{
	const uint64_t ids[] = { SYSREG, V0 };
	const uint32_t sizes[] = { 8, 16 };
	uint8_t want[16];
	struct reg_set s;
	char why[128] = "";
	int finish;

	(void)state;
	assert_int_equal(get_list(ids, sizes, 2, 2, &s, why, sizeof(why), &finish), 0);
	assert_int_equal(finish, 0);
	assert_int_equal(s.n, 2);
	assert_true(s.ids[0] == SYSREG && s.ids[1] == V0);
	memset(want, 2, sizeof(want));
	assert_memory_equal(reg_set_value(&s, V0), want, 16);
	memset(want, 1, sizeof(want));
	assert_memory_equal(reg_set_value(&s, SYSREG), want, 8);
	reg_set_free(&s);
}

/* Each refusal with its one line. */
static void expect_refused(const uint64_t *ids, const uint32_t *sizes, uint32_t n, uint32_t count, int want_rc,
			   const char *want_why)
{
	struct reg_set s;
	char why[128] = "";
	int finish;

	assert_int_equal(get_list(ids, sizes, n, count, &s, why, sizeof(why), &finish), want_rc);
	assert_string_equal(why, want_why);
	reg_set_free(&s);
}

static void test_refusals(void **state)
{
	const uint64_t unknown[] = { X0, UNKNOWN };
	const uint64_t twice[] = { X0, FPSR, X0 };
	const uint64_t five[] = { X0, V0, FPSR, SYSREG, X0 };
	const uint32_t sizes[] = { 8, 8, 8, 8, 8 };
	const uint32_t wrong_size[] = { 8, 8 };
	const uint32_t twice_sizes[] = { 8, 4, 8 };
	const uint64_t v0[] = { X0, V0 };

	(void)state;
	expect_refused(unknown, sizes, 2, 2, -EINVAL, "register 0x603000000013ffff is not one this vCPU has");
	expect_refused(v0, wrong_size, 2, 2, -EBADMSG, "register 0x6040000000100040 has 8 bytes, its id says 16");
	expect_refused(twice, twice_sizes, 3, 3, -EBADMSG, "register 0x6030000000100000 is saved twice");
	expect_refused(five, sizes, 0, 5, -EINVAL, "it lists 5 registers, this vCPU has 4");
}

/* A count above what follows: no refusal of a register, the cursor fails (the caller's "malformed"). */
static void test_list_cut_short(void **state)
{
	const uint64_t ids[] = { X0, SYSREG };
	const uint32_t sizes[] = { 8, 8 };
	struct reg_set s;
	char why[128] = "";
	int finish;

	(void)state;
	assert_int_equal(get_list(ids, sizes, 2, 3, &s, why, sizeof(why), &finish), 0);
	assert_int_equal(finish, -EBADMSG);
	assert_int_equal(s.n, ARRAY_SIZE(host)); /* the set was not replaced by a part */
	reg_set_free(&s);
}

/* The ARCH section: what a restore checks before anything else of the file. */
static int arch_check_of(const char *written, const char *machine, char *why, size_t whylen)
{
	struct snap_writer w;
	struct snap_reader r;
	int rc;

	snap_writer_init(&w);
	snap_begin(&w, SNAP_TAG_CONFIG, 0);
	snap_end(&w);
	if (written)
		snap_arch_put(&w, written);
	assert_int_equal(snap_image_read_back(&w, &r), 0);
	rc = snap_arch_check(&r, machine, why, whylen);
	snap_reader_close(&r);
	snap_writer_free(&w);
	return rc;
}

static void test_arch_check(void **state)
{
	struct snap_writer w;
	struct snap_reader r;
	char why[128] = "";

	(void)state;
	assert_int_equal(arch_check_of("aarch64", "aarch64", why, sizeof(why)), 0);
	assert_int_equal(arch_check_of("x86_64", "x86_64", why, sizeof(why)), 0);
	assert_int_equal(arch_check_of(NULL, "x86_64", why, sizeof(why)), 0); /* files before ARCH */
	assert_int_equal(arch_check_of(NULL, "aarch64", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "it is a snapshot of an x86_64 machine, this kiln runs aarch64 guests");
	assert_int_equal(arch_check_of("aarch64", "x86_64", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "it is a snapshot of an aarch64 machine, this kiln runs x86_64 guests");
	/* a section that is not one string */
	assert_int_equal(snap_image_wrap(SNAP_TAG_ARCH, 0, "\x07\0\0\0aarch", 9, &w, &r), 0);
	assert_int_equal(snap_arch_check(&r, "aarch64", why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "its machine name is malformed");
	snap_reader_close(&r);
	snap_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_from_ids),
		cmocka_unit_test(test_alloc_refuses),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_subset_in_file_order),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_list_cut_short),
		cmocka_unit_test(test_arch_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
