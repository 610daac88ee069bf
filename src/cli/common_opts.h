/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flags both command lines take, `kiln run` (cli/args.c) and Firecracker's (cli/api_cmd.c):
 * --boot-time, --log-level and --help, parsed in one place so they cannot drift apart.
 */
#ifndef KILN_CLI_COMMON_OPTS_H
#define KILN_CLI_COMMON_OPTS_H

#include <getopt.h>

#include "cli/args.h"

/* getopt_long values of the common flags; each command line numbers its own from CLI_OPT_OWN. */
enum { CLI_OPT_BOOT_TIME = 256, CLI_OPT_LOG_LEVEL, CLI_OPT_OWN };

/* The common flags' rows of a getopt_long table. */
#define CLI_COMMON_OPTIONS                                             \
	{ "boot-time", no_argument, NULL, CLI_OPT_BOOT_TIME },         \
	{ "log-level", required_argument, NULL, CLI_OPT_LOG_LEVEL },   \
	{ "help", no_argument, NULL, 'h' }

/* Applies one of the common flags (getopt_long's opt, its arg) to o; -EINVAL and one line in err. */
int cli_common_option(int opt, const char *arg, struct cli_options *o, char *err, size_t errlen) MUST_CHECK;

#endif
