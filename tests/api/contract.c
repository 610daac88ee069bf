/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API contract checker: every request kiln accepted and every reply it sent, held against the
 * schemas of Firecracker's OpenAPI file (firecracker.yaml, flattened by schema.awk).
 *
 * usage: contract SCHEMA.tsv EXCHANGES ROUTES
 *   EXCHANGES  one exchange a line: METHOD<TAB>PATH<TAB>STATUS<TAB>REQUEST_FILE<TAB>REPLY_FILE
 *              (a file is "-" when there is no body), as tests/integration/api.sh records them
 *   ROUTES     the routes kiln implements, "METHOD PATH" a line, PATH as the yaml has it
 *
 * For each exchange on a route of the yaml: the status is one the yaml declares (a 2xx exactly,
 * others through `default`); the request body of a 2xx conforms to the route's body schema; the
 * reply conforms to the schema of its status (required members, no undeclared ones, types,
 * enums, minimum/maximum), or is empty where the yaml has none. An exchange on a route the yaml
 * lacks must get 400 with an Error body. Every implemented route needs a 2xx exchange.
 * Prints "ok - ..." or "not ok - ..." per route, then "N passed, M failed"; exits 1 on a failure.
 */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 4096
#define MAX_FIELDS 6
#define ERR_LEN 512

struct row {
	char *f[MAX_FIELDS]; /* f[0] is the kind: route, request, response, def, prop, ... */
	int n;
};

static struct row schema[MAX_ROWS];
static int nschema;
static bool skip_required; /* the top-level object of a partial update */

static int split(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (char *save = NULL, *t = strtok_r(line, "\t", &save); t && n < max; t = strtok_r(NULL, "\t", &save))
		f[n++] = t;
	return n;
}

static int load_schema(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (f == NULL)
		return -1;
	while (nschema < MAX_ROWS && fgets(line, sizeof(line), f)) {
		struct row *r = &schema[nschema];
		char *copy = strdup(line);
		r->n = split(copy, r->f, MAX_FIELDS);
		if (r->n > 0)
			nschema++;
	}
	fclose(f);
	return nschema > 0 ? 0 : -1;
}

/* The schema row of kind whose fields 1..n equal a[0..n). */
static const struct row *find(const char *kind, int n, const char *const *a)
{
	for (int i = 0; i < nschema; i++) {
		const struct row *r = &schema[i];
		int j = 0;

		if (strcmp(r->f[0], kind) != 0 || r->n < n + 1)
			continue;
		while (j < n && strcmp(r->f[j + 1], a[j]) == 0)
			j++;
		if (j == n)
			return r;
	}
	return NULL;
}

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, ERR_LEN, fmt, ap);
	va_end(ap);
	return -1;
}

static int validate(struct json_object *v, const char *def, const char *where, char *err);

static bool in_enum(const char *def, const char *field, const char *value, bool *has_enum)
{
	*has_enum = false;
	for (int i = 0; i < nschema; i++) {
		const struct row *r = &schema[i];
		if (strcmp(r->f[0], "enum") != 0 || strcmp(r->f[1], def) != 0 || strcmp(r->f[2], field) != 0)
			continue;
		*has_enum = true;
		if (strcmp(r->f[3], value) == 0)
			return true;
	}
	return false;
}

static int check_bounds(struct json_object *v, const char *def, const char *field, const char *where, char *err)
{
	const char *key[] = { def, field };
	const struct row *min = find("min", 2, key), *max = find("max", 2, key);
	long long n = json_object_get_int64(v);

	if (min && n < atoll(min->f[3]))
		return fail(err, "%s: %lld is below the minimum %s", where, n, min->f[3]);
	if (max && n > atoll(max->f[3]))
		return fail(err, "%s: %lld is above the maximum %s", where, n, max->f[3]);
	return 0;
}

static int check_string(struct json_object *v, const char *def, const char *field, const char *where, char *err)
{
	bool has_enum;

	if (!json_object_is_type(v, json_type_string))
		return fail(err, "%s: not a string", where);
	if (!in_enum(def, field, json_object_get_string(v), &has_enum) && has_enum)
		return fail(err, "%s: \"%s\" is not in the enum", where, json_object_get_string(v));
	return 0;
}

/* A value of the given type; ref names a definition, or an array's item type or definition. */
static int check_typed(struct json_object *v, const char *type, const char *ref, const char *def,
		       const char *field, const char *where, char *err)
{
	char item[256];

	if (strcmp(type, "string") == 0)
		return check_string(v, def, field, where, err);
	if (strcmp(type, "integer") == 0)
		return json_object_is_type(v, json_type_int) ? check_bounds(v, def, field, where, err)
							     : fail(err, "%s: not an integer", where);
	if (strcmp(type, "boolean") == 0)
		return json_object_is_type(v, json_type_boolean) ? 0 : fail(err, "%s: not a boolean", where);
	if (strcmp(type, "object") == 0)
		return json_object_is_type(v, json_type_object) ? 0 : fail(err, "%s: not an object", where);
	if (strcmp(type, "ref") == 0)
		return validate(v, ref, where, err);
	if (strcmp(type, "array") != 0)
		return 0; /* "any" */
	if (!json_object_is_type(v, json_type_array))
		return fail(err, "%s: not an array", where);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *dkey[] = { ref };
		snprintf(item, sizeof(item), "%s[%zu]", where, i);
		int rc = find("def", 1, dkey) ? validate(e, ref, item, err)
					       : check_typed(e, ref, "-", def, field, item, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int validate_object(struct json_object *v, const char *def, const char *where, char *err)
{
	char at[256];

	bool partial = skip_required;

	skip_required = false; /* members' own objects have their required members */
	if (!json_object_is_type(v, json_type_object))
		return fail(err, "%s: not an object (%s)", where, def);
	for (int i = 0; !partial && i < nschema; i++) {
		const struct row *r = &schema[i];
		if (strcmp(r->f[0], "required") == 0 && strcmp(r->f[1], def) == 0 &&
		    !json_object_object_get_ex(v, r->f[2], NULL))
			return fail(err, "%s: required member `%s` of %s is missing", where, r->f[2], def);
	}
	json_object_object_foreach(v, name, member) {
		const char *key[] = { def, name };
		const struct row *p = find("prop", 2, key);

		snprintf(at, sizeof(at), "%s.%s", where, name);
		if (p == NULL)
			return fail(err, "%s: %s has no member `%s`", at, def, name);
		if (member == NULL)
			return fail(err, "%s: null (the schemas have no nullable members)", at);
		if (check_typed(member, p->f[3], p->f[4], def, name, at, err) < 0)
			return -1;
	}
	return 0;
}

static int validate(struct json_object *v, const char *def, const char *where, char *err)
{
	const char *key[] = { def };
	const struct row *d = find("def", 1, key);

	if (d == NULL)
		return fail(err, "%s: the yaml has no definition %s", where, def);
	if (strcmp(d->f[2], "object") == 0)
		return validate_object(v, def, where, err);
	if (strcmp(d->f[2], "string") == 0)
		return check_string(v, def, "-", where, err);
	return 0;
}

/* Does path (/drives/root) match the yaml's template (/drives/{drive_id})? */
static bool path_matches(const char *template, const char *path)
{
	while (*template && *path) {
		if (*template == '{') {
			template = strchr(template, '}');
			if (template == NULL)
				return false;
			template++;
			path += strcspn(path, "/");
			continue;
		}
		if (*template++ != *path++)
			return false;
	}
	return *template == '\0' && *path == '\0';
}

static const char *route_of(const char *method, const char *path)
{
	for (int i = 0; i < nschema; i++)
		if (strcmp(schema[i].f[0], "route") == 0 && strcmp(schema[i].f[2], method) == 0 &&
		    path_matches(schema[i].f[1], path))
			return schema[i].f[1];
	return NULL;
}

static struct json_object *load_json(const char *file, bool *empty, char *err)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : NULL;
	static char buf[1 << 20];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	*empty = n == 0;
	if (n == 0)
		return NULL;
	struct json_object *o = json_tokener_parse(buf);
	if (o == NULL)
		fail(err, "%s: not JSON: %.80s", file, buf);
	return o;
}

/*
 * The yaml describes PATCH /machine-config as "a subset of Machine Configuration Parameters" yet
 * gives it the PUT's schema, MachineConfiguration, with its required members: for a PATCH whose
 * body schema is the PUT's on the same path, required members are not enforced.
 */
static bool partial_update(const char *route, const char *method, const char *def)
{
	const char *key[] = { route, "PUT" };
	const struct row *put = find("request", 2, key);

	return strcmp(method, "PATCH") == 0 && put && strcmp(put->f[3], def) == 0;
}

/* Checks a body against def ("-": must be empty); partial: required members may be missing. */
static int check_body(const char *file, const char *def, bool partial, const char *what, char *err)
{
	bool empty;
	struct json_object *o = load_json(file, &empty, err);
	int rc;

	if (strcmp(def, "-") == 0)
		return empty ? 0 : fail(err, "%s: a body where the yaml has none", what);
	if (empty)
		return fail(err, "%s: no body, expected %s", what, def);
	skip_required = partial;
	rc = o ? validate(o, def, what, err) : -1;
	json_object_put(o);
	return rc;
}

static int check_exchange(char **f, const char **route, char *err)
{
	const char *method = f[0], *path = f[1], *status = f[2];
	bool ok2xx = status[0] == '2';

	*route = route_of(method, path);
	if (*route == NULL)
		return strcmp(status, "400") ? fail(err, "%s %s is not in the yaml, yet got %s", method, path, status)
					     : check_body(f[4], "Error", false, "reply", err);
	const char *rkey[] = { *route, method, status };
	const char *dkey[] = { *route, method, "default" };
	const struct row *resp = find("response", 3, rkey);
	if (resp == NULL && !ok2xx)
		resp = find("response", 3, dkey);
	if (resp == NULL)
		return fail(err, "%s %s: status %s is not declared", method, path, status);
	const char *qkey[] = { *route, method };
	const struct row *req = find("request", 2, qkey);
	if (ok2xx && req && check_body(f[3], req->f[3], partial_update(*route, method, req->f[3]), "request",
				       err) < 0)
		return -1;
	return check_body(f[4], resp->f[4], false, "reply", err);
}

/* Implemented routes, and how many 2xx exchanges each had. */
struct covered {
	char method[16];
	char path[128];
	int ok;
	int seen;
};

static int run(const char *exchanges, struct covered *routes, int nroutes, int *failed)
{
	FILE *f = fopen(exchanges, "r");
	char line[4096], err[ERR_LEN];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fields[5];
		const char *route;

		if (split(line, fields, 5) != 5)
			continue;
		n++;
		if (check_exchange(fields, &route, err) < 0) {
			printf("not ok - contract: %s %s -> %s (%s)\n", fields[0], fields[1], fields[2], err);
			(*failed)++;
		}
		for (int i = 0; route && i < nroutes; i++)
			if (strcmp(routes[i].method, fields[0]) == 0 && strcmp(routes[i].path, route) == 0) {
				routes[i].seen++;
				routes[i].ok += fields[2][0] == '2';
			}
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static struct covered routes[64];
	int nroutes = 0, failed = 0, passed = 0;
	char line[256];

	if (argc != 4 || load_schema(argv[1]) < 0) {
		fprintf(stderr, "usage: %s SCHEMA.tsv EXCHANGES ROUTES (schema from schema.awk)\n", argv[0]);
		return 2;
	}
	FILE *rf = fopen(argv[3], "r");
	while (rf && nroutes < 64 && fgets(line, sizeof(line), rf))
		if (line[0] != '#' && sscanf(line, "%15s %127s", routes[nroutes].method, routes[nroutes].path) == 2)
			nroutes++;
	if (rf)
		fclose(rf);
	int n = run(argv[2], routes, nroutes, &failed);
	if (n < 0 || nroutes == 0) {
		fprintf(stderr, "contract: cannot read %s or %s\n", argv[2], argv[3]);
		return 2;
	}
	for (int i = 0; i < nroutes; i++) {
		const char *key[] = { routes[i].path, routes[i].method };
		if (find("route", 2, key) == NULL || routes[i].ok == 0) {
			printf("not ok - contract: %s %s (%s)\n", routes[i].method, routes[i].path,
			       routes[i].ok ? "not in the yaml" : "no successful exchange recorded");
			failed++;
		} else {
			printf("ok - contract: %s %s (%d exchanges)\n", routes[i].method, routes[i].path, routes[i].seen);
			passed++;
		}
	}
	printf("contract: %d exchanges checked; %d passed, %d failed\n", n, passed, failed);
	return failed ? 1 : 0;
}
