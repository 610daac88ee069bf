/* SPDX-License-Identifier: Apache-2.0 */
#include "api/json.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json_object_iterator.h>
#include <json-c/json_tokener.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_object *api_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new_ex(API_JSON_MAX_DEPTH);
	struct json_object *obj;

	if (tok == NULL) {
		fail_einval(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* json-c takes an int length; bodies are far below that (the server's payload limit). */
	obj = len > INT32_MAX ? NULL : json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t at = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && at == len) {
		/* A top-level literal (null, 5) ends only at the end of input: say it has ended. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	} else if (jerr == json_tokener_success && at < len) {
		jerr = json_tokener_error_parse_unexpected; /* more after the document */
	}
	if (jerr != json_tokener_success) {
		fail_einval(err, errlen, "%s at byte %zu", json_tokener_error_desc(jerr), at);
		json_object_put(obj);
		obj = NULL;
	} else if (obj == NULL) {
		fail_einval(err, errlen, "invalid type: null, expected an object"); /* the document `null` */
	}
	json_tokener_free(tok);
	return obj;
}

static const char *kind_name(enum api_json_kind k)
{
	static const char *const names[] = {
		[API_JSON_STRING] = "a string", [API_JSON_BOOL] = "a boolean", [API_JSON_INT] = "an integer",
		[API_JSON_OBJECT] = "an object", [API_JSON_ARRAY] = "an array",
	};
	return names[k];
}

static const char *value_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_double:
		return "floating point";
	case json_type_int:
		return "integer";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	default:
		return "string";
	}
}

static bool kind_matches(struct json_object *v, enum api_json_kind k)
{
	static const enum json_type types[] = {
		[API_JSON_STRING] = json_type_string, [API_JSON_BOOL] = json_type_boolean,
		[API_JSON_INT] = json_type_int, [API_JSON_OBJECT] = json_type_object,
		[API_JSON_ARRAY] = json_type_array,
	};
	return json_object_is_type(v, types[k]);
}

static const struct api_field *find_field(const struct api_field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* "unknown field `x`, expected one of `a`, `b`" (serde's wording, which Firecracker users know). */
static int unknown_field(const char *name, const struct api_field *fields, size_t n, char *err, size_t errlen)
{
	size_t len = (size_t)snprintf(err, errlen, "unknown field `%.64s`, expected one of ", name);

	for (size_t i = 0; i < n && len < errlen; i++)
		len += (size_t)snprintf(err + len, errlen - len, "%s`%s`", i ? ", " : "", fields[i].name);
	return -EINVAL;
}

static int check_members(struct json_object *obj, const struct api_field *fields, size_t n, char *err,
			 size_t errlen)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it);
		const struct api_field *f = find_field(fields, n, name);

		if (f == NULL)
			return unknown_field(name, fields, n, err, errlen);
		if (v == NULL && !f->required)
			continue;
		if (v == NULL || !kind_matches(v, f->kind))
			return fail_einval(err, errlen, "invalid type for `%s`: %s, expected %s", name,
					   v ? value_name(v) : "null", kind_name(f->kind));
	}
	return 0;
}

int api_json_check(struct json_object *obj, const char *what, const struct api_field *fields,
		   size_t nfields, char *err, size_t errlen)
{
	if (!json_object_is_type(obj, json_type_object))
		return fail_einval(err, errlen, "invalid type: %s, expected a %s object",
				   obj ? value_name(obj) : "null", what);
	int rc = check_members(obj, fields, nfields, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nfields; i++)
		if (fields[i].required && !json_object_object_get_ex(obj, fields[i].name, NULL))
			return fail_einval(err, errlen, "missing field `%s`", fields[i].name);
	return 0;
}

struct json_object *api_json_member(struct json_object *obj, const char *name)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(obj, name, &v);
	return v;
}

int api_json_string(struct json_object *obj, const char *name, char *out, size_t outlen, bool empty_ok,
		    bool *present, char *err, size_t errlen)
{
	struct json_object *v = api_json_member(obj, name);

	if (present)
		*present = v != NULL;
	if (v == NULL)
		return 0;
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len)
		return fail_einval(err, errlen, "`%s` holds a NUL byte", name);
	if (len == 0 && !empty_ok)
		return fail_einval(err, errlen, "`%s` is empty", name);
	if (len >= outlen)
		return fail_einval(err, errlen, "`%s` is %zu bytes long: at most %zu fit", name, len,
				   outlen - 1);
	memcpy(out, s, len + 1);
	return 0;
}

bool api_json_bool(struct json_object *obj, const char *name, bool def)
{
	struct json_object *v = api_json_member(obj, name);

	return v ? json_object_get_boolean(v) : def;
}

int api_json_int(struct json_object *obj, const char *name, int64_t min, int64_t max, int64_t *out,
		 char *err, size_t errlen)
{
	struct json_object *v = api_json_member(obj, name);

	if (v == NULL)
		return 0;
	/* json-c clamps integers beyond int64 to INT64_MIN/MAX: both are outside every range here. */
	int64_t n = json_object_get_int64(v);
	if (n < min || n > max)
		return fail_einval(err, errlen,
				   "invalid value for `%s`: %" PRId64 ", expected %" PRId64 " to %" PRId64,
				   name, n, min, max);
	*out = n;
	return 0;
}

void api_reply_ok(struct api_reply *r)
{
	*r = (struct api_reply){ .status = 204, .body = NULL };
}

void api_reply_object(struct api_reply *r, struct json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);

	*r = (struct api_reply){ .status = 200, .body = text ? strdup(text) : NULL };
	json_object_put(obj);
	if (r->body == NULL)
		api_reply_fault(r, "out of memory");
}

void api_reply_fault(struct api_reply *r, const char *fmt, ...)
{
	va_list ap;

	*r = (struct api_reply){ .status = 400 };
	va_start(ap, fmt);
	vsnprintf(r->fault, sizeof(r->fault), fmt, ap);
	va_end(ap);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "fault_message", json_object_new_string(r->fault));
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	r->body = text ? strdup(text) : NULL;
	json_object_put(o);
}

void api_reply_free(struct api_reply *r)
{
	free(r->body);
	r->body = NULL;
}
