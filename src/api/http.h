/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 requests on the API socket (RFC 9112), parsed from whatever pieces the socket hands over:
 * no I/O and no allocation but the body's, so that the unit tests and the fuzzer drive it directly
 * (api/server.c does the socket side). What a local control API needs and no more:
 *  - a request line with a method token and an origin-form (or absolute-form) target, whose path is
 *    kept without its query and with its %XX escapes decoded;
 *  - a body framed by Content-Length or by the chunked coding (§7.1), kept up to max_payload bytes
 *    and counted beyond, so that a body too large gets the API's own 400;
 *  - Expect: 100-continue (RFC 9110 §10.1.1); Connection: close and keep-alive (§9.3);
 *  - any other malformed input is an error: the reply is a 400 and the connection then closes, since
 *    nothing after a framing error can be trusted (§11.2).
 * Other header fields are ignored, Host included: the socket is local.
 */
#ifndef KILN_API_HTTP_H
#define KILN_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define HTTP_HEAD_MAX 8192     /* the request line and the header fields, with their line ends */
#define HTTP_METHOD_MAX 16     /* with its NUL */
#define HTTP_PATH_MAX 1024     /* the decoded path, with its NUL */
#define HTTP_CHUNK_LINE_MAX 256 /* a chunk's size line, extensions included */

/* The interim reply a client that sent "Expect: 100-continue" waits for before its body. */
#define HTTP_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

enum http_state {
	HTTP_HEAD,       /* the request line and the header fields */
	HTTP_BODY,       /* Content-Length bytes still to come */
	HTTP_CHUNK_SIZE, /* a chunk's size line */
	HTTP_CHUNK_DATA, /* a chunk's data */
	HTTP_CHUNK_END,  /* the line end after a chunk's data */
	HTTP_TRAILER,    /* trailer fields after the last chunk, up to an empty line */
	HTTP_DONE,       /* a whole request is in req */
	HTTP_ERROR,      /* malformed: error says why */
};

struct http_request {
	char method[HTTP_METHOD_MAX];
	char path[HTTP_PATH_MAX];
	char *body;        /* NUL-terminated; NULL when there is none or it is too large */
	size_t len;        /* the bytes in body */
	uint64_t size;     /* the body's full size: counted past max_payload (saturating) */
	bool too_large;    /* the body is larger than max_payload */
	bool keep_alive;   /* the connection may carry another request after the reply */
};

struct http_parser {
	enum http_state state;
	size_t max_payload;
	bool send_continue; /* the head asked for 100 Continue: the caller sends it, then clears this */
	const char *error;  /* HTTP_ERROR: why, as a fault message */
	uint64_t remaining; /* HTTP_BODY, HTTP_CHUNK_DATA: the bytes still to come */
	struct http_request req;
	size_t line_len;    /* the bytes held in line */
	/* Last, and never zeroed: only line[0, line_len) is ever read. */
	char line[HTTP_HEAD_MAX]; /* the head, then each chunk-size, chunk-end or trailer line */
};

void http_parser_init(struct http_parser *p, size_t max_payload);

/*
 * Parses up to len bytes; returns how many it took. It stops early when the head has been parsed
 * (so that the caller can send 100 Continue before reading on), when the request is complete
 * (HTTP_DONE, what follows belongs to the next request) and at an error (HTTP_ERROR). It takes
 * nothing in HTTP_DONE or HTTP_ERROR.
 */
size_t http_parser_feed(struct http_parser *p, const char *data, size_t len);

/* After HTTP_DONE: frees the body and waits for the next request on the same connection. */
void http_parser_next(struct http_parser *p);

void http_parser_free(struct http_parser *p);

/*
 * The status line and header fields of a reply with a body of body_len bytes, into buf: its type is
 * JSON when json is set; when close is set the reply says the connection ends after it. A 204 has
 * no body and says no length (RFC 9110 §8.6). The length written, or -ENOSPC.
 */
int http_reply_head(char *buf, size_t cap, unsigned int status, size_t body_len, bool json,
		    bool close) MUST_CHECK;

#endif
