/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "util.h"

#define RATELIMIT_WINDOW_NS 1000000000ull
#define RATELIMIT_BURST 5

/*
 * Set by the main thread (--log-level, PUT /logger) while vCPU and I/O threads log: an atomic, so
 * the read is defined. Relaxed: a thread may log one more line at the old level, nothing depends on it.
 */
static atomic_int current_level = LOG_WARN;

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if ((int)level > atomic_load_explicit(&current_level, memory_order_relaxed))
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

	/* Two threads may both open a new window: the limit is approximate, which is fine for a log. */
	if (now - atomic_load_explicit(&rl->window_start_ns, memory_order_relaxed) > RATELIMIT_WINDOW_NS) {
		atomic_store_explicit(&rl->window_start_ns, now, memory_order_relaxed);
		atomic_store_explicit(&rl->count, 0, memory_order_relaxed);
	}
	return atomic_fetch_add_explicit(&rl->count, 1, memory_order_relaxed) < RATELIMIT_BURST;
}
