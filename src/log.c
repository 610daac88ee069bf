/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "util.h"

#define RATELIMIT_WINDOW_NS 1000000000ull
#define RATELIMIT_BURST 5

static enum log_level current_level = LOG_WARN;

void log_set_level(enum log_level level)
{
	current_level = level;
}

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line so lines from different threads do not interleave. */
	fprintf(stderr, "kiln: %s: %s\n", subsys, line);
}

int log_ratelimit_ok(struct log_ratelimit *rl)
{
	uint64_t now = now_ns();

	/* Races between threads only make the limit approximate, which is fine for a log. */
	if (now - rl->window_start_ns > RATELIMIT_WINDOW_NS) {
		rl->window_start_ns = now;
		rl->count = 0;
	}
	return rl->count++ < RATELIMIT_BURST;
}
