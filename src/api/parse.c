/* SPDX-License-Identifier: Apache-2.0 */
#include "api/parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/json.h"
#include "log.h"

#define CHECK(o, what, fields, err, errlen) api_json_check(o, what, fields, ARRAY_SIZE(fields), err, errlen)
#define MAX_MEM_MIB ((int64_t)1 << 40)

/* A field of Firecracker's schema that kiln has no use for: refused unless absent or null. */
static int refuse(struct json_object *o, const char *name, const char *why, char *err, size_t errlen)
{
	if (api_json_member(o, name) == NULL)
		return 0;
	return fail_einval(err, errlen, "`%s`: %s", name, why);
}

/*
 * The string member `name` is absent or one of values (compared ignoring case when icase); *index is
 * its position, unchanged when absent.
 */
static int parse_enum(struct json_object *o, const char *name, const char *const *values, size_t n, bool icase,
		      int *index, char *err, size_t errlen)
{
	char s[32] = "";
	bool present;

	if (api_json_string(o, name, s, sizeof(s), true, &present, err, errlen) < 0)
		return fail_einval(err, errlen, "unknown variant for `%s`", name);
	if (!present)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((icase ? strcasecmp(s, values[i]) : strcmp(s, values[i])) == 0) {
			*index = (int)i;
			return 0;
		}
	return fail_einval(err, errlen, "unknown variant `%s` for `%s`", s, name);
}

int api_parse_boot_source(struct json_object *o, struct api_boot_source *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "kernel_image_path", API_JSON_STRING, true },
		{ "initrd_path", API_JSON_STRING, false },
		{ "boot_args", API_JSON_STRING, false },
	};
	int rc = CHECK(o, "BootSource", fields, err, errlen);

	*out = (struct api_boot_source){ .kernel = "" };
	if (rc == 0)
		rc = api_json_string(o, "kernel_image_path", out->kernel, sizeof(out->kernel), false, NULL,
				     err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "initrd_path", out->initrd, sizeof(out->initrd), false, NULL, err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "boot_args", out->boot_args, sizeof(out->boot_args), true,
				     &out->has_boot_args, err, errlen);
	return rc;
}

/* The members kiln takes only at their default value: smt, cpu_template, huge_pages. */
static int machine_defaults_only(struct json_object *o, char *err, size_t errlen)
{
	static const char *const none[] = { "None" };
	int ignored;

	if (api_json_bool(o, "smt", false))
		return fail_einval(err, errlen,
				   "`smt`: kiln does not support SMT (simultaneous multithreading)");
	if (parse_enum(o, "cpu_template", none, 1, false, &ignored, err, errlen) < 0)
		return fail_einval(err, errlen,
				   "`cpu_template`: kiln supports only \"None\" (no CPU templates)");
	if (parse_enum(o, "huge_pages", none, 1, false, &ignored, err, errlen) < 0)
		return fail_einval(err, errlen, "`huge_pages`: kiln supports only \"None\" (4 KiB pages)");
	return 0;
}

int api_parse_machine(struct json_object *o, bool partial, struct api_machine *out, char *err, size_t errlen)
{
	const struct api_field fields[] = {
		{ "vcpu_count", API_JSON_INT, !partial },   { "mem_size_mib", API_JSON_INT, !partial },
		{ "smt", API_JSON_BOOL, false },             { "track_dirty_pages", API_JSON_BOOL, false },
		{ "cpu_template", API_JSON_STRING, false }, { "huge_pages", API_JSON_STRING, false },
	};
	int64_t vcpus = 0, mem = 0;
	int rc = CHECK(o, "MachineConfiguration", fields, err, errlen);

	if (rc == 0)
		rc = api_json_int(o, "vcpu_count", 1, API_MAX_VCPUS, &vcpus, err, errlen);
	if (rc == 0)
		rc = api_json_int(o, "mem_size_mib", 1, MAX_MEM_MIB, &mem, err, errlen);
	if (rc == 0)
		rc = machine_defaults_only(o, err, errlen);
	if (rc == 0 && partial && json_object_object_length(o) == 0)
		rc = fail_einval(err, errlen, "an empty machine configuration update changes nothing");
	/* PUT: an absent track_dirty_pages is its default, false (firecracker.yaml); PATCH keeps it. */
	*out = (struct api_machine){ .vcpus = (unsigned int)vcpus, .mem_mib = (uint64_t)mem,
				     .track_dirty_pages = api_json_bool(o, "track_dirty_pages", false),
				     .track_dirty_set = !partial || api_json_member(o, "track_dirty_pages") };
	return rc;
}

static int drive_options(struct json_object *o, char *err, size_t errlen)
{
	static const char *const cache_types[] = { "Unsafe", "Writeback" };
	static const char *const engines[] = { "Sync", "Async" };
	int cache = 0, engine = 0;
	int rc = parse_enum(o, "cache_type", cache_types, ARRAY_SIZE(cache_types), false, &cache, err, errlen);

	if (rc == 0)
		rc = parse_enum(o, "io_engine", engines, ARRAY_SIZE(engines), false, &engine, err, errlen);
	if (rc == 0 && engine != 0)
		rc = fail_einval(err, errlen, "`io_engine`: kiln has only the \"Sync\" engine");
	if (rc == 0)
		rc = refuse(o, "rate_limiter", "rate limiters are not supported by kiln", err, errlen);
	if (rc == 0)
		rc = refuse(o, "socket", "vhost-user block devices are not supported by kiln", err, errlen);
	return rc;
}

int api_parse_drive(struct json_object *o, struct api_drive *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "drive_id", API_JSON_STRING, true },      { "is_root_device", API_JSON_BOOL, true },
		{ "path_on_host", API_JSON_STRING, true },  { "is_read_only", API_JSON_BOOL, false },
		{ "partuuid", API_JSON_STRING, false },     { "cache_type", API_JSON_STRING, false },
		{ "io_engine", API_JSON_STRING, false },    { "rate_limiter", API_JSON_OBJECT, false },
		{ "socket", API_JSON_STRING, false },
	};
	int rc = CHECK(o, "Drive", fields, err, errlen);

	*out = (struct api_drive){ .id = "" };
	if (rc == 0)
		rc = api_json_string(o, "drive_id", out->id, sizeof(out->id), false, NULL, err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "path_on_host", out->path, sizeof(out->path), false, NULL, err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "partuuid", out->partuuid, sizeof(out->partuuid), false, NULL, err, errlen);
	if (rc == 0)
		rc = drive_options(o, err, errlen);
	out->root = api_json_bool(o, "is_root_device", false);
	out->read_only = api_json_bool(o, "is_read_only", false);
	return rc;
}

int api_parse_drive_update(struct json_object *o, struct api_drive_update *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "drive_id", API_JSON_STRING, true },
		{ "path_on_host", API_JSON_STRING, false },
		{ "rate_limiter", API_JSON_OBJECT, false },
	};
	int rc = CHECK(o, "PartialDrive", fields, err, errlen);

	*out = (struct api_drive_update){ .id = "" };
	if (rc == 0)
		rc = api_json_string(o, "drive_id", out->id, sizeof(out->id), false, NULL, err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "path_on_host", out->path, sizeof(out->path), false, NULL, err, errlen);
	if (rc == 0)
		rc = refuse(o, "rate_limiter", "rate limiters are not supported by kiln", err, errlen);
	return rc;
}

int api_parse_net(struct json_object *o, struct api_net *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "iface_id", API_JSON_STRING, true },          { "host_dev_name", API_JSON_STRING, true },
		{ "guest_mac", API_JSON_STRING, false },        { "mtu", API_JSON_INT, false },
		{ "rx_rate_limiter", API_JSON_OBJECT, false },  { "tx_rate_limiter", API_JSON_OBJECT, false },
	};
	char mac[32] = "";
	bool has_mac = false;
	int rc = CHECK(o, "NetworkInterface", fields, err, errlen);

	*out = (struct api_net){ .id = "" };
	if (rc == 0)
		rc = api_json_string(o, "iface_id", out->id, sizeof(out->id), false, NULL, err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "host_dev_name", out->tap, sizeof(out->tap), false, NULL, err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "guest_mac", mac, sizeof(mac), true, &has_mac, err, errlen);
	if (rc == 0 && has_mac && parse_mac(mac, out->mac) < 0)
		rc = fail_einval(err, errlen, "`guest_mac` %s: not a MAC address (XX:XX:XX:XX:XX:XX)", mac);
	out->mac_set = has_mac;
	if (rc == 0)
		rc = refuse(o, "mtu", "kiln's virtio-net does not advertise an MTU", err, errlen);
	if (rc == 0)
		rc = refuse(o, "rx_rate_limiter", "rate limiters are not supported by kiln", err, errlen);
	if (rc == 0)
		rc = refuse(o, "tx_rate_limiter", "rate limiters are not supported by kiln", err, errlen);
	return rc;
}

int api_parse_vsock(struct json_object *o, struct api_vsock *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "guest_cid", API_JSON_INT, true },
		{ "uds_path", API_JSON_STRING, true },
		{ "vsock_id", API_JSON_STRING, false }, /* deprecated by Firecracker; accepted, unused */
	};
	int64_t cid = 0;
	int rc = CHECK(o, "Vsock", fields, err, errlen);

	*out = (struct api_vsock){ .guest_cid = 0 };
	/* CIDs 0-2 are reserved (virtio 1.2 §5.10.4); 0xffffffff is VMADDR_CID_ANY. */
	if (rc == 0)
		rc = api_json_int(o, "guest_cid", 3, UINT32_MAX - 1, &cid, err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "uds_path", out->uds_path, sizeof(out->uds_path), false, NULL, err, errlen);
	out->guest_cid = (uint32_t)cid;
	return rc;
}

int api_parse_entropy(struct json_object *o, char *err, size_t errlen)
{
	static const struct api_field fields[] = { { "rate_limiter", API_JSON_OBJECT, false } };
	int rc = CHECK(o, "EntropyDevice", fields, err, errlen);

	if (rc == 0)
		rc = refuse(o, "rate_limiter", "rate limiters are not supported by kiln", err, errlen);
	return rc;
}

int api_parse_logger(struct json_object *o, struct api_logger *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "level", API_JSON_STRING, false },        { "log_path", API_JSON_STRING, false },
		{ "show_level", API_JSON_BOOL, false },     { "show_log_origin", API_JSON_BOOL, false },
		{ "module", API_JSON_STRING, false },
	};
	/* kiln's levels; "Off" keeps errors (kiln always reports them), "Trace" is "Debug". */
	static const char *const names[] = { "Error", "Warning", "Info", "Debug", "Trace", "Off", "Warn" };
	static const int levels[] = { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_DEBUG, LOG_ERROR, LOG_WARN };
	int level = -1;
	int rc = CHECK(o, "Logger", fields, err, errlen);

	*out = (struct api_logger){ .level = -1 };
	if (rc == 0)
		rc = parse_enum(o, "level", names, ARRAY_SIZE(names), true, &level, err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "log_path", out->path, sizeof(out->path), false, NULL, err, errlen);
	out->level = level < 0 ? -1 : levels[level];
	return rc;
}

int api_parse_metrics(struct json_object *o, struct api_metrics *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "metrics_path", API_JSON_STRING, true },
		{ "emit_id", API_JSON_BOOL, false },
		{ "properties", API_JSON_OBJECT, false },
	};
	int rc = CHECK(o, "Metrics", fields, err, errlen);

	*out = (struct api_metrics){ .path = "" };
	if (rc == 0)
		rc = api_json_string(o, "metrics_path", out->path, sizeof(out->path), false, NULL, err, errlen);
	if (rc == 0 && api_json_bool(o, "emit_id", false))
		rc = fail_einval(err, errlen, "`emit_id`: kiln's metrics lines carry no instance id");
	if (rc == 0)
		rc = refuse(o, "properties", "kiln's metrics lines carry no properties", err, errlen);
	return rc;
}

int api_parse_vm_state(struct json_object *o, bool *pause, char *err, size_t errlen)
{
	static const struct api_field fields[] = { { "state", API_JSON_STRING, true } };
	static const char *const states[] = { "Paused", "Resumed" };
	int state = 0;
	int rc = CHECK(o, "Vm", fields, err, errlen);

	if (rc == 0)
		rc = parse_enum(o, "state", states, ARRAY_SIZE(states), false, &state, err, errlen);
	*pause = state == 0;
	return rc;
}

int api_parse_instance_action(struct json_object *o, enum api_kind *kind, char *err, size_t errlen)
{
	static const struct api_field fields[] = { { "action_type", API_JSON_STRING, true } };
	static const char *const names[] = { "FlushMetrics", "InstanceStart", "SendCtrlAltDel" };
	static const enum api_kind kinds[] = { API_FLUSH_METRICS, API_INSTANCE_START, API_SEND_CTRL_ALT_DEL };
	int i = 0;
	int rc = CHECK(o, "InstanceActionInfo", fields, err, errlen);

	if (rc == 0)
		rc = parse_enum(o, "action_type", names, ARRAY_SIZE(names), false, &i, err, errlen);
	*kind = kinds[i];
	return rc;
}

int api_parse_snapshot_create(struct json_object *o, struct api_snapshot_create *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "snapshot_path", API_JSON_STRING, true },
		{ "mem_file_path", API_JSON_STRING, true },
		{ "snapshot_type", API_JSON_STRING, false },
	};
	static const char *const types[] = { "Full", "Diff" };
	int type = 0;
	int rc = CHECK(o, "SnapshotCreateParams", fields, err, errlen);

	*out = (struct api_snapshot_create){ .state_path = "" };
	if (rc == 0)
		rc = api_json_string(o, "snapshot_path", out->state_path, sizeof(out->state_path), false, NULL,
				     err, errlen);
	if (rc == 0)
		rc = api_json_string(o, "mem_file_path", out->mem_path, sizeof(out->mem_path), false, NULL, err,
				     errlen);
	if (rc == 0)
		rc = parse_enum(o, "snapshot_type", types, ARRAY_SIZE(types), false, &type, err, errlen);
	/* The memory file is renamed into place last: it would replace the state file. */
	if (rc == 0 && strcmp(out->state_path, out->mem_path) == 0)
		rc = fail_einval(err, errlen, "`snapshot_path` and `mem_file_path` name the same file");
	out->diff = type == 1;
	return rc;
}

/* The memory file: mem_backend {backend_type "File", backend_path}, or the deprecated mem_file_path. */
static int parse_mem_source(struct json_object *o, struct api_snapshot_load *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "backend_type", API_JSON_STRING, true },
		{ "backend_path", API_JSON_STRING, true },
	};
	static const char *const types[] = { "File", "Uffd" };
	struct json_object *backend = api_json_member(o, "mem_backend");
	bool has_file = api_json_member(o, "mem_file_path") != NULL;
	int type = 0, rc;

	/* Firecracker's words for these two (its parsed_request/snapshot.rs). */
	if (backend && has_file)
		return fail_einval(err, errlen, "too many fields: either `mem_backend` or `mem_file_path` "
				   "exclusively is required");
	if (!backend && !has_file)
		return fail_einval(err, errlen, "missing field: either `mem_backend` or `mem_file_path` is required");
	if (has_file)
		return api_json_string(o, "mem_file_path", out->mem_path, sizeof(out->mem_path), false, NULL, err,
				       errlen);
	rc = CHECK(backend, "MemoryBackend", fields, err, errlen);
	if (rc == 0)
		rc = parse_enum(backend, "backend_type", types, ARRAY_SIZE(types), false, &type, err, errlen);
	if (rc == 0 && type != 0)
		return fail_einval(err, errlen, "`mem_backend`: the \"Uffd\" backend (memory served by a "
				   "userfaultfd handler) is not supported by kiln yet; use \"File\"");
	if (rc == 0)
		rc = api_json_string(backend, "backend_path", out->mem_path, sizeof(out->mem_path), false, NULL,
				     err, errlen);
	return rc;
}

/* network_overrides: at most one per NIC kiln can have, each iface_id once. */
static int parse_net_overrides(struct json_object *o, struct api_snapshot_load *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "iface_id", API_JSON_STRING, true },
		{ "host_dev_name", API_JSON_STRING, true },
	};
	struct json_object *arr = api_json_member(o, "network_overrides");
	size_t n = arr ? json_object_array_length(arr) : 0;
	char why[API_ERR_LEN];

	if (n > KILN_MAX_NETS)
		return fail_einval(err, errlen, "`network_overrides`: %zu entries, kiln has at most %d network "
				   "interfaces", n, KILN_MAX_NETS);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct api_net_override *ov = &out->nets[i];
		int rc = CHECK(e, "NetworkOverride", fields, why, sizeof(why));

		if (rc == 0)
			rc = api_json_string(e, "iface_id", ov->id, sizeof(ov->id), false, NULL, why, sizeof(why));
		if (rc == 0)
			rc = api_json_string(e, "host_dev_name", ov->tap, sizeof(ov->tap), false, NULL, why,
					     sizeof(why));
		for (size_t j = 0; rc == 0 && j < i; j++)
			if (strcmp(out->nets[j].id, ov->id) == 0)
				rc = fail_einval(why, sizeof(why), "iface_id `%s` is overridden twice", ov->id);
		if (rc < 0)
			return fail_einval(err, errlen, "`network_overrides`[%zu]: %s", i, why);
	}
	out->nnets = (unsigned int)n;
	return 0;
}

static int parse_vsock_override(struct json_object *o, struct api_snapshot_load *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = { { "uds_path", API_JSON_STRING, true } };
	struct json_object *v = api_json_member(o, "vsock_override");
	int rc = v ? CHECK(v, "VsockOverride", fields, err, errlen) : 0;

	if (rc == 0 && v)
		rc = api_json_string(v, "uds_path", out->vsock_uds, sizeof(out->vsock_uds), false, NULL, err,
				     errlen);
	return rc;
}

/*
 * track_dirty_pages, or its deprecated name enable_diff_snapshots (either true turns tracking on, as
 * in Firecracker); when neither is given tracking is off, as Firecracker's LoadSnapshot defaults it
 * (kiln restore on the command line keeps the snapshot's setting instead).
 */
static enum kiln_track_dirty load_track_dirty(struct json_object *o)
{
	if (api_json_bool(o, "track_dirty_pages", false) || api_json_bool(o, "enable_diff_snapshots", false))
		return KILN_TRACK_DIRTY_ON;
	return KILN_TRACK_DIRTY_OFF;
}

/* The members kiln takes only at their default: huge_pages. */
static int load_defaults_only(struct json_object *o, char *err, size_t errlen)
{
	static const char *const pages[] = { "Snapshot", "None", "Transparent", "2M" };
	int page = 0;

	if (parse_enum(o, "huge_pages", pages, ARRAY_SIZE(pages), false, &page, err, errlen) < 0)
		return -EINVAL;
	/* "Snapshot" and "None" both mean the snapshot's own pages, which are always 4 KiB in kiln. */
	if (page > 1)
		return fail_einval(err, errlen, "`huge_pages`: kiln supports only \"Snapshot\" and \"None\" "
				   "(4 KiB pages)");
	return 0;
}

int api_parse_snapshot_load(struct json_object *o, struct api_snapshot_load *out, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
		{ "snapshot_path", API_JSON_STRING, true },       { "mem_file_path", API_JSON_STRING, false },
		{ "mem_backend", API_JSON_OBJECT, false },        { "resume_vm", API_JSON_BOOL, false },
		{ "track_dirty_pages", API_JSON_BOOL, false },    { "enable_diff_snapshots", API_JSON_BOOL, false },
		{ "network_overrides", API_JSON_ARRAY, false },   { "vsock_override", API_JSON_OBJECT, false },
		{ "clock_realtime", API_JSON_BOOL, false },       { "huge_pages", API_JSON_STRING, false },
	};
	int rc = CHECK(o, "SnapshotLoadParams", fields, err, errlen);

	*out = (struct api_snapshot_load){ .state_path = "" };
	if (rc == 0)
		rc = api_json_string(o, "snapshot_path", out->state_path, sizeof(out->state_path), false, NULL,
				     err, errlen);
	if (rc == 0)
		rc = parse_mem_source(o, out, err, errlen);
	if (rc == 0)
		rc = parse_net_overrides(o, out, err, errlen);
	if (rc == 0)
		rc = parse_vsock_override(o, out, err, errlen);
	if (rc == 0)
		rc = load_defaults_only(o, err, errlen);
	out->resume = api_json_bool(o, "resume_vm", false);
	out->track_dirty = load_track_dirty(o);
	out->clock_realtime = api_json_bool(o, "clock_realtime", false);
	return rc;
}
