/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The route table: an HTTP request (method, path, body) becomes an api_action, or a fault message
 * worded as Firecracker words it. No state, no I/O: the request parser the fuzzer drives.
 */
#ifndef KILN_API_ROUTE_H
#define KILN_API_ROUTE_H

#include <stddef.h>

#include "api/action.h"
#include "util.h"

/*
 * Routes one request. 0 with *a filled, or -EINVAL with one line in fault (the reply is then
 * 400 with that line as its fault_message).
 */
int api_route(const char *method, const char *path, const char *body, size_t len, struct api_action *a,
	      char *fault, size_t faultlen) MUST_CHECK;

#endif
