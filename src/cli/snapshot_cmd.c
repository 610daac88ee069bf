/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/snapshot_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/api_client.h"
#include "cli/common_opts.h"
#include "cli/restore_cmd.h"

enum { OPT_API_SOCK = CLI_OPT_OWN, OPT_RESUME, OPT_DIFF, OPT_NET_TAP, OPT_VSOCK_UDS, OPT_PAUSED, OPT_CLOCK_REALTIME,
       OPT_TRACK_DIRTY, OPT_NO_TRACK_DIRTY, OPT_DISK_PATH, OPT_CONSOLE_IN, OPT_CONSOLE_OUT, OPT_LOG_FILE, OPT_CLONES };

static const struct option snapshot_options[] = {
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "diff", no_argument, NULL, OPT_DIFF },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct option restore_options[] = {
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "net-tap", required_argument, NULL, OPT_NET_TAP },
	{ "vsock-uds", required_argument, NULL, OPT_VSOCK_UDS },
	{ "paused", no_argument, NULL, OPT_PAUSED },
	{ "disk-path", required_argument, NULL, OPT_DISK_PATH },
	{ "console-in", required_argument, NULL, OPT_CONSOLE_IN },
	{ "console-out", required_argument, NULL, OPT_CONSOLE_OUT },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "clones", required_argument, NULL, OPT_CLONES },
	{ "clock-realtime", no_argument, NULL, OPT_CLOCK_REALTIME },
	{ "track-dirty-pages", no_argument, NULL, OPT_TRACK_DIRTY },
	{ "no-track-dirty-pages", no_argument, NULL, OPT_NO_TRACK_DIRTY },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static const struct option merge_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* "ID=TAP": the snapshot's NIC with id ID (netN for `kiln run --net`'s) is to use tap TAP. */
static int parse_net_tap(const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	struct kiln_restore *rs = &o->restore;
	const char *eq = strchr(arg, '=');
	size_t id_len = eq ? (size_t)(eq - arg) : 0;

	if (eq == NULL || id_len == 0 || eq[1] == '\0')
		return fail_einval(err, errlen, "--net-tap %s: use ID=TAP, ID a NIC's id in the snapshot (netN for "
				   "the Nth --net, from 0)", arg);
	if (id_len > KILN_MAX_NET_ID)
		return fail_einval(err, errlen, "--net-tap %s: a NIC id has at most %d bytes", arg, KILN_MAX_NET_ID);
	if (rs->n_net_overrides == KILN_MAX_NETS)
		return fail_einval(err, errlen, "--net-tap %s: a VM has at most %d NICs", arg, KILN_MAX_NETS);
	char *id = o->net_tap_ids[rs->n_net_overrides];
	memcpy(id, arg, id_len);
	id[id_len] = '\0';
	rs->net_overrides[rs->n_net_overrides++] = (struct kiln_net_override){ .id = id, .tap = eq + 1 };
	return 0;
}

/* "ID=PATH": the snapshot's disk with id ID (its serial, or driveN) is to use file PATH. */
static int parse_disk_path(const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	struct kiln_restore *rs = &o->restore;
	const char *eq = strchr(arg, '=');
	size_t id_len = eq ? (size_t)(eq - arg) : 0;

	if (eq == NULL || id_len == 0 || eq[1] == '\0')
		return fail_einval(err, errlen, "--disk-path %s: use ID=PATH, ID a disk's id in the snapshot (its "
				   "serial, or driveN for the Nth disk, from 0)", arg);
	if (id_len >= KILN_DISK_ID_SIZE)
		return fail_einval(err, errlen, "--disk-path %s: a disk id has at most %d bytes", arg,
				   KILN_DISK_ID_SIZE - 1);
	if (rs->n_disk_overrides == KILN_MAX_DISKS)
		return fail_einval(err, errlen, "--disk-path %s: a VM has at most %d disks", arg, KILN_MAX_DISKS);
	char *id = o->disk_path_ids[rs->n_disk_overrides];
	memcpy(id, arg, id_len);
	id[id_len] = '\0';
	rs->disk_overrides[rs->n_disk_overrides++] = (struct kiln_disk_override){ .id = id, .path = eq + 1 };
	return 0;
}

static int parse_clones(const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	unsigned long n = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || n == 0 || n > RESTORE_MAX_CLONES)
		return fail_einval(err, errlen, "--clones %s: a number of guests from 1 to %d", arg, RESTORE_MAX_CLONES);
	o->clones = (unsigned int)n;
	return 0;
}

/* Runs getopt_long over argv with table; each option goes to fn. The one DIR left goes to o. */
static int parse_dir_command(int argc, char **argv, const struct option *table, const char *command,
			     int (*fn)(int, const char *, struct cli_options *, char *, size_t), struct cli_options *o,
			     char *err, size_t errlen)
{
	int opt;

	optind = 1; /* argv[0] is the command */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", table, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return fail_einval(err, errlen, "%s: unknown option or missing value (see kiln --help)",
					   argv[optind - 1]);
		int rc = fn(opt, optarg, o, err, errlen);
		if (rc < 0 || o->action == CLI_HELP)
			return rc;
	}
	if (optind == argc)
		return fail_einval(err, errlen, "kiln %s: the snapshot's directory DIR is missing (see kiln --help)",
				   command);
	if (optind + 1 < argc)
		return fail_einval(err, errlen, "kiln %s: unexpected argument '%s' after DIR", command,
				   argv[optind + 1]);
	o->snapshot_dir = argv[optind];
	return 0;
}

static int snapshot_option(int opt, const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	switch (opt) {
	case OPT_API_SOCK:
		o->api_sock = arg;
		return 0;
	case OPT_RESUME:
		o->snapshot_resume = true;
		return 0;
	case OPT_DIFF:
		o->snapshot_diff = true;
		return 0;
	default:
		return cli_common_option(opt, arg, o, err, errlen);
	}
}

int snapshot_cmd_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
	o->action = CLI_SNAPSHOT;
	int rc = parse_dir_command(argc, argv, snapshot_options, "snapshot", snapshot_option, o, err, errlen);
	if (rc < 0 || o->action == CLI_HELP)
		return rc;
	if (o->api_sock == NULL)
		return fail_einval(err, errlen, "kiln snapshot: --api-sock PATH is required: the socket of the "
				   "kiln whose guest to snapshot");
	return 0;
}

static int restore_option(int opt, const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	switch (opt) {
	case OPT_API_SOCK:
		o->api_sock = arg;
		return 0;
	case OPT_NET_TAP:
		return parse_net_tap(arg, o, err, errlen);
	case OPT_VSOCK_UDS:
		o->restore.vsock_uds_path = arg;
		return 0;
	case OPT_PAUSED:
		o->restore.paused = true;
		return 0;
	case OPT_DISK_PATH:
		return parse_disk_path(arg, o, err, errlen);
	case OPT_CONSOLE_IN:
		o->console_in = arg;
		return 0;
	case OPT_CONSOLE_OUT:
		o->console_out = arg;
		return 0;
	case OPT_LOG_FILE:
		o->log_file = arg;
		return 0;
	case OPT_CLONES:
		return parse_clones(arg, o, err, errlen);
	case OPT_CLOCK_REALTIME:
		o->restore.clock_realtime = true;
		return 0;
	case OPT_TRACK_DIRTY:
	case OPT_NO_TRACK_DIRTY:
		o->restore.track_dirty_pages = opt == OPT_TRACK_DIRTY ? KILN_TRACK_DIRTY_ON : KILN_TRACK_DIRTY_OFF;
		return 0;
	default:
		return cli_common_option(opt, arg, o, err, errlen);
	}
}

/* DIR/name into out; -EINVAL when it does not fit. */
static int dir_file(const char *dir, const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	if ((size_t)snprintf(out, outlen, "%s/%s", dir, name) >= outlen)
		return fail_einval(err, errlen, "%s: too long a directory name", dir);
	return 0;
}

int restore_cmd_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
	o->action = CLI_RESTORE;
	kiln_restore_init(&o->restore);
	int rc = parse_dir_command(argc, argv, restore_options, "restore", restore_option, o, err, errlen);
	if (rc < 0 || o->action == CLI_HELP)
		return rc;
	if (o->restore.paused && o->api_sock == NULL)
		return fail_einval(err, errlen, "--paused needs --api-sock: nothing else could resume the guest");
	rc = dir_file(o->snapshot_dir, "state", o->buf.restore_state, sizeof(o->buf.restore_state), err, errlen);
	if (rc == 0)
		rc = dir_file(o->snapshot_dir, "mem", o->buf.restore_mem, sizeof(o->buf.restore_mem), err, errlen);
	o->restore.state_path = o->buf.restore_state;
	o->restore.mem_path = o->buf.restore_mem;
	return rc;
}

int merge_cmd_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
	int opt;

	o->action = CLI_SNAPSHOT_MERGE;
	optind = 1; /* argv[0] is the command */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", merge_options, NULL)) != -1) {
		if (opt != 'h')
			return fail_einval(err, errlen, "%s: unknown option (see kiln --help)", argv[optind - 1]);
		o->action = CLI_HELP;
		return 0;
	}
	if (argc - optind != 2)
		return fail_einval(err, errlen, "kiln snapshot-merge: give BASE_MEM and DIFF_MEM, the memory files "
				   "of a snapshot and of the Diff snapshot after it (see kiln --help)");
	o->merge_base = argv[optind];
	o->merge_diff = argv[optind + 1];
	return 0;
}

int merge_cmd_run(const struct cli_options *o)
{
	struct kiln_error err = { "" };

	if (kiln_snapshot_merge(o->merge_base, o->merge_diff, &err) < 0) {
		fprintf(stderr, "kiln: %s\n", err.msg);
		return EXIT_KILN_ERROR;
	}
	return 0;
}

/* The fault_message of a reply, or its status when it has none. */
static const char *fault_of(const struct api_client_reply *r, char *buf, size_t len)
{
	struct json_object *o = json_tokener_parse(r->body);
	struct json_object *msg = NULL;

	if (o && json_object_object_get_ex(o, "fault_message", &msg) && json_object_is_type(msg, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(msg));
	else
		snprintf(buf, len, "HTTP status %u", r->status);
	json_object_put(o);
	return buf;
}

/* One request that must answer 204; otherwise one line on stderr and -1. */
static int call(const char *sock, const char *method, const char *path, const char *body)
{
	struct api_client_reply *r = malloc(sizeof(*r));
	char err[1024];
	int rc = -1;

	if (r == NULL)
		fprintf(stderr, "kiln: out of memory\n");
	else if (api_client_request(sock, method, path, body, r, err, sizeof(err)) < 0)
		fprintf(stderr, "kiln: %s\n", err);
	else if (r->status != 204)
		fprintf(stderr, "kiln: %s %s: %s\n", method, path, fault_of(r, err, sizeof(err)));
	else
		rc = 0;
	free(r);
	return rc;
}

/* The body of PUT /snapshot/create for the files in dir (an absolute path: the server's cwd is not ours). */
static char *create_body(const char *dir, bool diff)
{
	struct json_object *o = json_object_new_object();
	char path[8192];
	char *text;

	json_object_object_add(o, "snapshot_type", json_object_new_string(diff ? "Diff" : "Full"));
	snprintf(path, sizeof(path), "%s/state", dir);
	json_object_object_add(o, "snapshot_path", json_object_new_string(path));
	snprintf(path, sizeof(path), "%s/mem", dir);
	json_object_object_add(o, "mem_file_path", json_object_new_string(path));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

/* DIR, made (0700: it will hold the guest's memory) if missing, as an absolute path to free. */
static char *snapshot_dir(const char *dir)
{
	char *abs;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "kiln: %s: %s\n", dir, strerror(errno));
		return NULL;
	}
	abs = realpath(dir, NULL);
	if (abs == NULL)
		fprintf(stderr, "kiln: %s: %s\n", dir, strerror(errno));
	return abs;
}

int snapshot_cmd_run(const struct cli_options *o)
{
	char *dir = snapshot_dir(o->snapshot_dir);
	char *body = dir ? create_body(dir, o->snapshot_diff) : NULL;
	int rc = body ? 0 : -1;

	if (dir && body == NULL)
		fprintf(stderr, "kiln: out of memory\n");
	/* Pausing a paused guest succeeds and changes nothing. */
	if (rc == 0)
		rc = call(o->api_sock, "PATCH", "/vm", "{\"state\": \"Paused\"}");
	bool paused = rc == 0;
	if (rc == 0)
		rc = call(o->api_sock, "PUT", "/snapshot/create", body);
	/* Resumed even when the snapshot failed: --resume asks for a running guest afterwards. */
	if (paused && o->snapshot_resume && call(o->api_sock, "PATCH", "/vm", "{\"state\": \"Resumed\"}") < 0)
		rc = -1;
	free(body);
	free(dir);
	return rc == 0 ? 0 : EXIT_KILN_ERROR;
}
