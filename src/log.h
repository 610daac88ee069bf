/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: "kiln: <subsystem>: <message>" on stderr, filtered by level. */
#ifndef KILN_LOG_H
#define KILN_LOG_H

#include <stdatomic.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(sub, ...) log_msg(LOG_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...) log_msg(LOG_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...) log_msg(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) log_msg(LOG_DEBUG, sub, __VA_ARGS__)

/*
 * For messages a guest can trigger: at most a few lines per call site per second, so a hostile guest
 * cannot flood the host's log.
 */
#define log_guest(level, sub, ...)                                                  \
	do {                                                                        \
		static struct log_ratelimit rl_;                                    \
		if (log_ratelimit_ok(&rl_))                                         \
			log_msg(level, sub, __VA_ARGS__);                           \
	} while (0)

/* Shared by every thread that reaches the call site (vCPUs, the I/O thread): atomics, not locks. */
struct log_ratelimit {
	atomic_ullong window_start_ns;
	atomic_uint count;
};
int log_ratelimit_ok(struct log_ratelimit *rl);

#endif
