/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A snapshot's disks in a restore (snapshot/restore.c, snapshot/open.c, config.c): kiln_disk_id
 * names each disk as Firecracker's API does (its serial when that is a drive id no earlier disk
 * has, else "driveN"); a restore's disk_overrides give disks other files by that id, each file of
 * the snapshot's size. And one snapshot opened once (kiln_snapshot_open) serves several restores.
 * The fake host has no /dev/kvm: a restore whose overrides are all accepted fails at KVM, so
 * "/dev/kvm" in its one line says the overrides got through; every refusal comes before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/vcpu_snapshot.h"
#include "snapshot/config_section.h"
#include "support/scratch.h"

#define assert_contains(hay, needle)                                                        \
	do {                                                                                \
		if (strstr((hay), (needle)) == NULL)                                        \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));         \
	} while (0)

#define MEM_BYTES (16u << 20)
#define DISK_BYTES 4096u


static const char *const names[] = { "state", "mem", "small.mem", "a", "b", "c", "clone0", "clone1", "short" };

static int setup(void **state)
{
	(void)state;
	return scratch_make_dir("snapdisks");
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(scratch_path(names[i]));
	rmdir(scratch_dir);
	return 0;
}

/*
 * Three disks: a (serial "data"), b (no serial: "drive1"), c (read-only, serial "x-y", no drive
 * id: "drive2"); their files and the 16 MiB memory file made, the state file written.
 */
static void three_disks(struct kiln_config *cfg)
{
	const uint64_t sizes[KILN_MAX_DISKS] = { DISK_BYTES, DISK_BYTES, DISK_BYTES };
	struct snap_writer w;

	kiln_config_init(cfg);
	cfg->mem_bytes = MEM_BYTES;
	cfg->disks[0] = (struct kiln_disk){ .path = scratch_path("a"), .serial = "data" };
	cfg->disks[1] = (struct kiln_disk){ .path = scratch_path("b") };
	cfg->disks[2] = (struct kiln_disk){ .path = scratch_path("c"), .serial = "x-y", .read_only = true };
	cfg->ndisks = 3;
	scratch_make_file("a", DISK_BYTES);
	scratch_make_file("b", DISK_BYTES);
	scratch_make_file("c", DISK_BYTES);
	scratch_make_file("mem", MEM_BYTES);
	snap_writer_init(&w);
	snap_config_put(&w, cfg, sizes);
	snap_begin(&w, X86_SNAP_TAG_VCPU, 0);
	snap_end(&w);
	assert_int_equal(snap_writer_save(&w, scratch_path("state")), 0);
	snap_writer_free(&w);
}

static void ids(const struct kiln_config *cfg, const char *const *want)
{
	char buf[KILN_DISK_ID_SIZE];

	for (unsigned int i = 0; i < cfg->ndisks; i++)
		assert_string_equal(kiln_disk_id(cfg, i, buf), want[i]);
}

/* The serial when it is a drive id no earlier disk has; else the first free driveN from N = i. */
static void disk_ids_are_the_apis_drive_ids(void **state)
{
	struct kiln_config cfg;
	char buf[KILN_DISK_ID_SIZE];

	(void)state;
	kiln_config_init(&cfg);
	cfg.disks[0] = (struct kiln_disk){ .path = "p", .serial = "root_fs" };
	cfg.disks[1] = (struct kiln_disk){ .path = "p" };
	cfg.disks[2] = (struct kiln_disk){ .path = "p", .serial = "not-an-id" };
	cfg.disks[3] = (struct kiln_disk){ .path = "p", .serial = "root_fs" }; /* disk 0's */
	cfg.disks[4] = (struct kiln_disk){ .path = "p", .serial = "" };
	cfg.ndisks = 5;
	ids(&cfg, (const char *const[]){ "root_fs", "drive1", "drive2", "drive3", "drive4" });
	/* A serial is returned as it is, not copied. */
	assert_ptr_equal(kiln_disk_id(&cfg, 0, buf), cfg.disks[0].serial);
	/* A serial that is another disk's driveN takes it first; that disk moves on to the next free N. */
	cfg.disks[0].serial = "drive1";
	cfg.disks[1].serial = NULL;
	cfg.disks[2].serial = "drive3";
	cfg.disks[3].serial = NULL;
	cfg.disks[4].serial = NULL;
	ids(&cfg, (const char *const[]){ "drive1", "drive2", "drive3", "drive4", "drive5" });
	cfg.disks[0].serial = "drive0";
	cfg.disks[1].serial = "drive0"; /* taken: disk 1 is drive1 */
	ids(&cfg, (const char *const[]){ "drive0", "drive1", "drive3", "drive4", "drive5" });
}

/* kiln_vm_restore with rs's overrides: fails with one line holding want. */
static void expect_restore(struct kiln_restore *rs, const char *want)
{
	struct kiln_error err = { "" };
	struct kiln_vm *vm = NULL;

	rs->state_path = scratch_path("state");
	rs->mem_path = scratch_path("mem");
	rs->console_in_fd = rs->console_out_fd = -1;
	assert_true(kiln_vm_restore(rs, &vm, &err) < 0);
	assert_null(vm);
	assert_null(strchr(err.msg, '\n'));
	assert_contains(err.msg, want);
}

static void override(struct kiln_restore *rs, const char *id, const char *path)
{
	rs->disk_overrides[rs->n_disk_overrides++] = (struct kiln_disk_override){ .id = id, .path = path };
}

static void overrides_name_disks_by_id(void **state)
{
	struct kiln_config cfg;
	struct kiln_restore rs;

	(void)state;
	three_disks(&cfg);
	kiln_restore_init(&rs);
	/* Accepted: each disk by its id, to a file of its size (then the fake host has no KVM). */
	scratch_make_file("clone0", DISK_BYTES);
	scratch_make_file("clone1", DISK_BYTES);
	override(&rs, "data", scratch_path("clone0"));
	override(&rs, "drive1", scratch_path("clone1"));
	override(&rs, "drive2", scratch_path("clone1")); /* read-only: it may share a file */
	expect_restore(&rs, "/dev/kvm");
	/* Refused, naming what is wrong. */
	kiln_restore_init(&rs);
	override(&rs, "drive0", scratch_path("clone0")); /* disk 0 goes by its serial */
	expect_restore(&rs, "disk override drive0: the snapshot has no disk with that id");
	kiln_restore_init(&rs);
	override(&rs, "x-y", scratch_path("clone0")); /* not a drive id: disk 2 is drive2 */
	expect_restore(&rs, "disk override x-y: the snapshot has no disk with that id");
	kiln_restore_init(&rs);
	override(&rs, "data", scratch_path("clone0"));
	override(&rs, "data", scratch_path("clone1"));
	expect_restore(&rs, "disk override data: that disk is given a file twice");
	kiln_restore_init(&rs);
	override(&rs, "data", NULL);
	expect_restore(&rs, "disk override 0: no disk id or no path");
	rs.disk_overrides[0] = (struct kiln_disk_override){ .id = "data", .path = "" };
	expect_restore(&rs, "disk override 0: no disk id or no path");
	rs.n_disk_overrides = KILN_MAX_DISKS + 1;
	expect_restore(&rs, "9 disk overrides: a VM has at most 8 disks");
	/* The file must have the disk's size, and exist. */
	kiln_restore_init(&rs);
	scratch_make_file("short", DISK_BYTES - 512);
	override(&rs, "drive1", scratch_path("short"));
	expect_restore(&rs, "disk /tmp/kiln-test-snapdisks.");
	expect_restore(&rs, "short: 3584 bytes, the snapshot's guest had 4096");
	rs.disk_overrides[0].path = scratch_path("gone");
	expect_restore(&rs, "gone: No such file or directory");
}

/* One open, several restores with different overrides; closing does not need a restore to succeed. */
static void one_snapshot_many_restores(void **state)
{
	struct kiln_error err = { "" };
	struct kiln_snapshot *snap = NULL;
	struct kiln_config cfg;
	struct kiln_restore rs;
	struct kiln_vm *vm = NULL;

	(void)state;
	three_disks(&cfg);
	scratch_make_file("clone0", DISK_BYTES);
	assert_int_equal(kiln_snapshot_open(scratch_path("state"), scratch_path("mem"), &snap, &err), 0);
	/* Its machine as saved, with no console. */
	const struct kiln_config *saved = kiln_snapshot_config(snap);
	assert_int_equal(saved->ndisks, 3);
	assert_string_equal(saved->disks[1].path, scratch_path("b"));
	assert_true(saved->disks[2].read_only);
	assert_int_equal(saved->mem_bytes, MEM_BYTES);
	assert_int_equal(saved->console_in_fd, -1);
	assert_int_equal(saved->console_out_fd, -1);
	for (int k = 0; k < 3; k++) {
		kiln_restore_init(&rs);
		rs.state_path = rs.mem_path = "/not/read";
		override(&rs, k == 1 ? "nothing" : "data", scratch_path("clone0"));
		assert_true(kiln_vm_restore_from(snap, &rs, &vm, &err) < 0);
		assert_null(vm);
		assert_contains(err.msg, k == 1 ? "disk override nothing: the snapshot has no disk with that id"
						: "/dev/kvm");
	}
	/* An override changed no path of the snapshot's own machine. */
	assert_string_equal(kiln_snapshot_config(snap)->disks[0].path, scratch_path("a"));
	kiln_snapshot_close(snap);
	kiln_snapshot_close(NULL);
}

/* kiln_snapshot_open refuses a memory file that is not the guest's RAM, and a missing one. */
static void open_checks_the_memory_file(void **state)
{
	struct kiln_error err = { "" };
	struct kiln_snapshot *snap = NULL;
	struct kiln_config cfg;

	(void)state;
	three_disks(&cfg);
	scratch_make_file("small.mem", MEM_BYTES - 4096);
	assert_int_equal(kiln_snapshot_open(scratch_path("state"), scratch_path("small.mem"), &snap, &err), -EINVAL);
	assert_null(snap);
	assert_contains(err.msg, "small.mem: not a regular file of 16777216 bytes (the snapshot's guest RAM)");
	assert_int_equal(kiln_snapshot_open(scratch_path("state"), scratch_path("gone.mem"), &snap, &err), -ENOENT);
	assert_contains(err.msg, "gone.mem: No such file or directory");
	assert_int_equal(kiln_snapshot_open(scratch_path("a"), scratch_path("mem"), &snap, &err), -EBADMSG); /* 4 KiB of zeros */
	assert_contains(err.msg, "/a: ");
	assert_int_equal(kiln_snapshot_open(NULL, scratch_path("mem"), &snap, &err), -EINVAL);
	assert_null(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(disk_ids_are_the_apis_drive_ids),
		cmocka_unit_test(overrides_name_disks_by_id),
		cmocka_unit_test(one_snapshot_many_restores),
		cmocka_unit_test(open_checks_the_memory_file),
	};

	return cmocka_run_group_tests_name("snapshot_disks", tests, setup, teardown);
}
