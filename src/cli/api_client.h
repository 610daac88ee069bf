/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal HTTP/1.1 client of kiln's API socket (`kiln snapshot`): one request per connection,
 * "Connection: close", the reply read to the end. No chunked bodies, no redirects, no TLS: the
 * peer is kiln's own server (api/server.c), which sends neither.
 */
#ifndef KILN_CLI_API_CLIENT_H
#define KILN_CLI_API_CLIENT_H

#include <stddef.h>

#include "util.h"

#define API_CLIENT_MAX_REPLY 65536 /* kiln's replies are a few hundred bytes; GET /vm/config a few KiB */
/*
 * How long a reply may take. A snapshot writes the guest's RAM before its reply: seconds per GiB on
 * a slow disk, so a generous bound that still ends a client whose server hung.
 */
#define API_CLIENT_TIMEOUT_MS (10 * 60 * 1000)

struct api_client_reply {
	unsigned int status; /* the HTTP status */
	char body[API_CLIENT_MAX_REPLY]; /* NUL-terminated; "" when there is none */
};

/*
 * Sends METHOD PATH with body (JSON; NULL for none) on a new connection to the Unix socket at
 * sock_path and reads the whole reply. 0 with r filled, or -errno and one line in err naming what
 * failed (the socket path, the connection, a reply that is not HTTP or too large).
 */
int api_client_request(const char *sock_path, const char *method, const char *path, const char *body,
		       struct api_client_reply *r, char *err, size_t errlen) MUST_CHECK;

#endif
