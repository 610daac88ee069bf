/* SPDX-License-Identifier: Apache-2.0 */
/* api/parse.c and api/json.c: the JSON-to-config step, each object of firecracker.yaml, each error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/json.h"
#include "api/parse.h"
#include "log.h"
#include "util.h"

static char err[API_ERR_LEN];

#define assert_contains(hay, needle)                                                        \
	do {                                                                                \
		if (strstr((hay), (needle)) == NULL)                                        \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));         \
	} while (0)

static struct json_object *last;

/* Parses text, which must be JSON; the object is freed by the next call. */
static struct json_object *J(const char *text)
{
	json_object_put(last);
	last = api_json_parse(text, strlen(text), err, sizeof(err));
	if (last == NULL)
		fail_msg("not JSON: %s: %s", text, err);
	return last;
}

/* A JSON string member of n bytes of 'p': {"NAME": "ppp..."} */
static char *long_member(const char *before, size_t n, const char *after)
{
	size_t len = strlen(before) + n + strlen(after) + 1;
	char *s = malloc(len);

	assert_non_null(s);
	strcpy(s, before);
	memset(s + strlen(before), 'p', n);
	strcpy(s + strlen(before) + n, after);
	return s;
}

static void test_json_parse(void **state)
{
	(void)state;
	assert_null(api_json_parse("{", 1, err, sizeof(err)));
	assert_string_equal(err, "unexpected end of data at byte 1");
	assert_null(api_json_parse("{} x", 4, err, sizeof(err)));
	assert_string_equal(err, "unexpected character at byte 3");
	assert_null(api_json_parse("{\"a\": \"\xff\"}", 10, err, sizeof(err))); /* not UTF-8 */
	assert_null(api_json_parse("", 0, err, sizeof(err)));
	assert_null(api_json_parse("null", 4, err, sizeof(err)));
	assert_string_equal(err, "invalid type: null, expected an object");
	struct json_object *five = api_json_parse("5", 1, err, sizeof(err));
	assert_true(json_object_is_type(five, json_type_int));
	json_object_put(five);
	assert_null(api_json_parse("5 6", 3, err, sizeof(err)));
	assert_null(api_json_parse("[1", 2, err, sizeof(err)));
	assert_contains(err, "unexpected end of data");
	/* 17 levels of nesting: one more than allowed. */
	const char *deep = "[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]";
	assert_null(api_json_parse(deep, strlen(deep), err, sizeof(err)));
	struct json_object *o = api_json_parse("{\"a\": [1]}", 10, err, sizeof(err));
	assert_non_null(o);
	json_object_put(o);
	/* A NUL byte in the text ends nothing early: the length rules. */
	assert_null(api_json_parse("{}\0{}", 5, err, sizeof(err)));
}

static void test_boot_source(void **state)
{
	struct api_boot_source b;

	(void)state;
	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": \"/k\", \"initrd_path\": \"/i\", "
						 "\"boot_args\": \"console=ttyS0\"}"), &b, err, sizeof(err)), 0);
	assert_string_equal(b.kernel, "/k");
	assert_string_equal(b.initrd, "/i");
	assert_true(b.has_boot_args);
	assert_string_equal(b.boot_args, "console=ttyS0");

	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": \"/k\", \"initrd_path\": null, "
						 "\"boot_args\": \"\"}"), &b, err, sizeof(err)), 0);
	assert_string_equal(b.initrd, "");
	assert_true(b.has_boot_args); /* "" is an empty command line, not the default */
	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": \"/k\"}"), &b, err, sizeof(err)), 0);
	assert_false(b.has_boot_args);

	assert_int_equal(api_parse_boot_source(J("{}"), &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "missing field `kernel_image_path`");
	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": null}"), &b, err, sizeof(err)), -EINVAL);
	assert_contains(err, "invalid type for `kernel_image_path`: null, expected a string");
	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": 5}"), &b, err, sizeof(err)), -EINVAL);
	assert_contains(err, "`kernel_image_path`: integer, expected a string");
	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": \"\"}"), &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "`kernel_image_path` is empty");
	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": \"/k\\u0000x\"}"), &b, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "`kernel_image_path` holds a NUL byte");
	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": \"/k\", \"initrd_path\": false}"), &b, err,
					       sizeof(err)), -EINVAL);
	assert_contains(err, "`initrd_path`: boolean");
	assert_int_equal(api_parse_boot_source(J("{\"kernel_image_path\": \"/k\", \"kernel\": \"/k\"}"), &b, err,
					       sizeof(err)), -EINVAL);
	assert_contains(err, "unknown field `kernel`, expected one of `kernel_image_path`, `initrd_path`, `boot_args`");
	assert_int_equal(api_parse_boot_source(J("[]"), &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid type: array, expected a BootSource object");

	char *s = long_member("{\"kernel_image_path\": \"", API_PATH_MAX, "\"}");
	assert_int_equal(api_parse_boot_source(J(s), &b, err, sizeof(err)), -EINVAL);
	assert_contains(err, "`kernel_image_path` is 4096 bytes long: at most 4095 fit");
	free(s);
	s = long_member("{\"kernel_image_path\": \"/k\", \"boot_args\": \"", KILN_MAX_CMDLINE, "\"}");
	assert_int_equal(api_parse_boot_source(J(s), &b, err, sizeof(err)), -EINVAL);
	assert_contains(err, "`boot_args` is 2048 bytes long");
	free(s);
}

static void test_machine(void **state)
{
	struct api_machine m;

	(void)state;
	assert_int_equal(api_parse_machine(J("{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": false, "
					     "\"track_dirty_pages\": false, \"cpu_template\": \"None\", "
					     "\"huge_pages\": \"None\"}"), false, &m, err, sizeof(err)), 0);
	assert_int_equal(m.vcpus, 2);
	assert_int_equal(m.mem_mib, 256);
	assert_true(m.track_dirty_set);
	assert_false(m.track_dirty_pages);
	assert_int_equal(api_parse_machine(J("{\"vcpu_count\": 32, \"mem_size_mib\": 1, \"track_dirty_pages\": true}"),
					   false, &m, err, sizeof(err)), 0);
	assert_int_equal(m.vcpus, 32);
	assert_true(m.track_dirty_set && m.track_dirty_pages);
	/* PUT: an absent track_dirty_pages is false, and applied. */
	assert_int_equal(api_parse_machine(J("{\"vcpu_count\": 1, \"mem_size_mib\": 8}"), false, &m, err,
					   sizeof(err)), 0);
	assert_true(m.track_dirty_set && !m.track_dirty_pages);

	assert_int_equal(api_parse_machine(J("{\"mem_size_mib\": 8}"), true, &m, err, sizeof(err)), 0);
	assert_int_equal(m.vcpus, 0); /* unchanged */
	assert_int_equal(m.mem_mib, 8);
	assert_false(m.track_dirty_set); /* PATCH: unchanged */
	assert_int_equal(api_parse_machine(J("{\"track_dirty_pages\": true}"), true, &m, err, sizeof(err)), 0);
	assert_true(m.track_dirty_set && m.track_dirty_pages);
	assert_int_equal(m.mem_mib, 0);
	assert_int_equal(api_parse_machine(J("{}"), true, &m, err, sizeof(err)), -EINVAL);
	assert_contains(err, "changes nothing");

	static const struct {
		const char *json;
		const char *why;
	} bad[] = {
		{ "{\"vcpu_count\": 1}", "missing field `mem_size_mib`" },
		{ "{\"mem_size_mib\": 1}", "missing field `vcpu_count`" },
		{ "{\"vcpu_count\": 0, \"mem_size_mib\": 8}", "invalid value for `vcpu_count`: 0, expected 1 to 32" },
		{ "{\"vcpu_count\": 33, \"mem_size_mib\": 8}", "invalid value for `vcpu_count`: 33" },
		{ "{\"vcpu_count\": -1, \"mem_size_mib\": 8}", "`vcpu_count`: -1" },
		{ "{\"vcpu_count\": 1.5, \"mem_size_mib\": 8}", "`vcpu_count`: floating point, expected an integer" },
		{ "{\"vcpu_count\": \"1\", \"mem_size_mib\": 8}", "`vcpu_count`: string, expected an integer" },
		{ "{\"vcpu_count\": 1, \"mem_size_mib\": 0}", "invalid value for `mem_size_mib`: 0" },
		{ "{\"vcpu_count\": 1, \"mem_size_mib\": 99999999999999999999}", "invalid value for `mem_size_mib`" },
		{ "{\"vcpu_count\": 1, \"mem_size_mib\": 8, \"smt\": true}", "`smt`: kiln does not support SMT" },
		{ "{\"vcpu_count\": 1, \"mem_size_mib\": 8, \"smt\": 1}", "`smt`: integer, expected a boolean" },
		{ "{\"vcpu_count\": 1, \"mem_size_mib\": 8, \"track_dirty_pages\": 1}",
		  "`track_dirty_pages`: integer, expected a boolean" },
		{ "{\"vcpu_count\": 1, \"mem_size_mib\": 8, \"cpu_template\": \"T2\"}", "`cpu_template`" },
		{ "{\"vcpu_count\": 1, \"mem_size_mib\": 8, \"huge_pages\": \"2M\"}", "`huge_pages`" },
		{ "{\"vcpu_count\": 1, \"mem_size_mib\": 8, \"ht_enabled\": false}", "unknown field `ht_enabled`" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(api_parse_machine(J(bad[i].json), false, &m, err, sizeof(err)), -EINVAL);
		assert_contains(err, bad[i].why);
	}
}

static void test_drive(void **state)
{
	struct api_drive d;

	(void)state;
	assert_int_equal(api_parse_drive(J("{\"drive_id\": \"rootfs\", \"path_on_host\": \"/d\", \"is_root_device\": "
					   "true, \"is_read_only\": true, \"partuuid\": \"abc-01\", \"cache_type\": "
					   "\"Writeback\", \"io_engine\": \"Sync\", \"rate_limiter\": null, "
					   "\"socket\": null}"), &d, err, sizeof(err)), 0);
	assert_string_equal(d.id, "rootfs");
	assert_string_equal(d.path, "/d");
	assert_string_equal(d.partuuid, "abc-01");
	assert_true(d.root);
	assert_true(d.read_only);
	assert_int_equal(api_parse_drive(J("{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": "
					   "false}"), &d, err, sizeof(err)), 0);
	assert_false(d.root);
	assert_false(d.read_only);
	assert_string_equal(d.partuuid, "");

	static const struct {
		const char *json;
		const char *why;
	} bad[] = {
		{ "{\"path_on_host\": \"/d\", \"is_root_device\": false}", "missing field `drive_id`" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\"}", "missing field `is_root_device`" },
		{ "{\"drive_id\": \"x\", \"is_root_device\": false}", "missing field `path_on_host`" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": \"yes\"}",
		  "`is_root_device`: string, expected a boolean" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, \"cache_type\": \"Fast\"}",
		  "unknown variant `Fast` for `cache_type`" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, \"cache_type\": \"unsafe\"}",
		  "unknown variant `unsafe`" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, \"io_engine\": \"Async\"}",
		  "only the \"Sync\" engine" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, \"rate_limiter\": {}}",
		  "`rate_limiter`: rate limiters are not supported" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, \"socket\": \"/s\"}",
		  "vhost-user" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, \"partuuid\": \"\"}",
		  "`partuuid` is empty" },
		{ "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, \"cache\": 1}",
		  "unknown field `cache`" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(api_parse_drive(J(bad[i].json), &d, err, sizeof(err)), -EINVAL);
		assert_contains(err, bad[i].why);
	}
}

static void test_drive_update(void **state)
{
	struct api_drive_update u;

	(void)state;
	assert_int_equal(api_parse_drive_update(J("{\"drive_id\": \"x\", \"path_on_host\": \"/new\"}"), &u, err,
						sizeof(err)), 0);
	assert_string_equal(u.id, "x");
	assert_string_equal(u.path, "/new");
	assert_int_equal(api_parse_drive_update(J("{\"drive_id\": \"x\"}"), &u, err, sizeof(err)), 0);
	assert_string_equal(u.path, "");
	assert_int_equal(api_parse_drive_update(J("{\"path_on_host\": \"/new\"}"), &u, err, sizeof(err)), -EINVAL);
	assert_contains(err, "missing field `drive_id`");
	assert_int_equal(api_parse_drive_update(J("{\"drive_id\": \"x\", \"is_read_only\": true}"), &u, err,
						sizeof(err)), -EINVAL);
	assert_contains(err, "unknown field `is_read_only`");
	assert_int_equal(api_parse_drive_update(J("{\"drive_id\": \"x\", \"rate_limiter\": {}}"), &u, err,
						sizeof(err)), -EINVAL);
	assert_contains(err, "rate limiters");
}

static void test_mac(void **state)
{
	uint8_t mac[6];

	(void)state;
	assert_int_equal(parse_mac("06:00:AC:10:00:02", mac), 0);
	assert_int_equal(mac[0], 0x06);
	assert_int_equal(mac[2], 0xac);
	assert_int_equal(mac[5], 0x02);
	/* Syntax only: a multicast address is kiln_config_validate's to refuse (test_config.c). */
	assert_int_equal(parse_mac("01:00:00:00:00:01", mac), 0);
	assert_int_equal(parse_mac("06:00:ac:10:00", mac), -EINVAL);
	assert_int_equal(parse_mac("06:00:ac:10:00:02:03", mac), -EINVAL);
	assert_int_equal(parse_mac("06-00-ac-10-00-02", mac), -EINVAL);
	assert_int_equal(parse_mac("06:00:ac:10:00:0g", mac), -EINVAL);
	assert_int_equal(parse_mac("+6:00:ac:10:00:02", mac), -EINVAL);
	assert_int_equal(parse_mac(" 6:00:ac:10:00:02", mac), -EINVAL);
	assert_int_equal(parse_mac("", mac), -EINVAL);
}

static void test_net(void **state)
{
	struct api_net n;

	(void)state;
	assert_int_equal(api_parse_net(J("{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": "
					 "\"06:00:ac:10:00:02\"}"), &n, err, sizeof(err)), 0);
	assert_string_equal(n.id, "eth0");
	assert_string_equal(n.tap, "tap0");
	assert_true(n.mac_set);
	assert_int_equal(n.mac[3], 0x10);
	assert_int_equal(api_parse_net(J("{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": null, "
					 "\"rx_rate_limiter\": null}"), &n, err, sizeof(err)), 0);
	assert_false(n.mac_set);

	static const struct {
		const char *json;
		const char *why;
	} bad[] = {
		{ "{\"host_dev_name\": \"tap0\"}", "missing field `iface_id`" },
		{ "{\"iface_id\": \"eth0\"}", "missing field `host_dev_name`" },
		{ "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"zz\"}", "`guest_mac` zz" },
		{ "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"mtu\": 1500}", "`mtu`" },
		{ "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"rx_rate_limiter\": {}}", "`rx_rate_limiter`" },
		{ "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"tx_rate_limiter\": {}}", "`tx_rate_limiter`" },
		{ "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"allow_mmds_requests\": true}",
		  "unknown field `allow_mmds_requests`" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(api_parse_net(J(bad[i].json), &n, err, sizeof(err)), -EINVAL);
		assert_contains(err, bad[i].why);
	}
}

static void test_vsock(void **state)
{
	struct api_vsock v;

	(void)state;
	assert_int_equal(api_parse_vsock(J("{\"guest_cid\": 3, \"uds_path\": \"/v.sock\", \"vsock_id\": \"vsock0\"}"),
					 &v, err, sizeof(err)), 0);
	assert_int_equal(v.guest_cid, 3);
	assert_string_equal(v.uds_path, "/v.sock");
	assert_int_equal(api_parse_vsock(J("{\"guest_cid\": 4294967294, \"uds_path\": \"/v\"}"), &v, err,
					 sizeof(err)), 0);
	assert_int_equal(v.guest_cid, 4294967294u);
	assert_int_equal(api_parse_vsock(J("{\"guest_cid\": 2, \"uds_path\": \"/v\"}"), &v, err, sizeof(err)), -EINVAL);
	assert_contains(err, "`guest_cid`: 2, expected 3 to 4294967294");
	assert_int_equal(api_parse_vsock(J("{\"guest_cid\": 4294967295, \"uds_path\": \"/v\"}"), &v, err,
					 sizeof(err)), -EINVAL);
	assert_int_equal(api_parse_vsock(J("{\"guest_cid\": 3}"), &v, err, sizeof(err)), -EINVAL);
	assert_contains(err, "missing field `uds_path`");
	assert_int_equal(api_parse_vsock(J("{\"uds_path\": \"/v\"}"), &v, err, sizeof(err)), -EINVAL);
	assert_contains(err, "missing field `guest_cid`");
}

static void test_entropy_logger_metrics(void **state)
{
	struct api_logger l;
	struct api_metrics m;

	(void)state;
	assert_int_equal(api_parse_entropy(J("{}"), err, sizeof(err)), 0);
	assert_int_equal(api_parse_entropy(J("{\"rate_limiter\": null}"), err, sizeof(err)), 0);
	assert_int_equal(api_parse_entropy(J("{\"rate_limiter\": {\"ops\": {}}}"), err, sizeof(err)), -EINVAL);
	assert_int_equal(api_parse_entropy(J("{\"rate\": 1}"), err, sizeof(err)), -EINVAL);
	assert_contains(err, "unknown field `rate`");

	assert_int_equal(api_parse_logger(J("{\"log_path\": \"/l\", \"level\": \"Info\", \"show_level\": true, "
					    "\"show_log_origin\": false, \"module\": \"api\"}"), &l, err,
					  sizeof(err)), 0);
	assert_string_equal(l.path, "/l");
	assert_int_equal(l.level, LOG_INFO);
	assert_int_equal(api_parse_logger(J("{\"level\": \"warning\"}"), &l, err, sizeof(err)), 0);
	assert_int_equal(l.level, LOG_WARN); /* levels ignore case, as Firecracker's do */
	assert_string_equal(l.path, "");
	assert_int_equal(api_parse_logger(J("{\"level\": \"TRACE\"}"), &l, err, sizeof(err)), 0);
	assert_int_equal(l.level, LOG_DEBUG);
	assert_int_equal(api_parse_logger(J("{\"level\": \"Off\"}"), &l, err, sizeof(err)), 0);
	assert_int_equal(l.level, LOG_ERROR);
	assert_int_equal(api_parse_logger(J("{}"), &l, err, sizeof(err)), 0);
	assert_int_equal(l.level, -1);
	assert_int_equal(api_parse_logger(J("{\"level\": \"Loud\"}"), &l, err, sizeof(err)), -EINVAL);
	assert_contains(err, "unknown variant `Loud` for `level`");
	assert_int_equal(api_parse_logger(J("{\"log_path\": \"\"}"), &l, err, sizeof(err)), -EINVAL);
	assert_int_equal(api_parse_logger(J("{\"show_level\": \"yes\"}"), &l, err, sizeof(err)), -EINVAL);

	assert_int_equal(api_parse_metrics(J("{\"metrics_path\": \"/m\", \"emit_id\": false}"), &m, err,
					   sizeof(err)), 0);
	assert_string_equal(m.path, "/m");
	assert_int_equal(api_parse_metrics(J("{}"), &m, err, sizeof(err)), -EINVAL);
	assert_contains(err, "missing field `metrics_path`");
	assert_int_equal(api_parse_metrics(J("{\"metrics_path\": \"/m\", \"emit_id\": true}"), &m, err,
					   sizeof(err)), -EINVAL);
	assert_contains(err, "`emit_id`");
	assert_int_equal(api_parse_metrics(J("{\"metrics_path\": \"/m\", \"properties\": {\"a\": \"b\"}}"), &m, err,
					   sizeof(err)), -EINVAL);
	assert_contains(err, "`properties`");
}

static void test_vm_state_and_actions(void **state)
{
	bool pause = false;
	enum api_kind kind;

	(void)state;
	assert_int_equal(api_parse_vm_state(J("{\"state\": \"Paused\"}"), &pause, err, sizeof(err)), 0);
	assert_true(pause);
	assert_int_equal(api_parse_vm_state(J("{\"state\": \"Resumed\"}"), &pause, err, sizeof(err)), 0);
	assert_false(pause);
	assert_int_equal(api_parse_vm_state(J("{\"state\": \"paused\"}"), &pause, err, sizeof(err)), -EINVAL);
	assert_contains(err, "unknown variant `paused` for `state`");
	assert_int_equal(api_parse_vm_state(J("{\"state\": 1}"), &pause, err, sizeof(err)), -EINVAL);
	assert_int_equal(api_parse_vm_state(J("{}"), &pause, err, sizeof(err)), -EINVAL);
	assert_contains(err, "missing field `state`");
	assert_int_equal(api_parse_vm_state(J("{\"state\": \"Paused\", \"when\": 1}"), &pause, err, sizeof(err)),
			 -EINVAL);

	assert_int_equal(api_parse_instance_action(J("{\"action_type\": \"InstanceStart\"}"), &kind, err,
						   sizeof(err)), 0);
	assert_int_equal(kind, API_INSTANCE_START);
	assert_int_equal(api_parse_instance_action(J("{\"action_type\": \"FlushMetrics\"}"), &kind, err,
						   sizeof(err)), 0);
	assert_int_equal(kind, API_FLUSH_METRICS);
	assert_int_equal(api_parse_instance_action(J("{\"action_type\": \"SendCtrlAltDel\"}"), &kind, err,
						   sizeof(err)), 0);
	assert_int_equal(kind, API_SEND_CTRL_ALT_DEL);
	assert_int_equal(api_parse_instance_action(J("{\"action_type\": \"Start\"}"), &kind, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(api_parse_instance_action(J("{\"action_type\": \"InstanceStart\", \"payload\": \"x\"}"),
						   &kind, err, sizeof(err)), -EINVAL);
	assert_contains(err, "unknown field `payload`");
	char *s = long_member("{\"action_type\": \"", 100, "\"}");
	assert_int_equal(api_parse_instance_action(J(s), &kind, err, sizeof(err)), -EINVAL);
	assert_contains(err, "unknown variant for `action_type`");
	free(s);
}

static void test_snapshot_create(void **state)
{
	struct api_snapshot_create c;

	(void)state;
	assert_int_equal(api_parse_snapshot_create(J("{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}"), &c,
						   err, sizeof(err)), 0);
	assert_string_equal(c.state_path, "/s");
	assert_string_equal(c.mem_path, "/m");
	assert_false(c.diff);
	assert_int_equal(api_parse_snapshot_create(J("{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", "
						     "\"snapshot_type\": \"Diff\"}"), &c, err, sizeof(err)), 0);
	assert_true(c.diff); /* refused when applied: it needs dirty page tracking */

	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "{\"snapshot_path\": \"/s\"}", "missing field `mem_file_path`" },
		{ "{\"mem_file_path\": \"/m\"}", "missing field `snapshot_path`" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"snapshot_type\": \"full\"}",
		  "unknown variant `full` for `snapshot_type`" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"version\": \"1.0\"}", "unknown field `version`" },
		{ "{\"snapshot_path\": \"\", \"mem_file_path\": \"/m\"}", "`snapshot_path` is empty" },
		{ "{\"snapshot_path\": \"/f\", \"mem_file_path\": \"/f\"}", "name the same file" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (api_parse_snapshot_create(J(bad[i].json), &c, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted: %s", bad[i].json);
		assert_contains(err, bad[i].why);
	}
}

static void test_snapshot_load(void **state)
{
	static struct api_snapshot_load l;

	(void)state;
	assert_int_equal(api_parse_snapshot_load(J("{\"snapshot_path\": \"/s\", \"mem_backend\": {\"backend_type\": "
						   "\"File\", \"backend_path\": \"/m\"}, \"resume_vm\": true, "
						   "\"track_dirty_pages\": false, \"huge_pages\": \"None\", "
						   "\"clock_realtime\": true, "
						   "\"vsock_override\": {\"uds_path\": \"/v\"}, \"network_overrides\": "
						   "[{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap9\"}]}"),
						 &l, err, sizeof(err)), 0);
	assert_string_equal(l.state_path, "/s");
	assert_string_equal(l.mem_path, "/m");
	assert_true(l.resume);
	assert_true(l.clock_realtime);
	assert_string_equal(l.vsock_uds, "/v");
	assert_int_equal(l.nnets, 1);
	assert_string_equal(l.nets[0].id, "eth0");
	assert_string_equal(l.nets[0].tap, "tap9");
	assert_int_equal(l.track_dirty, KILN_TRACK_DIRTY_OFF);
	/* The deprecated mem_file_path, and nothing else. */
	assert_int_equal(api_parse_snapshot_load(J("{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m2\", "
						   "\"clock_realtime\": false}"),
						 &l, err, sizeof(err)), 0);
	assert_string_equal(l.mem_path, "/m2");
	assert_false(l.resume);
	assert_false(l.clock_realtime);
	assert_int_equal(l.nnets, 0);
	assert_string_equal(l.vsock_uds, "");
	assert_int_equal(l.track_dirty, KILN_TRACK_DIRTY_OFF); /* neither given: off, as in Firecracker */

	/* track_dirty_pages, or the deprecated enable_diff_snapshots: either true turns tracking on. */
	static const struct {
		const char *members;
		enum kiln_track_dirty want;
	} track[] = {
		{ "\"track_dirty_pages\": true", KILN_TRACK_DIRTY_ON },
		{ "\"enable_diff_snapshots\": true", KILN_TRACK_DIRTY_ON },
		{ "\"enable_diff_snapshots\": false", KILN_TRACK_DIRTY_OFF },
		{ "\"track_dirty_pages\": false, \"enable_diff_snapshots\": true", KILN_TRACK_DIRTY_ON },
		{ "\"track_dirty_pages\": false, \"enable_diff_snapshots\": false", KILN_TRACK_DIRTY_OFF },
	};
	for (size_t i = 0; i < sizeof(track) / sizeof(track[0]); i++) {
		char json[256];

		snprintf(json, sizeof(json), "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", %s}",
			 track[i].members);
		assert_int_equal(api_parse_snapshot_load(J(json), &l, err, sizeof(err)), 0);
		if (l.track_dirty != track[i].want)
			fail_msg("%s: track_dirty %d, expected %d", json, l.track_dirty, track[i].want);
	}

	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "{\"snapshot_path\": \"/s\"}", "missing field: either `mem_backend` or `mem_file_path` is required" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"mem_backend\": {\"backend_type\": "
		  "\"File\", \"backend_path\": \"/m\"}}", "either `mem_backend` or `mem_file_path` exclusively" },
		{ "{\"mem_file_path\": \"/m\"}", "missing field `snapshot_path`" },
		{ "{\"snapshot_path\": \"/s\", \"mem_backend\": {\"backend_type\": \"Uffd\", \"backend_path\": \"/u\"}}",
		  "\"Uffd\" backend (memory served by a userfaultfd handler) is not supported by kiln yet" },
		{ "{\"snapshot_path\": \"/s\", \"mem_backend\": {\"backend_type\": \"Disk\", \"backend_path\": \"/u\"}}",
		  "unknown variant `Disk` for `backend_type`" },
		{ "{\"snapshot_path\": \"/s\", \"mem_backend\": {\"backend_type\": \"File\"}}",
		  "missing field `backend_path`" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"track_dirty_pages\": \"yes\"}",
		  "invalid type for `track_dirty_pages`" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"huge_pages\": \"2M\"}",
		  "`huge_pages`: kiln supports only" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"vsock_override\": {}}",
		  "missing field `uds_path`" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"network_overrides\": [{\"iface_id\": \"a\"}]}",
		  "`network_overrides`[0]: missing field `host_dev_name`" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"network_overrides\": "
		  "[{\"iface_id\": \"a\", \"host_dev_name\": \"t\"}, {\"iface_id\": \"a\", \"host_dev_name\": \"u\"}]}",
		  "`network_overrides`[1]: iface_id `a` is overridden twice" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"network_overrides\": [1]}",
		  "`network_overrides`[0]: invalid type: integer, expected a NetworkOverride object" },
		{ "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"resume_vm\": \"yes\"}",
		  "invalid type for `resume_vm`" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (api_parse_snapshot_load(J(bad[i].json), &l, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted: %s", bad[i].json);
		assert_contains(err, bad[i].why);
	}

	/* One override per NIC kiln can have. */
	char json[1024];
	size_t len = (size_t)snprintf(json, sizeof(json), "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", "
							   "\"network_overrides\": [");
	for (int i = 0; i <= KILN_MAX_NETS; i++)
		len += (size_t)snprintf(json + len, sizeof(json) - len, "%s{\"iface_id\": \"e%d\", \"host_dev_name\": "
						    "\"t%d\"}", i ? "," : "", i, i);
	snprintf(json + len, sizeof(json) - len, "]}");
	assert_int_equal(api_parse_snapshot_load(J(json), &l, err, sizeof(err)), -EINVAL);
	assert_contains(err, "`network_overrides`: 5 entries, kiln has at most 4 network interfaces");
}

static void test_replies(void **state)
{
	struct api_reply r;

	(void)state;
	api_reply_ok(&r);
	assert_int_equal(r.status, 204);
	assert_null(r.body);
	api_reply_fault(&r, "bad \"%s\"", "quote\\");
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "{\"fault_message\":\"bad \\\"quote\\\\\\\"\"}");
	assert_string_equal(r.fault, "bad \"quote\\\"");
	api_reply_free(&r);
	api_reply_object(&r, json_object_new_object());
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{}");
	api_reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_parse),
		cmocka_unit_test(test_boot_source),
		cmocka_unit_test(test_machine),
		cmocka_unit_test(test_drive),
		cmocka_unit_test(test_drive_update),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_vsock),
		cmocka_unit_test(test_entropy_logger_metrics),
		cmocka_unit_test(test_vm_state_and_actions),
		cmocka_unit_test(test_snapshot_create),
		cmocka_unit_test(test_snapshot_load),
		cmocka_unit_test(test_replies),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	json_object_put(last);
	return rc;
}
