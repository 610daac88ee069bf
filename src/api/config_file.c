/* SPDX-License-Identifier: Apache-2.0 */
#include "api/config_file.h"

#include <errno.h>
#include <stdio.h>

#include "api/json.h"
#include "api/parse.h"

/* The keys of the file; the last ones are Firecracker's that kiln does not implement (null only). */
static const struct api_field keys[] = {
	{ "boot-source", API_JSON_OBJECT, true },
	{ "drives", API_JSON_ARRAY, false },
	{ "machine-config", API_JSON_OBJECT, false },
	{ "network-interfaces", API_JSON_ARRAY, false },
	{ "vsock", API_JSON_OBJECT, false },
	{ "entropy", API_JSON_OBJECT, false },
	{ "logger", API_JSON_OBJECT, false },
	{ "metrics", API_JSON_OBJECT, false },
	{ "balloon", API_JSON_OBJECT, false },
	{ "mmds-config", API_JSON_OBJECT, false },
	{ "cpu-config", API_JSON_STRING, false },
	{ "serial", API_JSON_OBJECT, false },
	{ "pmem", API_JSON_ARRAY, false },
	{ "memory-hotplug", API_JSON_OBJECT, false },
};
#define FIRST_UNSUPPORTED 8

/* Where the actions go, and the name of the object being parsed for messages. */
struct builder {
	struct api_action *out;
	size_t n;
	char where[64];
	char *err;
	size_t errlen;
};

/*
 * The kind alone is set here: each api_parse_* fills the whole member of its kind, and nothing else of
 * an action is read. Clearing all of it (16 KiB, mostly path buffers of other kinds) would touch four
 * pages per action in every VM's process booted from a config file.
 */
static struct api_action *next_action(struct builder *b, enum api_kind kind)
{
	struct api_action *a = &b->out[b->n++];

	a->kind = kind;
	return a;
}

/* Prefixes the parser's message with the key it came from. */
static int located(struct builder *b, int rc)
{
	char why[API_ERR_LEN];

	if (rc == 0)
		return 0;
	snprintf(why, sizeof(why), "%s", b->err);
	return fail_einval(b->err, b->errlen, "%s: %s", b->where, why);
}

static int add_object(struct builder *b, struct json_object *root, const char *key, enum api_kind kind)
{
	struct json_object *o = api_json_member(root, key);

	if (o == NULL)
		return 0;
	snprintf(b->where, sizeof(b->where), "%s", key);
	struct api_action *a = next_action(b, kind);
	switch (kind) {
	case API_PUT_LOGGER:
		return located(b, api_parse_logger(o, &a->logger, b->err, b->errlen));
	case API_PUT_METRICS:
		return located(b, api_parse_metrics(o, &a->metrics, b->err, b->errlen));
	case API_PUT_MACHINE:
		return located(b, api_parse_machine(o, false, &a->machine, b->err, b->errlen));
	case API_PUT_BOOT_SOURCE:
		return located(b, api_parse_boot_source(o, &a->boot, b->err, b->errlen));
	case API_PUT_VSOCK:
		return located(b, api_parse_vsock(o, &a->vsock, b->err, b->errlen));
	default:
		return located(b, api_parse_entropy(o, b->err, b->errlen));
	}
}

static int add_array(struct builder *b, struct json_object *root, const char *key, enum api_kind kind,
		     size_t max)
{
	struct json_object *arr = api_json_member(root, key);
	size_t len = arr ? json_object_array_length(arr) : 0;

	if (len > max)
		return fail_einval(b->err, b->errlen, "%s: %zu entries, kiln takes at most %zu", key, len, max);
	for (size_t i = 0; i < len; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct api_action *a = next_action(b, kind);

		snprintf(b->where, sizeof(b->where), "%s[%zu]", key, i);
		int rc = kind == API_PUT_DRIVE ? api_parse_drive(o, &a->drive, b->err, b->errlen)
					       : api_parse_net(o, &a->net, b->err, b->errlen);
		if (located(b, rc) < 0)
			return -EINVAL;
	}
	return 0;
}

static int check_keys(struct json_object *root, char *err, size_t errlen)
{
	int rc = api_json_check(root, "config file", keys, ARRAY_SIZE(keys), err, errlen);

	for (size_t i = FIRST_UNSUPPORTED; rc == 0 && i < ARRAY_SIZE(keys); i++)
		if (api_json_member(root, keys[i].name))
			rc = fail_einval(err, errlen, "%s: not supported by kiln (leave it out or null)",
					 keys[i].name);
	return rc;
}

int api_config_file_parse(const char *text, size_t len, struct api_action *out, size_t *n, char *err,
			  size_t errlen)
{
	struct builder b = { .out = out, .err = err, .errlen = errlen };
	struct json_object *root = api_json_parse(text, len, err, errlen);
	int rc = root ? check_keys(root, err, errlen) : -EINVAL;

	/* The order a client would use: where logs and metrics go first, InstanceStart last. */
	if (rc == 0)
		rc = add_object(&b, root, "logger", API_PUT_LOGGER);
	if (rc == 0)
		rc = add_object(&b, root, "metrics", API_PUT_METRICS);
	if (rc == 0)
		rc = add_object(&b, root, "machine-config", API_PUT_MACHINE);
	if (rc == 0)
		rc = add_object(&b, root, "boot-source", API_PUT_BOOT_SOURCE);
	if (rc == 0)
		rc = add_array(&b, root, "drives", API_PUT_DRIVE, KILN_MAX_DISKS);
	if (rc == 0)
		rc = add_array(&b, root, "network-interfaces", API_PUT_NET, KILN_MAX_NETS);
	if (rc == 0)
		rc = add_object(&b, root, "vsock", API_PUT_VSOCK);
	if (rc == 0)
		rc = add_object(&b, root, "entropy", API_PUT_ENTROPY);
	if (rc == 0)
		next_action(&b, API_INSTANCE_START);
	json_object_put(root);
	*n = rc == 0 ? b.n : 0;
	return rc;
}
