/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kiln snapshot --api-sock PATH [--resume] DIR`: a client of a running kiln's API socket, which
 * pauses its guest and writes it to DIR/state and DIR/mem (PATCH /vm, PUT /snapshot/create).
 * `kiln restore [...] DIR`: the flags that turn DIR into a struct kiln_restore; the restored guest
 * then runs in the API process's loop (cli/api_cmd.c), serving the API when --api-sock is given.
 * `kiln snapshot-merge BASE_MEM DIFF_MEM`: a Diff snapshot's memory merged onto its base's.
 */
#ifndef KILN_CLI_SNAPSHOT_CMD_H
#define KILN_CLI_SNAPSHOT_CMD_H

#include "cli/args.h"

/* argv[0] is "snapshot"; -EINVAL and one line in err. */
int snapshot_cmd_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen) MUST_CHECK;

/* argv[0] is "restore"; -EINVAL and one line in err. */
int restore_cmd_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen) MUST_CHECK;

/* Takes the snapshot: kiln's exit status, 0 or EXIT_KILN_ERROR after one line on stderr. */
int snapshot_cmd_run(const struct cli_options *o);

/* argv[0] is "snapshot-merge": BASE_MEM DIFF_MEM; -EINVAL and one line in err. */
int merge_cmd_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen) MUST_CHECK;

/* kiln_snapshot_merge: kiln's exit status, 0 or EXIT_KILN_ERROR after one line on stderr. */
int merge_cmd_run(const struct cli_options *o);

#endif
