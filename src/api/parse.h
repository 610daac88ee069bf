/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON-to-config step: one function per object of Firecracker's API (firecracker.yaml
 * definitions), shared by the HTTP routes and the config file. Each checks members, types, enums
 * and ranges, fills its part of an api_action, and on failure returns -EINVAL with one line in err
 * naming the field. What needs the rest of the configuration (limits, files, duplicates) is
 * checked when the action is applied (vmm.c), and the whole configuration by kiln_config_validate.
 */
#ifndef KILN_API_PARSE_H
#define KILN_API_PARSE_H

#include <json-c/json_object.h>
#include <stddef.h>

#include "api/action.h"
#include "util.h"

/* BootSource */
int api_parse_boot_source(struct json_object *o, struct api_boot_source *out, char *err, size_t errlen) MUST_CHECK;

/* MachineConfiguration; partial (PATCH) makes every field optional but needs one. */
int api_parse_machine(struct json_object *o, bool partial, struct api_machine *out, char *err,
		      size_t errlen) MUST_CHECK;

/* Drive */
int api_parse_drive(struct json_object *o, struct api_drive *out, char *err, size_t errlen) MUST_CHECK;

/* PartialDrive */
int api_parse_drive_update(struct json_object *o, struct api_drive_update *out, char *err,
			   size_t errlen) MUST_CHECK;

/* NetworkInterface */
int api_parse_net(struct json_object *o, struct api_net *out, char *err, size_t errlen) MUST_CHECK;

/* Vsock */
int api_parse_vsock(struct json_object *o, struct api_vsock *out, char *err, size_t errlen) MUST_CHECK;

/* EntropyDevice */
int api_parse_entropy(struct json_object *o, char *err, size_t errlen) MUST_CHECK;

/* Logger */
int api_parse_logger(struct json_object *o, struct api_logger *out, char *err, size_t errlen) MUST_CHECK;

/* Metrics */
int api_parse_metrics(struct json_object *o, struct api_metrics *out, char *err, size_t errlen) MUST_CHECK;

/* Vm: *pause is true for "Paused", false for "Resumed". */
int api_parse_vm_state(struct json_object *o, bool *pause, char *err, size_t errlen) MUST_CHECK;

/* InstanceActionInfo: the action's kind (API_INSTANCE_START, ...). */
int api_parse_instance_action(struct json_object *o, enum api_kind *kind, char *err, size_t errlen) MUST_CHECK;

/* SnapshotCreateParams; a "Diff" needs dirty page tracking, checked when applied (vmm_snapshot.c). */
int api_parse_snapshot_create(struct json_object *o, struct api_snapshot_create *out, char *err,
			      size_t errlen) MUST_CHECK;

/*
 * SnapshotLoadParams: exactly one of mem_backend (type "File") and mem_file_path; the options kiln
 * lacks ("Uffd", huge pages) refused, named.
 */
int api_parse_snapshot_load(struct json_object *o, struct api_snapshot_load *out, char *err,
			    size_t errlen) MUST_CHECK;

#endif
