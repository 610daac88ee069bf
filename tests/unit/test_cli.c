/* SPDX-License-Identifier: Apache-2.0 */
/* cli/args.c: flags, sizes and the guest command's encoding on the kernel command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/args.h"

static int parse(struct cli_options *o, char *err, const char **args, int n)
{
	char *argv[32];

	for (int i = 0; i < n; i++)
		argv[i] = (char *)args[i];
	argv[n] = NULL;
	return cli_parse(n, argv, o, err, 256);
}

#define PARSE(o, err, ...)                                                               \
	({                                                                               \
		const char *args_[] = { "kiln", __VA_ARGS__ };                           \
		parse(o, err, args_, (int)(sizeof(args_) / sizeof(args_[0])));           \
	})

static void test_sizes(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(cli_parse_size("512M", &b), 0);
	assert_int_equal(b, 512ull << 20);
	assert_int_equal(cli_parse_size("5G", &b), 0);
	assert_int_equal(b, 5ull << 30);
	assert_int_equal(cli_parse_size("300MiB", &b), 0);
	assert_int_equal(b, 300ull << 20);
	assert_int_equal(cli_parse_size("64k", &b), 0);
	assert_int_equal(b, 64ull << 10);
	assert_int_equal(cli_parse_size("1024", &b), 0); /* bare number: MiB */
	assert_int_equal(b, 1024ull << 20);
	assert_int_equal(cli_parse_size("1T", &b), 0);
	assert_int_equal(b, 1ull << 40);
	assert_int_equal(cli_parse_size("", &b), -EINVAL);
	assert_int_equal(cli_parse_size("M", &b), -EINVAL);
	assert_int_equal(cli_parse_size("-5M", &b), -EINVAL);
	assert_int_equal(cli_parse_size("5X", &b), -EINVAL);
	assert_int_equal(cli_parse_size("5 M", &b), -EINVAL);
	assert_int_equal(cli_parse_size("99999999999999999999", &b), -ERANGE);
	assert_int_equal(cli_parse_size("20000000T", &b), -ERANGE);
}

static void test_run_flags(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "--kernel", "vmlinuz", "--initrd", "initrd.img", "--cpus",
			       "4", "--mem", "300M", "--boot-time", "--cmdline", "console=ttyS0"),
			 0);
	assert_int_equal(o.action, CLI_RUN);
	assert_string_equal(o.cfg.kernel_path, "vmlinuz");
	assert_string_equal(o.cfg.initrd_path, "initrd.img");
	assert_int_equal(o.cfg.vcpus, 4);
	assert_int_equal(o.cfg.mem_bytes, 300ull << 20);
	assert_true(o.boot_time);
	assert_string_equal(o.user_cmdline, "console=ttyS0");
	assert_null(o.guest_argv);
}

static void test_defaults_and_guest_command(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--", "sh", "-c", "exit 7"), 0);
	assert_int_equal(o.cfg.vcpus, 1);
	assert_int_equal(o.cfg.mem_bytes, 512ull << 20);
	assert_int_equal(o.guest_argc, 3);
	assert_string_equal(o.guest_argv[0], "sh");
	assert_string_equal(o.guest_argv[2], "exit 7");
	/* Flags after -- belong to the guest command. */
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--", "ls", "--cpus"), 0);
	assert_int_equal(o.guest_argc, 2);
	assert_string_equal(o.guest_argv[1], "--cpus");
}

static void expect_error(const char *needle, int rc, const char *err)
{
	assert_int_equal(rc, -EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not name '%s'", err, needle);
}

/* Parsed without complaint, refused by the one validator (kiln_vm_create runs it), naming the value. */
static void expect_invalid(const char *needle, int rc, const struct cli_options *o)
{
	struct kiln_error kerr = { "" };

	assert_int_equal(rc, 0);
	assert_int_equal(kiln_config_validate(&o->cfg, &kerr), -EINVAL);
	if (strstr(kerr.msg, needle) == NULL)
		fail_msg("error '%s' does not name '%s'", kerr.msg, needle);
}

static void test_bad_input_names_the_value(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	expect_invalid("vcpus 0", PARSE(&o, err, "run", "-k", "k", "--cpus", "0"), &o);
	expect_error("--cpus two", PARSE(&o, err, "run", "-k", "k", "--cpus", "two"), err);
	expect_error("--cpus -1", PARSE(&o, err, "run", "-k", "k", "--cpus", "-1"), err);
	expect_invalid("mem 0 bytes", PARSE(&o, err, "run", "-k", "k", "--mem", "0"), &o);
	expect_error("--mem lots", PARSE(&o, err, "run", "-k", "k", "--mem", "lots"), err);
	expect_error("--bogus", PARSE(&o, err, "run", "-k", "k", "--bogus"), err);
	expect_error("--kernel", PARSE(&o, err, "run", "--mem", "1G"), err);
	expect_error("--kernel", PARSE(&o, err, "run", "--kernel"), err);
	expect_error("--log-level loud", PARSE(&o, err, "run", "-k", "k", "--log-level", "loud"), err);
	expect_error("stray", PARSE(&o, err, "run", "-k", "k", "stray"), err);
	expect_error("launch", PARSE(&o, err, "launch"), err);
}

static void test_help_and_version(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);
	assert_int_equal(PARSE(&o, err, "run", "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);
	assert_int_equal(PARSE(&o, err, "--version"), 0);
	assert_int_equal(o.action, CLI_VERSION);
}

static void test_cmdline_encoding(void **state)
{
	char out[KILN_MAX_CMDLINE];
	char *const cmd[] = { "sh", "-c", "exit 7", "a,b%c", "" };

	(void)state;
	assert_int_equal(cli_build_cmdline("console=ttyS0", NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "console=ttyS0");
	assert_int_equal(cli_build_cmdline("console=ttyS0", cmd, 5, out, sizeof(out)), 0);
	assert_string_equal(out, "console=ttyS0 kiln.run=sh,-c,exit%207,a%2Cb%25c,");
}

static void test_cmdline_too_long(void **state)
{
	char out[64];
	char *const cmd[] = { "echo", "0123456789012345678901234567890123456789" };

	(void)state;
	assert_int_equal(cli_build_cmdline("console=ttyS0 reboot=k", cmd, 2, out, sizeof(out)), -E2BIG);
	/* The last byte that fits: the encoding stops exactly at the boundary. */
	char exact[sizeof("b kiln.run=x")];
	char *const x[] = { "x" };
	assert_int_equal(cli_build_cmdline("b", x, 1, exact, sizeof(exact)), 0);
	assert_int_equal(cli_build_cmdline("b", x, 1, exact, sizeof(exact) - 1), -E2BIG);
	char *const space[] = { " " }; /* encodes to 3 bytes */
	assert_int_equal(cli_build_cmdline("b", space, 1, exact, sizeof(exact)), -E2BIG);
}

static void test_disk_net_vsock_specs(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--disk", "a.img", "--disk", "b.img,ro,serial=SN1",
			       "--net", "tap=tap0", "--net", "tap=tap1,mac=02:00:00:00:00:01", "--vsock",
			       "cid=3,uds=/tmp/v.sock", "--rng", "--console", "virtio"),
			 0);
	assert_int_equal(o.cfg.ndisks, 2);
	assert_string_equal(o.cfg.disks[0].path, "a.img");
	assert_false(o.cfg.disks[0].read_only);
	assert_string_equal(o.cfg.disks[1].path, "b.img");
	assert_true(o.cfg.disks[1].read_only);
	assert_string_equal(o.cfg.disks[1].serial, "SN1");
	assert_int_equal(o.cfg.nnets, 2);
	assert_string_equal(o.cfg.nets[0].tap, "tap0");
	assert_false(o.cfg.nets[0].mac_set);
	assert_true(o.cfg.nets[1].mac_set);
	assert_int_equal(o.cfg.nets[1].mac[5], 1);
	assert_int_equal(o.cfg.vsock.guest_cid, 3);
	assert_string_equal(o.cfg.vsock.uds_path, "/tmp/v.sock");
	assert_true(o.cfg.rng);
	assert_int_equal(o.cfg.console, KILN_CONSOLE_VIRTIO);
}

static void test_bad_device_specs(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	expect_error("'rw'", PARSE(&o, err, "run", "-k", "k", "--disk", "a.img,rw"), err);
	expect_invalid("serial '012345678901234567890'",
		       PARSE(&o, err, "run", "-k", "k", "--disk", "a.img,serial=012345678901234567890"), &o);
	expect_error("no file path", PARSE(&o, err, "run", "-k", "k", "--disk", ",ro"), err);
	expect_error("--disk 'a.img,': an empty option", PARSE(&o, err, "run", "-k", "k", "--disk", "a.img,"), err);
	expect_error("--disk 'a.img,,ro': an empty option",
		     PARSE(&o, err, "run", "-k", "k", "--disk", "a.img,,ro"), err);
	expect_error("--net 'tap=t,': an empty option", PARSE(&o, err, "run", "-k", "k", "--net", "tap=t,"), err);
	expect_error("--vsock ',cid=3,uds=/tmp/x': an empty option",
		     PARSE(&o, err, "run", "-k", "k", "--vsock", ",cid=3,uds=/tmp/x"), err);
	expect_error("mac=02:00", PARSE(&o, err, "run", "-k", "k", "--net", "tap=t,mac=02:00"), err);
	expect_error("mac=02:00:00:00:00:0x", PARSE(&o, err, "run", "-k", "k", "--net", "tap=t,mac=02:00:00:00:00:0x"), err);
	expect_invalid("guest MAC 01:00:00:00:00:00 is a multicast address",
		       PARSE(&o, err, "run", "-k", "k", "--net", "tap=t,mac=01:00:00:00:00:00"), &o);
	expect_invalid("tap t is already in use",
		       PARSE(&o, err, "run", "-k", "k", "--net", "tap=t", "--net", "tap=t"), &o);
	expect_error("tap=NAME", PARSE(&o, err, "run", "-k", "k", "--net", "mac=02:00:00:00:00:01"), err);
	expect_error("cid=0", PARSE(&o, err, "run", "-k", "k", "--vsock", "cid=0,uds=/tmp/x"), err);
	expect_invalid("vsock cid 2", PARSE(&o, err, "run", "-k", "k", "--vsock", "cid=2,uds=/tmp/x"), &o);
	expect_error("cid=x", PARSE(&o, err, "run", "-k", "k", "--vsock", "cid=x,uds=/tmp/x"), err);
	expect_error("uds=PATH", PARSE(&o, err, "run", "-k", "k", "--vsock", "cid=3"), err);
	expect_error("--console tty", PARSE(&o, err, "run", "-k", "k", "--console", "tty"), err);
}

static void test_snapshot_and_restore(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--api-sock", "/tmp/s"), 0);
	assert_int_equal(o.action, CLI_RUN);
	assert_string_equal(o.api_sock, "/tmp/s");
	assert_int_equal(PARSE(&o, err, "snapshot", "--api-sock", "/tmp/s", "--resume", "snap"), 0);
	assert_int_equal(o.action, CLI_SNAPSHOT);
	assert_string_equal(o.snapshot_dir, "snap");
	assert_true(o.snapshot_resume);
	assert_int_equal(PARSE(&o, err, "restore", "--net-tap", "eth_1=tap7", "--net-tap", "net0=a=b", "--vsock-uds", "/tmp/v", "--api-sock", "/s",
			       "--paused", "--boot-time", "/snaps/a"), 0);
	assert_int_equal(o.action, CLI_RESTORE);
	assert_string_equal(o.restore.state_path, "/snaps/a/state");
	assert_string_equal(o.restore.mem_path, "/snaps/a/mem");
	/* By id, in the order given; the tap is what follows the first '=' (ids have none). */
	assert_int_equal(o.restore.n_net_overrides, 2);
	assert_string_equal(o.restore.net_overrides[0].id, "eth_1");
	assert_string_equal(o.restore.net_overrides[0].tap, "tap7");
	assert_string_equal(o.restore.net_overrides[1].id, "net0");
	assert_string_equal(o.restore.net_overrides[1].tap, "a=b");
	assert_string_equal(o.restore.vsock_uds_path, "/tmp/v");
	assert_true(o.restore.paused);
	assert_true(o.boot_time);
	assert_int_equal(o.restore.console_in_fd, 0); /* the console is this terminal, as with kiln run */
	assert_int_equal(o.restore.console_out_fd, 1);
	assert_int_equal(PARSE(&o, err, "restore", "d"), 0);
	assert_false(o.restore.paused);
	assert_int_equal(o.restore.n_net_overrides, 0);
	assert_null(o.api_sock);
	assert_int_equal(PARSE(&o, err, "snapshot", "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);

	expect_error("--api-sock PATH is required", PARSE(&o, err, "snapshot", "d"), err);
	expect_error("DIR is missing", PARSE(&o, err, "snapshot", "--api-sock", "s"), err);
	expect_error("unexpected argument 'e' after DIR", PARSE(&o, err, "restore", "d", "e"), err);
	expect_error("--paused needs --api-sock", PARSE(&o, err, "restore", "--paused", "d"), err);
	expect_error("--net-tap net0: use ID=TAP", PARSE(&o, err, "restore", "--net-tap", "net0", "d"), err);
	expect_error("--net-tap net0=: use ID=TAP", PARSE(&o, err, "restore", "--net-tap", "net0=", "d"), err);
	expect_error("--net-tap =t: use ID=TAP", PARSE(&o, err, "restore", "--net-tap", "=t", "d"), err);
	char long_id[KILN_MAX_NET_ID + 8];
	memset(long_id, 'i', KILN_MAX_NET_ID + 1);
	strcpy(long_id + KILN_MAX_NET_ID + 1, "=t");
	expect_error("a NIC id has at most 63 bytes", PARSE(&o, err, "restore", "--net-tap", long_id, "d"), err);
	expect_error("--net-tap e=t: a VM has at most 4 NICs",
		     PARSE(&o, err, "restore", "--net-tap", "a=t", "--net-tap", "b=t", "--net-tap", "c=t", "--net-tap",
			   "d=t", "--net-tap", "e=t", "d"), err);
	expect_error("--kernel: unknown option", PARSE(&o, err, "restore", "--kernel", "k", "d"), err);
	expect_error("--resume: unknown option", PARSE(&o, err, "restore", "--resume", "d"), err);
}

/* Dirty page tracking and Diff snapshots: kiln run, snapshot, restore and snapshot-merge. */
static void test_dirty_pages_and_diff(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "-k", "k"), 0);
	assert_false(o.cfg.track_dirty_pages);
	assert_int_equal(PARSE(&o, err, "run", "-k", "k", "--track-dirty-pages"), 0);
	assert_true(o.cfg.track_dirty_pages);
	assert_int_equal(PARSE(&o, err, "snapshot", "--api-sock", "s", "d"), 0);
	assert_false(o.snapshot_diff);
	assert_int_equal(PARSE(&o, err, "snapshot", "--api-sock", "s", "--diff", "--resume", "d"), 0);
	assert_true(o.snapshot_diff && o.snapshot_resume);
	assert_int_equal(PARSE(&o, err, "restore", "d"), 0);
	assert_int_equal(o.restore.track_dirty_pages, KILN_TRACK_DIRTY_SAVED);
	assert_int_equal(PARSE(&o, err, "restore", "--track-dirty-pages", "d"), 0);
	assert_int_equal(o.restore.track_dirty_pages, KILN_TRACK_DIRTY_ON);
	assert_int_equal(PARSE(&o, err, "restore", "--track-dirty-pages", "--no-track-dirty-pages", "d"), 0);
	assert_int_equal(o.restore.track_dirty_pages, KILN_TRACK_DIRTY_OFF); /* the last one counts */
	assert_int_equal(PARSE(&o, err, "snapshot-merge", "base/mem", "diff/mem"), 0);
	assert_int_equal(o.action, CLI_SNAPSHOT_MERGE);
	assert_string_equal(o.merge_base, "base/mem");
	assert_string_equal(o.merge_diff, "diff/mem");
	assert_int_equal(PARSE(&o, err, "snapshot-merge", "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);

	expect_error("--diff: unknown option", PARSE(&o, err, "restore", "--diff", "d"), err);
	expect_error("unknown option '--diff'", PARSE(&o, err, "run", "-k", "k", "--diff"), err);
	expect_error("give BASE_MEM and DIFF_MEM", PARSE(&o, err, "snapshot-merge", "base/mem"), err);
	expect_error("give BASE_MEM and DIFF_MEM", PARSE(&o, err, "snapshot-merge", "a", "b", "c"), err);
	expect_error("--force: unknown option", PARSE(&o, err, "snapshot-merge", "--force", "a", "b"), err);
}

/* kiln restore's disks, console and log files, and --clones. */
static void test_restore_files_and_clones(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "restore", "--disk-path", "drive0=/d/c%i.img", "--disk-path", "data=x=y",
			       "--console-in", "/in", "--console-out", "/out%i", "--log-file", "/log", "--clones", "16",
			       "snap"), 0);
	assert_int_equal(o.restore.n_disk_overrides, 2);
	assert_string_equal(o.restore.disk_overrides[0].id, "drive0");
	assert_string_equal(o.restore.disk_overrides[0].path, "/d/c%i.img"); /* expanded by each clone */
	assert_string_equal(o.restore.disk_overrides[1].id, "data");
	assert_string_equal(o.restore.disk_overrides[1].path, "x=y");
	assert_string_equal(o.console_in, "/in");
	assert_string_equal(o.console_out, "/out%i");
	assert_string_equal(o.log_file, "/log");
	assert_int_equal(o.clones, 16);
	assert_int_equal(PARSE(&o, err, "restore", "snap"), 0);
	assert_int_equal(o.clones, 0);
	assert_int_equal(o.restore.n_disk_overrides, 0);
	assert_null(o.console_in);
	assert_null(o.console_out);
	assert_null(o.log_file);
	assert_int_equal(PARSE(&o, err, "restore", "--clones", "1024", "snap"), 0);

	expect_error("--disk-path drive0: use ID=PATH", PARSE(&o, err, "restore", "--disk-path", "drive0", "d"), err);
	expect_error("--disk-path =p: use ID=PATH", PARSE(&o, err, "restore", "--disk-path", "=p", "d"), err);
	expect_error("--disk-path d=: use ID=PATH", PARSE(&o, err, "restore", "--disk-path", "d=", "d"), err);
	expect_error("a disk id has at most 20 bytes",
		     PARSE(&o, err, "restore", "--disk-path", "a_serial_of_21_bytes_=p", "d"), err);
	char *many[2 + 2 * (KILN_MAX_DISKS + 1) + 1];
	int argc = 0;
	many[argc++] = "kiln";
	many[argc++] = "restore";
	for (int i = 0; i <= KILN_MAX_DISKS; i++) {
		many[argc++] = "--disk-path";
		many[argc++] = "d=p";
	}
	many[argc++] = "d";
	expect_error("--disk-path d=p: a VM has at most 8 disks", cli_parse(argc, many, &o, err, sizeof(err)), err);
	expect_error("--clones 0: a number of guests from 1 to 1024", PARSE(&o, err, "restore", "--clones", "0", "d"),
		     err);
	expect_error("--clones 1025:", PARSE(&o, err, "restore", "--clones", "1025", "d"), err);
	expect_error("--clones -1:", PARSE(&o, err, "restore", "--clones", "-1", "d"), err);
	expect_error("--clones 2x:", PARSE(&o, err, "restore", "--clones", "2x", "d"), err);
	/* kiln run has none of them: its console and log are the shell's to redirect. */
	expect_error("unknown option '--clones'", PARSE(&o, err, "run", "-k", "k", "--clones", "2"), err);
	expect_error("unknown option '--console-out'", PARSE(&o, err, "run", "-k", "k", "--console-out", "f"), err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_run_flags),
		cmocka_unit_test(test_defaults_and_guest_command),
		cmocka_unit_test(test_bad_input_names_the_value),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_cmdline_encoding),
		cmocka_unit_test(test_cmdline_too_long),
		cmocka_unit_test(test_disk_net_vsock_specs),
		cmocka_unit_test(test_bad_device_specs),
		cmocka_unit_test(test_snapshot_and_restore),
		cmocka_unit_test(test_restore_files_and_clones),
		cmocka_unit_test(test_dirty_pages_and_diff),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
