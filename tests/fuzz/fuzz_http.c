/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the API socket's HTTP/1.1 parser (api/http.c) on what a hostile local client
 * sends down one connection, which may hold several requests.
 *
 * Input: one control byte, then the stream. The low 4 bits of the control byte + 1 are the size of
 * the pieces the stream is fed in the second time; its high 4 bits pick the payload limit
 * (MAX_PAYLOAD >> (bits % 8)). The stream is parsed twice: whole (each call given all that is left),
 * then in pieces. Invariants: a call takes no more than it is given and nothing in HTTP_DONE or
 * HTTP_ERROR; a request holds NUL-terminated strings, a body within the limit and consistent sizes;
 * an error has a message; and both runs see the same requests, the same outcomes, in the same order.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "fuzz/fuzz_check.h"

#define MAX_PAYLOAD 4096
#define MAX_OUTCOMES 64

/* What one request came to: enough to tell two parses apart. */
struct outcome {
	enum http_state state;
	const char *error;
	char method[HTTP_METHOD_MAX];
	char path[HTTP_PATH_MAX];
	uint64_t size;
	size_t len;
	uint32_t body_sum;
	bool too_large, keep_alive;
};

static uint32_t sum(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static void check_request(const struct http_parser *p)
{
	const struct http_request *r = &p->req;

	fuzz_check(memchr(r->method, '\0', sizeof(r->method)) != NULL && r->method[0] != '\0');
	fuzz_check(memchr(r->path, '\0', sizeof(r->path)) != NULL && r->path[0] == '/');
	fuzz_check(r->len <= p->max_payload);
	fuzz_check(r->body == NULL || r->body[r->len] == '\0');
	fuzz_check(r->body != NULL || r->len == 0);
	fuzz_check(r->too_large || r->size == r->len);
	fuzz_check(!r->too_large || (r->body == NULL && r->size > p->max_payload));
}

static struct outcome record(const struct http_parser *p)
{
	struct outcome o = { .state = p->state, .error = p->error };

	fuzz_check((p->state == HTTP_ERROR) == (p->error != NULL));
	if (p->state == HTTP_DONE) {
		check_request(p);
		memcpy(o.method, p->req.method, sizeof(o.method));
		memcpy(o.path, p->req.path, sizeof(o.path));
		o.size = p->req.size;
		o.len = p->req.len;
		o.body_sum = p->req.body ? sum(p->req.body, p->req.len) : 0;
		o.too_large = p->req.too_large;
		o.keep_alive = p->req.keep_alive;
	}
	return o;
}

/* Parses the stream in pieces of at most `piece` bytes (0: no limit); returns the outcomes. */
static size_t parse(const char *s, size_t len, size_t piece, size_t max_payload, struct outcome *out)
{
	struct http_parser *p = malloc(sizeof(*p));
	size_t used = 0, n = 0;

	fuzz_check(p != NULL);
	http_parser_init(p, max_payload);
	while (used < len && n < MAX_OUTCOMES) {
		size_t give = piece && len - used > piece ? piece : len - used;
		size_t took = http_parser_feed(p, s + used, give);

		fuzz_check(took <= give);
		used += took;
		p->send_continue = false;
		if (p->state == HTTP_DONE || p->state == HTTP_ERROR) {
			fuzz_check(http_parser_feed(p, s + used, len - used) == 0);
			out[n++] = record(p);
			if (p->state == HTTP_ERROR)
				break; /* the connection closes */
			http_parser_next(p);
		} else if (took == 0) {
			abort(); /* neither finished nor took anything: a parser that would hang its connection */
		}
	}
	if (n < MAX_OUTCOMES)
		out[n++] = record(p); /* where the stream's end left it */
	http_parser_free(p);
	free(p);
	return n;
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	return a->state == b->state && a->error == b->error && strcmp(a->method, b->method) == 0 &&
	       strcmp(a->path, b->path) == 0 && a->size == b->size && a->len == b->len &&
	       a->body_sum == b->body_sum && a->too_large == b->too_large && a->keep_alive == b->keep_alive;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct outcome whole[MAX_OUTCOMES], pieces[MAX_OUTCOMES];

	if (len < 1)
		return 0;
	size_t piece = (data[0] & 0xf) + 1;
	size_t max_payload = MAX_PAYLOAD >> ((data[0] >> 4) % 8);
	const char *s = (const char *)data + 1;
	size_t n = parse(s, len - 1, 0, max_payload, whole);
	size_t m = parse(s, len - 1, piece, max_payload, pieces);

	fuzz_check(n == m);
	for (size_t i = 0; i < n; i++)
		fuzz_check(same(&whole[i], &pieces[i]));
	return 0;
}
