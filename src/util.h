/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every module. */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define MUST_CHECK __attribute__((warn_unused_result))

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define ALIGN_UP(x, a) ALIGN_DOWN((x) + (a) - 1, (a))

/* Guest-physical address. */
typedef uint64_t gpa_t;

/* Writes a one-line message into err (when err is non-NULL and errlen > 0) and returns rc: the
 * error path of functions that report to their caller in an (err, errlen) buffer. */
int fail_with(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* fail_with for bad input: how the command line and the API's parsers reject a value. */
#define fail_einval(err, errlen, ...) fail_with(err, errlen, -EINVAL, __VA_ARGS__)

/* "XX:XX:XX:XX:XX:XX" (hex digits, either case) into mac: 0, or -EINVAL for anything else. */
int parse_mac(const char *s, uint8_t mac[6]) MUST_CHECK;

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t now_ns(void);
/* Nanoseconds on CLOCK_REALTIME (the host's wall clock). */
uint64_t realtime_ns_now(void);

#endif
