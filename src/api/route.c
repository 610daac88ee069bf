/* SPDX-License-Identifier: Apache-2.0 */
#include "api/route.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/json.h"
#include "api/parse.h"

/* Fills the action from the body; id is the path's {id} (NULL on routes without one). */
typedef int (*route_parse_fn)(struct json_object *o, const char *id, struct api_action *a, char *err,
			      size_t errlen);

struct route {
	const char *method;
	const char *path;  /* "/vm/config"; for routes with an id, the part before it ("/drives") */
	bool has_id;
	enum api_kind kind;       /* for actions, parse may change it */
	route_parse_fn parse;     /* NULL: no body */
};

/* Firecracker routes kiln does not implement: a clear refusal rather than "invalid path". */
static const char *const unsupported[] = {
	"/balloon", "/mmds", "/cpu-config", "/serial", "/pmem", "/hotplug",
};

/* The path's id and the body's differ: not a deserializing error, so a code of its own. */
static int id_mismatch(char *err, size_t errlen)
{
	fail_einval(err, errlen, "The id from the path does not match the id from the body!");
	return -EBADMSG;
}

static int parse_boot(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	(void)id;
	return api_parse_boot_source(o, &a->boot, err, errlen);
}

static int parse_machine(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	(void)id;
	return api_parse_machine(o, a->kind == API_PATCH_MACHINE, &a->machine, err, errlen);
}

static int parse_drive(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	int rc = api_parse_drive(o, &a->drive, err, errlen);

	if (rc == 0 && strcmp(id, a->drive.id) != 0)
		return id_mismatch(err, errlen);
	return rc;
}

static int parse_drive_update(struct json_object *o, const char *id, struct api_action *a, char *err,
			      size_t errlen)
{
	int rc = api_parse_drive_update(o, &a->drive_update, err, errlen);

	if (rc == 0 && strcmp(id, a->drive_update.id) != 0)
		return id_mismatch(err, errlen);
	return rc;
}

static int parse_net(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	int rc = api_parse_net(o, &a->net, err, errlen);

	if (rc == 0 && strcmp(id, a->net.id) != 0)
		return id_mismatch(err, errlen);
	return rc;
}

static int parse_vsock(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	(void)id;
	return api_parse_vsock(o, &a->vsock, err, errlen);
}

static int parse_entropy(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	(void)id;
	(void)a;
	return api_parse_entropy(o, err, errlen);
}

static int parse_logger(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	(void)id;
	return api_parse_logger(o, &a->logger, err, errlen);
}

static int parse_metrics(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	(void)id;
	return api_parse_metrics(o, &a->metrics, err, errlen);
}

static int parse_vm(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	(void)id;
	return api_parse_vm_state(o, &a->pause, err, errlen);
}

static int parse_actions(struct json_object *o, const char *id, struct api_action *a, char *err, size_t errlen)
{
	(void)id;
	return api_parse_instance_action(o, &a->kind, err, errlen);
}

static int parse_snapshot_create(struct json_object *o, const char *id, struct api_action *a, char *err,
				 size_t errlen)
{
	(void)id;
	return api_parse_snapshot_create(o, &a->snap_create, err, errlen);
}

static int parse_snapshot_load(struct json_object *o, const char *id, struct api_action *a, char *err,
			       size_t errlen)
{
	(void)id;
	return api_parse_snapshot_load(o, &a->snap_load, err, errlen);
}

static const struct route routes[] = {
	{ "GET", "/", false, API_GET_INFO, NULL },
	{ "GET", "/version", false, API_GET_VERSION, NULL },
	{ "GET", "/machine-config", false, API_GET_MACHINE, NULL },
	{ "GET", "/vm/config", false, API_GET_VM_CONFIG, NULL },
	{ "PUT", "/actions", false, API_INSTANCE_START, parse_actions },
	{ "PUT", "/boot-source", false, API_PUT_BOOT_SOURCE, parse_boot },
	{ "PUT", "/machine-config", false, API_PUT_MACHINE, parse_machine },
	{ "PATCH", "/machine-config", false, API_PATCH_MACHINE, parse_machine },
	{ "PUT", "/drives", true, API_PUT_DRIVE, parse_drive },
	{ "PATCH", "/drives", true, API_PATCH_DRIVE, parse_drive_update },
	{ "PUT", "/network-interfaces", true, API_PUT_NET, parse_net },
	{ "PUT", "/vsock", false, API_PUT_VSOCK, parse_vsock },
	{ "PUT", "/entropy", false, API_PUT_ENTROPY, parse_entropy },
	{ "PUT", "/logger", false, API_PUT_LOGGER, parse_logger },
	{ "PUT", "/metrics", false, API_PUT_METRICS, parse_metrics },
	{ "PATCH", "/vm", false, API_PATCH_VM, parse_vm },
	{ "PUT", "/snapshot/create", false, API_SNAPSHOT_CREATE, parse_snapshot_create },
	{ "PUT", "/snapshot/load", false, API_SNAPSHOT_LOAD, parse_snapshot_load },
};

/* Firecracker's resource ids: non-empty, alphanumeric and '_' only. */
static int check_id(const char *id, char *err, size_t errlen)
{
	if (id[0] == '\0')
		return fail_einval(err, errlen, "The ID cannot be empty.");
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return fail_einval(err, errlen, "API Resource IDs can only contain alphanumeric characters "
					   "and underscores.");
	if (strlen(id) >= API_ID_MAX)
		return fail_einval(err, errlen, "API Resource IDs are at most %d bytes long.", API_ID_MAX - 1);
	return 0;
}

/* The route for method and path; *id points into path for routes with an id. */
static const struct route *find_route(const char *method, const char *path, const char **id)
{
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		const struct route *r = &routes[i];
		size_t n = strlen(r->path);

		if (strcmp(method, r->method) != 0 || strncmp(path, r->path, n) != 0)
			continue;
		if (!r->has_id && path[n] == '\0')
			return r;
		/* "/drives" and "/drives/" name no id: routed, then refused as an empty id. */
		if (r->has_id && (path[n] == '\0' || (path[n] == '/' && !strchr(path + n + 1, '/')))) {
			*id = path[n] ? path + n + 1 : "";
			return r;
		}
	}
	return NULL;
}

static int no_route(const char *method, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++) {
		size_t n = strlen(unsupported[i]);
		if (strncmp(path, unsupported[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return fail_einval(err, errlen, "The requested operation is not supported: kiln does not "
					   "implement %s.", unsupported[i]);
	}
	if (strcmp(method, "PATCH") == 0 && strncmp(path, "/network-interfaces/", 20) == 0)
		return fail_einval(err, errlen, "The requested operation is not supported: kiln has no rate "
				   "limiters to update.");
	return fail_einval(err, errlen, "Invalid request method and/or path: %.16s %.200s.", method, path);
}

/* Firecracker's checks before any route: GET has no body, PUT and PATCH have one. */
static int check_body_presence(const char *method, size_t len, char *err, size_t errlen)
{
	if (strcmp(method, "GET") == 0 && len > 0)
		return fail_einval(err, errlen, "GET request cannot have a body.");
	if ((strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) && len == 0)
		return fail_einval(err, errlen, "Empty %s request.", method);
	return 0;
}

static int parse_body(const struct route *r, const char *id, const char *body, size_t len,
		      struct api_action *a, char *err, size_t errlen)
{
	char why[API_ERR_LEN];
	struct json_object *o = api_json_parse(body, len, why, sizeof(why));
	int rc = o ? r->parse(o, id, a, why, sizeof(why)) : -EINVAL;

	json_object_put(o);
	if (rc == -EBADMSG)
		return fail_einval(err, errlen, "%s", why);
	if (rc < 0)
		return fail_einval(err, errlen,
				   "An error occurred when deserializing the json body of a request: %s.", why);
	return 0;
}

int api_route(const char *method, const char *path, const char *body, size_t len, struct api_action *a,
	      char *fault, size_t faultlen)
{
	const char *id = NULL;
	int rc = check_body_presence(method, len, fault, faultlen);

	if (rc < 0)
		return rc;
	const struct route *r = find_route(method, path, &id);
	if (r == NULL)
		return no_route(method, path, fault, faultlen);
	if (r->has_id && (rc = check_id(id, fault, faultlen)) < 0)
		return rc;
	memset(a, 0, sizeof(*a));
	a->kind = r->kind;
	return r->parse ? parse_body(r, id, body, len, a, fault, faultlen) : 0;
}
