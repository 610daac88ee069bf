/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON for the control plane (json-c): parsing a body with bounds, checking an object against a
 * table of its fields (Firecracker rejects unknown fields, as serde's deny_unknown_fields does),
 * reading typed members, and the replies the API sends back.
 */
#ifndef KILN_API_JSON_H
#define KILN_API_JSON_H

#include <json-c/json_object.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define API_JSON_MAX_DEPTH 16 /* deeper documents are refused, so parsing never recurses far */
#define API_ERR_LEN 512

enum api_json_kind { API_JSON_STRING, API_JSON_BOOL, API_JSON_INT, API_JSON_OBJECT, API_JSON_ARRAY };

/* One member an object may have. A null value counts as absent (Firecracker's configs write null). */
struct api_field {
	const char *name;
	enum api_json_kind kind;
	bool required;
};

/*
 * Parses len bytes of text as one JSON document (strict: no trailing bytes, valid UTF-8, depth at
 * most API_JSON_MAX_DEPTH). NULL and one line in err when it is not JSON.
 */
struct json_object *api_json_parse(const char *text, size_t len, char *err, size_t errlen);

/*
 * Checks that obj is an object (`what` names it in messages) whose members are all in fields, each
 * of its kind, and that every required field is there. -EINVAL and one line naming the field.
 */
int api_json_check(struct json_object *obj, const char *what, const struct api_field *fields,
		   size_t nfields, char *err, size_t errlen) MUST_CHECK;

/* The member `name` of obj, or NULL when it is absent or null. */
struct json_object *api_json_member(struct json_object *obj, const char *name);

/*
 * Copies the string member `name` into out (left untouched when absent): -EINVAL when it holds a
 * NUL byte or does not fit in outlen, or is empty and empty_ok is false. *present says whether it
 * was there (may be NULL).
 */
int api_json_string(struct json_object *obj, const char *name, char *out, size_t outlen, bool empty_ok,
		    bool *present, char *err, size_t errlen) MUST_CHECK;

/* The boolean member `name`, or def when absent. */
bool api_json_bool(struct json_object *obj, const char *name, bool def);

/* The integer member `name` into *out when present, checked against [min, max]. */
int api_json_int(struct json_object *obj, const char *name, int64_t min, int64_t max, int64_t *out,
		 char *err, size_t errlen) MUST_CHECK;

/* A reply: the HTTP status, its JSON body (NULL for 204 No Content), and for a 400 the message. */
struct api_reply {
	unsigned int status;
	char *body;
	char fault[API_ERR_LEN];
};

/* 204 No Content. */
void api_reply_ok(struct api_reply *r);

/* 400 Bad Request with {"fault_message": "..."} (Firecracker's Error definition). */
void api_reply_fault(struct api_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 200 OK with obj as the body; takes the reference to obj. */
void api_reply_object(struct api_reply *r, struct json_object *obj);

void api_reply_free(struct api_reply *r);

#endif
