/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln with Firecracker's command line: `kiln --api-sock PATH` serves Firecracker's REST API,
 * `kiln --config-file FILE` boots from Firecracker's config file, both together do both. The same
 * loop runs `kiln run --api-sock PATH` (the VM from its flags) and `kiln restore` (from a snapshot,
 * serving the API when --api-sock is given). The main thread applies requests, watches signals
 * (signalfd) and the VM, and returns when the guest ends.
 */
#ifndef KILN_CLI_API_CMD_H
#define KILN_CLI_API_CMD_H

#include <kiln/kiln.h>

#include "cli/args.h"

#define API_DEFAULT_ID "anonymous-instance" /* Firecracker's id without --id */

/* The API's defaults in o: the instance id and the payload limit (set before any flag is parsed). */
void api_cmd_defaults(struct cli_options *o);

/* Parses Firecracker-style flags (argv[1] starts with "--") into o; -EINVAL and one line in err. */
int api_cmd_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen) MUST_CHECK;

/*
 * Runs until the guest ends. 0 when a VM ran and ended: *e says how, *stop_signal is the signal that
 * stopped it (0 if none). Otherwise kiln's exit status: EXIT_KILN_ERROR (one line printed) or 128+n
 * for a signal that came before any VM ran.
 */
int api_cmd_run(const struct cli_options *o, struct kiln_exit *e, int *stop_signal) MUST_CHECK;

#endif
