/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kiln restore` once its flags are parsed (cli/snapshot_cmd.c): the snapshot DIR is opened once
 * (kiln_snapshot_open), then its guest runs in this process, or with --clones N, N guests run, one
 * per child process forked after the open. In each clone's values "%i" is its index (0..N-1) and
 * "%%" a '%'. --console-in, --console-out and --log-file become the (clone's) process's stdin,
 * stdout and stderr, as the shell's <, > and >> would make them.
 */
#ifndef KILN_CLI_RESTORE_CMD_H
#define KILN_CLI_RESTORE_CMD_H

#include <stdint.h>

#include "cli/args.h"

#define RESTORE_MAX_CLONES 1024 /* --clones N: at most this many */

/* Runs one restored guest of o (o->snapshot set) in this process: kiln's exit status. */
typedef int (*restore_cmd_guest_fn)(const struct cli_options *o, uint64_t start_ns);

/*
 * kiln's exit status: the guest's (as `kiln run`'s) without --clones; with it, 0 when every clone
 * ended with 0, else the status of the first clone (lowest index) that did not. EXIT_KILN_ERROR
 * after one line when the snapshot or a flag is refused before any guest runs.
 */
int restore_cmd_run(struct cli_options *o, uint64_t start_ns, restore_cmd_guest_fn run_guest);

#endif
