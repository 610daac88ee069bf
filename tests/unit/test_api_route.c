/* SPDX-License-Identifier: Apache-2.0 */
/* api/route.c: the route table, Firecracker's generic request errors, and the config file's keys. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/config_file.h"
#include "api/json.h"
#include "api/route.h"
#include "support/resident.h"

static char fault[API_ERR_LEN];
static struct api_action action;

#define assert_contains(hay, needle)                                                        \
	do {                                                                                \
		if (strstr((hay), (needle)) == NULL)                                        \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));         \
	} while (0)

static int route(const char *method, const char *path, const char *body)
{
	return api_route(method, path, body, strlen(body), &action, fault, sizeof(fault));
}

static void test_routes(void **state)
{
	static const struct {
		const char *method, *path, *body;
		enum api_kind kind;
	} good[] = {
		{ "GET", "/", "", API_GET_INFO },
		{ "GET", "/version", "", API_GET_VERSION },
		{ "GET", "/machine-config", "", API_GET_MACHINE },
		{ "GET", "/vm/config", "", API_GET_VM_CONFIG },
		{ "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", API_INSTANCE_START },
		{ "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", API_SEND_CTRL_ALT_DEL },
		{ "PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", API_FLUSH_METRICS },
		{ "PUT", "/boot-source", "{\"kernel_image_path\": \"/k\"}", API_PUT_BOOT_SOURCE },
		{ "PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64}", API_PUT_MACHINE },
		{ "PATCH", "/machine-config", "{\"vcpu_count\": 2}", API_PATCH_MACHINE },
		{ "PUT", "/drives/root_1", "{\"drive_id\": \"root_1\", \"path_on_host\": \"/d\", \"is_root_device\": true}",
		  API_PUT_DRIVE },
		{ "PATCH", "/drives/root_1", "{\"drive_id\": \"root_1\", \"path_on_host\": \"/e\"}", API_PATCH_DRIVE },
		{ "PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}", API_PUT_NET },
		{ "PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"/v\"}", API_PUT_VSOCK },
		{ "PUT", "/entropy", "{}", API_PUT_ENTROPY },
		{ "PUT", "/logger", "{\"level\": \"Debug\"}", API_PUT_LOGGER },
		{ "PUT", "/metrics", "{\"metrics_path\": \"/m\"}", API_PUT_METRICS },
		{ "PATCH", "/vm", "{\"state\": \"Paused\"}", API_PATCH_VM },
		{ "PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}", API_SNAPSHOT_CREATE },
		{ "PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}", API_SNAPSHOT_LOAD },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (route(good[i].method, good[i].path, good[i].body) != 0)
			fail_msg("%s %s: %s", good[i].method, good[i].path, fault);
		assert_int_equal(action.kind, good[i].kind);
	}
	assert_int_equal(route("PUT", "/drives/root_1", "{\"drive_id\": \"root_1\", \"path_on_host\": \"/d\", "
							 "\"is_root_device\": true, \"is_read_only\": true}"), 0);
	assert_string_equal(action.drive.path, "/d");
	assert_true(action.drive.read_only);
	assert_int_equal(route("PATCH", "/vm", "{\"state\": \"Resumed\"}"), 0);
	assert_false(action.pause);
}

static void test_generic_errors(void **state)
{
	static const struct {
		const char *method, *path, *body, *fault;
	} bad[] = {
		{ "GET", "/", "{}", "GET request cannot have a body." },
		{ "GET", "/nowhere", "x", "GET request cannot have a body." },
		{ "PUT", "/boot-source", "", "Empty PUT request." },
		{ "PATCH", "/vm", "", "Empty PATCH request." },
		{ "PUT", "/nowhere", "", "Empty PUT request." },
		{ "GET", "/nowhere", "", "Invalid request method and/or path: GET /nowhere." },
		{ "POST", "/actions", "{}", "Invalid request method and/or path: POST /actions." },
		{ "DELETE", "/drives/x", "", "Invalid request method and/or path: DELETE /drives/x." },
		{ "GET", "/boot-source", "", "Invalid request method and/or path: GET /boot-source." },
		{ "PUT", "/vm", "{\"state\": \"Paused\"}", "Invalid request method and/or path: PUT /vm." },
		{ "GET", "/vm/config/", "", "Invalid request method and/or path" },
		{ "GET", "/vm/configx", "", "Invalid request method and/or path" },
		{ "GET", "", "", "Invalid request method and/or path" },
		{ "PUT", "/drives/a/b", "{}", "Invalid request method and/or path: PUT /drives/a/b." },
		{ "PUT", "/drives", "{}", "The ID cannot be empty." },
		{ "PUT", "/drives/", "{}", "The ID cannot be empty." },
		{ "PUT", "/drives/a-b", "{}", "API Resource IDs can only contain alphanumeric characters and underscores." },
		{ "PUT", "/drives/a%20b", "{}", "alphanumeric" },
		{ "PUT", "/balloon", "{}", "The requested operation is not supported: kiln does not implement /balloon." },
		{ "GET", "/mmds", "", "kiln does not implement /mmds" },
		{ "PUT", "/snapshot/create", "{}", "deserializing the json body of a request: missing field `snapshot_path`" },
		{ "PUT", "/snapshot", "{}", "Invalid request method and/or path: PUT /snapshot." },
		{ "PUT", "/snapshot/delete", "{}", "Invalid request method and/or path: PUT /snapshot/delete." },
		{ "GET", "/snapshot/load", "", "Invalid request method and/or path: GET /snapshot/load." },
		{ "PATCH", "/network-interfaces/eth0", "{}", "no rate limiters" },
		{ "PUT", "/boot-source", "{", "An error occurred when deserializing the json body of a request: "
						"unexpected end of data at byte 1." },
		{ "PUT", "/boot-source", "[]", "invalid type: array, expected a BootSource object" },
		{ "PUT", "/boot-source", "null", "invalid type: null" },
		{ "PUT", "/drives/a", "{\"drive_id\": \"b\", \"path_on_host\": \"/d\", \"is_root_device\": true}",
		  "The id from the path does not match the id from the body!" },
		{ "PATCH", "/drives/a", "{\"drive_id\": \"b\"}", "The id from the path does not match the id from the body!" },
		{ "PUT", "/network-interfaces/a", "{\"iface_id\": \"b\", \"host_dev_name\": \"t\"}", "does not match" },
		{ "PUT", "/drives/a", "{\"drive_id\": \"b\"}", "deserializing the json body of a request: missing field" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (route(bad[i].method, bad[i].path, bad[i].body) != -EINVAL)
			fail_msg("%s %s %s: accepted", bad[i].method, bad[i].path, bad[i].body);
		assert_contains(fault, bad[i].fault);
	}
}

static void test_ids(void **state)
{
	char path[256], body[512];

	(void)state;
	/* 63 bytes fit, 64 do not. */
	memset(body, 0, sizeof(body));
	strcpy(path, "/drives/");
	memset(path + 8, 'a', 63);
	path[8 + 63] = '\0';
	snprintf(body, sizeof(body), "{\"drive_id\": \"%s\", \"path_on_host\": \"/d\", \"is_root_device\": false}",
		 path + 8);
	assert_int_equal(route("PUT", path, body), 0);
	strcat(path, "a");
	snprintf(body, sizeof(body), "{\"drive_id\": \"%s\", \"path_on_host\": \"/d\", \"is_root_device\": false}",
		 path + 8);
	assert_int_equal(route("PUT", path, body), -EINVAL);
	assert_contains(fault, "at most 63 bytes");
}

static void test_config_file(void **state)
{
	static struct api_action out[API_CONFIG_MAX_ACTIONS];
	char err[API_ERR_LEN];
	size_t n;
	const char *full = "{\"boot-source\": {\"kernel_image_path\": \"/k\", \"boot_args\": \"console=ttyS0\"},"
			   " \"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r\", \"is_root_device\": true},"
			   "              {\"drive_id\": \"data\", \"path_on_host\": \"/d\", \"is_root_device\": false}],"
			   " \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 256},"
			   " \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}],"
			   " \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"/v\"}, \"entropy\": {},"
			   " \"logger\": {\"level\": \"Info\"}, \"metrics\": {\"metrics_path\": \"/m\"},"
			   " \"balloon\": null, \"mmds-config\": null, \"cpu-config\": null}";
	static const enum api_kind order[] = {
		API_PUT_LOGGER, API_PUT_METRICS, API_PUT_MACHINE, API_PUT_BOOT_SOURCE, API_PUT_DRIVE, API_PUT_DRIVE,
		API_PUT_NET, API_PUT_VSOCK, API_PUT_ENTROPY, API_INSTANCE_START,
	};

	(void)state;
	assert_int_equal(api_config_file_parse(full, strlen(full), out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i].kind, order[i]);
	assert_string_equal(out[4].drive.id, "rootfs");
	assert_string_equal(out[5].drive.path, "/d");
	assert_int_equal(out[2].machine.vcpus, 2);

	const char *minimal = "{\"boot-source\": {\"kernel_image_path\": \"/k\"}}";
	assert_int_equal(api_config_file_parse(minimal, strlen(minimal), out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[1].kind, API_INSTANCE_START);

	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "{}", "missing field `boot-source`" },
		{ "[]", "invalid type: array, expected a config file object" },
		{ "{\"boot-source\": {}}", "boot-source: missing field `kernel_image_path`" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"drives\": [{\"drive_id\": \"a\"}]}",
		  "drives[0]: missing field `is_root_device`" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"drives\": {}}", "`drives`: object, expected an array" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"network-interfaces\": [1]}",
		  "network-interfaces[0]: invalid type: integer" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"balloon\": {\"amount_mib\": 1}}",
		  "balloon: not supported by kiln" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"machine\": {}}", "unknown field `machine`" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"vsock\": {\"guest_cid\": 1, \"uds_path\": \"/v\"}}",
		  "vsock: invalid value for `guest_cid`" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}", "unexpected end of data" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (api_config_file_parse(bad[i].json, strlen(bad[i].json), out, &n, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted: %s", bad[i].json);
		assert_contains(err, bad[i].why);
		assert_int_equal(n, 0);
	}
}

static void test_config_file_limits(void **state)
{
	static struct api_action out[API_CONFIG_MAX_ACTIONS];
	char err[API_ERR_LEN], json[4096];
	size_t n, len = (size_t)snprintf(json, sizeof(json), "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, "
								      "\"drives\": [");

	(void)state;
	for (int i = 0; i <= KILN_MAX_DISKS; i++)
		len += (size_t)snprintf(json + len, sizeof(json) - len, "%s{\"drive_id\": \"d%d\", \"path_on_host\": "
						    "\"/d\", \"is_root_device\": false}", i ? "," : "", i);
	snprintf(json + len, sizeof(json) - len, "]}");
	assert_int_equal(api_config_file_parse(json, strlen(json), out, &n, err, sizeof(err)), -EINVAL);
	assert_contains(err, "drives: 9 entries, kiln takes at most 8");
}

/* examples/vm.json (make runs the unit tests from the top of the tree) stays a valid config file. */
static void test_example_config(void **state)
{
	static struct api_action out[API_CONFIG_MAX_ACTIONS];
	static char text[65536];
	char err[API_ERR_LEN];
	size_t n;
	FILE *f = fopen("examples/vm.json", "r");

	(void)state;
	if (f == NULL)
		skip();
	size_t len = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (api_config_file_parse(text, len, out, &n, err, sizeof(err)) < 0)
		fail_msg("examples/vm.json: %s", err);
	assert_int_equal(n, 4); /* machine-config, boot-source, entropy, InstanceStart */
}

/*
 * A config file's actions touch only the pages of what they hold: the kind and their own member
 * (the machine's few bytes, the boot source's paths), not the 16 KiB of every other kind's buffers.
 */
static void test_config_file_pages(void **state)
{
	static const char json[] = "{\"boot-source\": {\"kernel_image_path\": \"/k\"},"
				   " \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 128}}";
	size_t len = API_CONFIG_MAX_ACTIONS * sizeof(struct api_action), n = 0;
	struct api_action *out = resident_map(len);
	char err[API_ERR_LEN];

	(void)state;
	assert_int_equal(api_config_file_parse(json, strlen(json), out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	resident_allow(out, len, &out[0], offsetof(struct api_action, machine) + sizeof(out[0].machine));
	resident_allow(out, len, &out[1], offsetof(struct api_action, boot) + sizeof(out[1].boot));
	resident_allow(out, len, &out[2], sizeof(out[2].kind));
	assert_true(resident_check(out, len) <= 7);
	assert_int_equal(out[0].kind, API_PUT_MACHINE);
	assert_int_equal(out[0].machine.mem_mib, 128);
	assert_int_equal(out[1].kind, API_PUT_BOOT_SOURCE);
	assert_string_equal(out[1].boot.kernel, "/k");
	assert_int_equal(out[2].kind, API_INSTANCE_START);
	resident_unmap(out, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_generic_errors),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_config_file_limits),
		cmocka_unit_test(test_config_file_pages),
		cmocka_unit_test(test_example_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
