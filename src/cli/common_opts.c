/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/common_opts.h"

#include <string.h>

/* "error", "warn", "info" or "debug": enum log_level's order. */
static int parse_log_level(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -EINVAL;
}

int cli_common_option(int opt, const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	switch (opt) {
	case CLI_OPT_BOOT_TIME:
		o->boot_time = true;
		return 0;
	case CLI_OPT_LOG_LEVEL:
		if (parse_log_level(arg, &o->log_level) < 0)
			return fail_einval(err, errlen, "--log-level %s: use error, warn, info or debug", arg);
		return 0;
	case 'h':
		o->action = CLI_HELP;
		return 0;
	default: /* getopt_long returns only its table's values: a row without a case */
		return fail_einval(err, errlen, "option %d: not handled (a bug in kiln)", opt);
	}
}
