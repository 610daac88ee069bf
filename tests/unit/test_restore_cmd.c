/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kiln restore` after its flags (cli/restore_cmd.c), with a stand-in for the guest: the snapshot
 * is opened once, then one guest runs here or N clones run, one child process each, with "%i" in
 * their values expanded to their index and their console and log files as their standard streams;
 * the exit status is 0 when every clone's is, else the first other one's. Refusals (a bad '%', what
 * every clone would share, a snapshot that does not open) come before any guest, with one line and
 * EXIT_KILN_ERROR. The snapshot here is a state file and an all-holes memory file: no KVM is needed,
 * as the stand-in never builds a VM.
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
#include "cli/restore_cmd.h"
#include "snapshot/config_section.h"
#include "support/scratch.h"

#define DISK_BYTES 4096u

static int guest_runs; /* in this process: stand-in guests run without --clones */

static void read_file(const char *name, char *buf, size_t len)
{
	FILE *f = fopen(scratch_path(name), "r");
	size_t got;

	assert_non_null(f);
	got = fread(buf, 1, len - 1, f);
	buf[got] = '\0';
	fclose(f);
}

/* A 16 MiB machine with a writable disk (drive0) and a read-only one (ro, shared by clones). */
static int setup(void **state)
{
	const uint64_t sizes[KILN_MAX_DISKS] = { DISK_BYTES, DISK_BYTES };
	struct kiln_config cfg;
	struct snap_writer w;
	int rc;

	(void)state;
	if (scratch_make_dir("restorecmd") < 0)
		return -1;
	kiln_config_init(&cfg);
	cfg.mem_bytes = 16u << 20;
	cfg.disks[0] = (struct kiln_disk){ .path = scratch_path("disk") };
	cfg.disks[1] = (struct kiln_disk){ .path = scratch_path("ro.img"), .serial = "ro", .read_only = true };
	cfg.ndisks = 2;
	snap_writer_init(&w);
	snap_config_put(&w, &cfg, sizes);
	snap_begin(&w, X86_SNAP_TAG_VCPU, 0);
	snap_end(&w);
	rc = snap_writer_save(&w, scratch_path("state"));
	snap_writer_free(&w);
	scratch_make_file("mem", cfg.mem_bytes);
	return rc;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The options of `kiln restore [args...] DIR`. */
static void parse(struct cli_options *o, int argc, const char **args)
{
	const char *argv[32] = { "kiln", "restore" };
	char err[256];

	for (int i = 0; i < argc; i++)
		argv[2 + i] = args[i];
	argv[2 + argc] = scratch_dir;
	assert_int_equal(cli_parse(argc + 3, (char **)argv, o, err, sizeof(err)), 0);
}

/*
 * The stand-in guest: prints what it was given on its stdout (the console) and stderr (the log),
 * and ends with 7 + its clone's index (the digit its console file's name ends with), or 0 for clone
 * 2 and without such a digit.
 */
static int stand_in(const struct cli_options *o, uint64_t start_ns)
{
	const struct kiln_config *saved = kiln_snapshot_config(o->snapshot);
	char in[16] = "";
	ssize_t got = read(STDIN_FILENO, in, sizeof(in) - 1);

	(void)start_ns;
	guest_runs++;
	printf("disk %s ro %s in %s\n", o->restore.disk_overrides[0].path, saved->disks[1].path,
	       got > 0 ? in : "(nothing)");
	fflush(stdout);
	fprintf(stderr, "log of %s\n", o->console_out ? o->console_out : "-");
	char last = o->console_out ? o->console_out[strlen(o->console_out) - 1] : '\0';
	if (last < '0' || last > '9' || last == '2')
		return 0;
	return 7 + last - '0';
}

static void clones_run_each_in_a_child(void **state)
{
	struct cli_options o;
	char name[16], buf[512], want[512];

	(void)state;
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "in%d", i);
		FILE *f = fopen(scratch_path(name), "w");
		assert_non_null(f);
		fprintf(f, "seed%d", i);
		fclose(f);
	}
	parse(&o, 10, (const char *[]){ "--clones", "3", "--disk-path", "drive0=/c/%%%i.img", "--console-in",
					 scratch_path("in%i"), "--console-out", scratch_path("out%i"), "--log-file", scratch_path("log%i") });
	/* Clone 0 ends with 7 and clone 1 with 8; the first one that is not 0 is clone 0's. */
	assert_int_equal(restore_cmd_run(&o, 0, stand_in), 7);
	assert_int_equal(guest_runs, 0); /* not in this process */
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "out%d", i);
		read_file(name, buf, sizeof(buf));
		snprintf(want, sizeof(want), "disk /c/%%%d.img ro %s in seed%d\n", i, scratch_path("ro.img"), i);
		assert_string_equal(buf, want);
		snprintf(name, sizeof(name), "log%d", i);
		read_file(name, buf, sizeof(buf));
		snprintf(want, sizeof(want), "log of %s/out%d\n", scratch_dir, i);
		assert_string_equal(buf, want);
	}
	/* Every clone 0: the status is 0. A clone reads no input unless told to. */
	parse(&o, 6, (const char *[]){ "--clones", "2", "--disk-path", "drive0=/c/%i.img", "--log-file",
					scratch_path("log") });
	assert_int_equal(restore_cmd_run(&o, 0, stand_in), 0);
	read_file("log", buf, sizeof(buf));
	assert_string_equal(buf, "log of -\nlog of -\n");
}

/* Without --clones the files become this process's streams: the test's own are kept aside. */
static void run_here(struct cli_options *o, int want)
{
	int saved[3];

	fflush(NULL);
	for (int fd = 0; fd < 3; fd++)
		saved[fd] = dup(fd);
	int rc = restore_cmd_run(o, 0, stand_in);
	fflush(NULL);
	for (int fd = 0; fd < 3; fd++) {
		dup2(saved[fd], fd);
		close(saved[fd]);
	}
	assert_int_equal(rc, want);
}

static void one_guest_runs_here(void **state)
{
	struct cli_options o;
	char buf[512], want[512];

	(void)state;
	guest_runs = 0;
	/* Without --clones, %i is no one's index: the values are taken as they are. */
	parse(&o, 6, (const char *[]){ "--disk-path", "drive0=/c/%i.img", "--console-out", scratch_path("one%i"), "--console-in",
				       "/dev/null" });
	run_here(&o, 0);
	assert_int_equal(guest_runs, 1);
	read_file("one%i", buf, sizeof(buf));
	snprintf(want, sizeof(want), "disk /c/%%i.img ro %s in (nothing)\n", scratch_path("ro.img"));
	assert_string_equal(buf, want);
}

/* restore_cmd_run(o) is EXIT_KILN_ERROR before any guest ran. */
static void expect_refused(int argc, const char **args)
{
	struct cli_options o;

	guest_runs = 0;
	parse(&o, argc, args);
	run_here(&o, EXIT_KILN_ERROR);
	assert_int_equal(guest_runs, 0);
}

static void refused_before_any_guest(void **state)
{
	(void)state;
	/* Every clone would write drive0 (the read-only disk may be shared). */
	expect_refused(2, (const char *[]){ "--clones", "2" });
	expect_refused(4, (const char *[]){ "--clones", "2", "--disk-path", "drive0=/c.img" });
	expect_refused(4, (const char *[]){ "--clones", "2", "--disk-path", "drive0=/c%%i.img" }); /* a literal %i */
	expect_refused(6, (const char *[]){ "--clones", "2", "--disk-path", "drive0=/c%i", "--console-out", "/o" });
	expect_refused(6, (const char *[]){ "--clones", "2", "--disk-path", "drive0=/c%i", "--api-sock", "/s" });
	expect_refused(4, (const char *[]){ "--clones", "2", "--disk-path", "drive0=/c%d" });
	expect_refused(4, (const char *[]){ "--clones", "2", "--disk-path", "drive0=/c%" });
	/* The snapshot does not open: the memory file is not the guest's RAM. */
	scratch_make_file("mem.small", 4096);
	rename(scratch_path("mem"), scratch_path("mem.keep"));
	rename(scratch_path("mem.small"), scratch_path("mem"));
	expect_refused(0, NULL);
	rename(scratch_path("mem.keep"), scratch_path("mem"));
	/* An output file that cannot be made. */
	expect_refused(2, (const char *[]){ "--console-out", "/nonexistent/dir/out" });
	/* --clones 1 shares nothing: no %i needed. */
	struct cli_options o;
	parse(&o, 6, (const char *[]){ "--clones", "1", "--console-out", scratch_path("single"), "--log-file", scratch_path("single.log") });
	assert_int_equal(restore_cmd_run(&o, 0, stand_in), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clones_run_each_in_a_child),
		cmocka_unit_test(one_guest_runs_here),
		cmocka_unit_test(refused_before_any_guest),
	};

	return cmocka_run_group_tests_name("restore_cmd", tests, setup, teardown);
}
