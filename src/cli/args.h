/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line parsing for `kiln run`: flags -> struct kiln_config and the CLI's own options. */
#ifndef KILN_CLI_ARGS_H
#define KILN_CLI_ARGS_H

#include <kiln/kiln.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "log.h"
#include "util.h"

/* kiln's exit statuses beside the guest's own (README: "Exit status"). */
#define EXIT_GUEST_NO_STATUS 122 /* `-- CMD` was given, but the guest ended without reporting */
#define EXIT_GUEST_CRASHED 123   /* triple fault, or KVM could not run the guest */
#define EXIT_GUEST_PANICKED 124  /* the guest kernel panicked */
#define EXIT_KILN_ERROR 125      /* bad input, or kiln itself failed */

/*
 * The guest kernel command line when none is given: the console, then kiln's machine (reboot through
 * the i8042 reset line, a panic ends the VM, no PCI), then one trade of start-up time:
 * cryptomgr.notests, the kernel skips the self-test it runs as each crypto algorithm registers
 * (kernel-parameters.txt; fips=1 runs them regardless). A Debian cloud kernel boots 0.24-0.36 s
 * sooner in the KVM test host (bench/README.md, "The default command line"); Kata Containers and
 * libguestfs give their guests the same.
 */
#define DEFAULT_CMDLINE_MACHINE "reboot=k panic=-1 pci=off cryptomgr.notests"
#define DEFAULT_CMDLINE "console=ttyS0 " DEFAULT_CMDLINE_MACHINE
/* With `-- CMD` only the command speaks: no kernel messages below KERN_CRIT (a panic still shows). */
#define DEFAULT_CMDLINE_QUIET DEFAULT_CMDLINE " quiet loglevel=2"
#define DEFAULT_CMDLINE_VIRTIO_CONSOLE "console=hvc0 " DEFAULT_CMDLINE_MACHINE

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_API, CLI_SNAPSHOT, CLI_RESTORE, CLI_SNAPSHOT_MERGE };

/*
 * Copies the parser splits or builds, each written before it is read. They are not zeroed with the
 * rest: 48 KiB that a memset would all touch, in every VM's process (peak RSS).
 */
struct cli_buffers {
	char cmdline[KILN_MAX_CMDLINE];
	char disk_specs[KILN_MAX_DISKS][4096]; /* copies of the --disk values, split in place */
	char net_specs[KILN_MAX_NETS][256];    /* copies of the --net values */
	char vsock_spec[4096];                 /* copy of the --vsock value */
	char restore_state[4096];
	char restore_mem[4096];
};

struct cli_options {
	enum cli_action action;
	struct kiln_config cfg;
	bool boot_time;
	enum log_level log_level;
	const char *user_cmdline; /* --cmdline, or NULL for the default */
	char **guest_argv;        /* the command after `--`, or NULL */
	int guest_argc;
	/* Firecracker's command line (CLI_API, cli/api_cmd.c); `kiln run` and `kiln restore` take --api-sock. */
	const char *api_sock;    /* --api-sock: serve Firecracker's API on this Unix socket */
	const char *config_file; /* --config-file: boot from Firecracker's JSON config file */
	const char *instance_id; /* --id: the instance id GET / reports */
	size_t api_max_payload;  /* --http-api-max-payload-size */
	/* `kiln snapshot` and `kiln restore` (cli/snapshot_cmd.c). */
	const char *snapshot_dir;       /* DIR: the files DIR/state and DIR/mem */
	bool snapshot_resume;           /* kiln snapshot --resume */
	bool snapshot_diff;             /* kiln snapshot --diff */
	const char *merge_base;         /* kiln snapshot-merge BASE_MEM DIFF_MEM */
	const char *merge_diff;
	struct kiln_restore restore;    /* kiln restore: DIR's files, --net-tap, --disk-path, --vsock-uds, --paused */
	char net_tap_ids[KILN_MAX_NETS][KILN_MAX_NET_ID + 1]; /* the IDs of --net-tap ID=TAP */
	char disk_path_ids[KILN_MAX_DISKS][KILN_DISK_ID_SIZE]; /* the IDs of --disk-path ID=PATH */
	/* kiln restore's own files and its clones (cli/restore_cmd.c). */
	const char *console_in;   /* --console-in PATH: the console's input instead of stdin */
	const char *console_out;  /* --console-out PATH: the console's output instead of stdout */
	const char *log_file;     /* --log-file PATH: kiln's messages (stderr) appended there */
	unsigned int clones;      /* --clones N: N guests, each in a child process; 0: one, in this one */
	const struct kiln_snapshot *snapshot; /* DIR, opened once before the guests are restored */
	struct cli_buffers buf;         /* last: cli_parse zeroes everything before it */
};

/* Parses argv; on a bad flag or value returns -EINVAL with one line in err naming it. */
int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen) MUST_CHECK;

/* "PATH[,ro][,serial=ID]" into d; spec is split in place. On error, one line in err. */
int cli_parse_disk(char *spec, struct kiln_disk *d, char *err, size_t errlen) MUST_CHECK;

/* "tap=NAME[,mac=XX:XX:XX:XX:XX:XX]" into n; spec is split in place. */
int cli_parse_net(char *spec, struct kiln_net *n, char *err, size_t errlen) MUST_CHECK;

/* "cid=N,uds=PATH" into v; spec is split in place. */
int cli_parse_vsock(char *spec, struct kiln_vsock *v, char *err, size_t errlen) MUST_CHECK;

/*
 * Sizes: a number with an optional binary suffix K, M, G or T (optionally followed by "iB" or
 * "B"); a bare number means MiB, as with QEMU's -m. 0 or -EINVAL/-ERANGE.
 */
int cli_parse_size(const char *s, uint64_t *bytes) MUST_CHECK;

/*
 * The guest kernel command line: base, then " kiln.run=ARGS" when argv is given, ARGS being each
 * argument percent-encoded and joined with ','. -E2BIG when it does not fit in outlen.
 */
int cli_build_cmdline(const char *base, char *const *argv, int argc, char *out, size_t outlen) MUST_CHECK;

void cli_usage(FILE *f);

#endif
