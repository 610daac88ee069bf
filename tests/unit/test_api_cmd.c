/* SPDX-License-Identifier: Apache-2.0 */
/* cli/api_cmd.c: Firecracker's command line (--api-sock, --config-file, ...) through cli_parse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/server.h"
#include "cli/api_cmd.h"

static struct cli_options o;
static char err[256];

#define PARSE(...)                                                                          \
	({                                                                                  \
		char *argv_[] = { "kiln", __VA_ARGS__, NULL };                              \
		cli_parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, &o, err, sizeof(err)); \
	})

#define assert_contains(hay, needle)                                                        \
	do {                                                                                \
		if (strstr((hay), (needle)) == NULL)                                        \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));         \
	} while (0)

static void test_api_sock(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--api-sock", "/run/kiln.sock"), 0);
	assert_int_equal(o.action, CLI_API);
	assert_string_equal(o.api_sock, "/run/kiln.sock");
	assert_null(o.config_file);
	assert_string_equal(o.instance_id, API_DEFAULT_ID);
	assert_int_equal(o.api_max_payload, API_MAX_PAYLOAD);
	assert_int_equal(o.log_level, LOG_WARN);

	assert_int_equal(PARSE("--api-sock", "/s", "--config-file", "vm.json", "--id", "vm-1",
			       "--http-api-max-payload-size", "1048576", "--boot-time", "--log-level", "debug"), 0);
	assert_string_equal(o.config_file, "vm.json");
	assert_string_equal(o.instance_id, "vm-1");
	assert_int_equal(o.api_max_payload, 1048576);
	assert_true(o.boot_time);
	assert_int_equal(o.log_level, LOG_DEBUG);
}

static void test_config_file_only(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--config-file", "vm.json"), 0);
	assert_int_equal(o.action, CLI_API);
	assert_null(o.api_sock);
	assert_int_equal(PARSE("--no-api", "--config-file", "vm.json"), 0); /* Firecracker's spelling */
	assert_null(o.api_sock);
	assert_int_equal(PARSE("--help"), 0);
	assert_int_equal(o.action, CLI_HELP);
	assert_int_equal(PARSE("--config-file", "vm.json", "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);
}

static void test_bad_flags(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--log-level", "info"), -EINVAL);
	assert_contains(err, "--api-sock PATH or --config-file FILE is required");
	assert_int_equal(PARSE("--api-sock"), -EINVAL);
	assert_contains(err, "--api-sock: unknown option or missing value");
	assert_int_equal(PARSE("--api-sock", "/s", "--kernel", "k"), -EINVAL);
	assert_contains(err, "--kernel: unknown option");
	assert_int_equal(PARSE("--api-sock", "/s", "extra"), -EINVAL);
	assert_contains(err, "unexpected argument 'extra'");
	assert_int_equal(PARSE("--api-sock", "/s", "--no-api"), -EINVAL);
	assert_contains(err, "contradict");
	assert_int_equal(PARSE("--api-sock", "/s", "--id", "a_b"), -EINVAL);
	assert_contains(err, "--id a_b: 1 to 64 letters, digits or '-'");
	assert_int_equal(PARSE("--api-sock", "/s", "--id", ""), -EINVAL);
	assert_int_equal(PARSE("--api-sock", "/s", "--id",
			       "a123456789b123456789c123456789d123456789e123456789f123456789g1234"), -EINVAL);
	assert_int_equal(PARSE("--api-sock", "/s", "--http-api-max-payload-size", "0"), -EINVAL);
	assert_contains(err, "--http-api-max-payload-size 0");
	assert_int_equal(PARSE("--api-sock", "/s", "--http-api-max-payload-size", "20000000"), -EINVAL);
	assert_int_equal(PARSE("--api-sock", "/s", "--http-api-max-payload-size", "-1"), -EINVAL);
	assert_int_equal(PARSE("--api-sock", "/s", "--http-api-max-payload-size", "1k"), -EINVAL);
	assert_int_equal(PARSE("--api-sock", "/s", "--log-level", "loud"), -EINVAL);
	assert_contains(err, "--log-level loud");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_sock),
		cmocka_unit_test(test_config_file_only),
		cmocka_unit_test(test_bad_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
