/* SPDX-License-Identifier: Apache-2.0 */
/* api/http.c: HTTP/1.1 requests parsed from any split of their bytes, the framings, the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/http.h"

#define MAX_PAYLOAD 64

#define assert_contains(hay, needle)                                                        \
	do {                                                                                \
		if ((hay) == NULL || strstr((hay), (needle)) == NULL)                       \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));         \
	} while (0)

static struct http_parser parser;

static int setup(void **state)
{
	(void)state;
	http_parser_init(&parser, MAX_PAYLOAD);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	http_parser_free(&parser);
	return 0;
}

/* Feeds text in pieces of `step` bytes (0: all at once), as the parser asks; returns the bytes taken. */
static size_t feed(const char *text, size_t step)
{
	size_t len = strlen(text), used = 0;

	while (used < len && parser.state != HTTP_DONE && parser.state != HTTP_ERROR) {
		size_t n = step && len - used > step ? step : len - used;
		size_t took = http_parser_feed(&parser, text + used, n);

		assert_true(took <= n);
		used += took;
		parser.send_continue = false;
	}
	return used;
}

/* The same request, split every way from whole to byte by byte, parses the same. */
static void assert_parses(const char *text, const char *method, const char *path, const char *body, bool keep_alive)
{
	for (size_t step = 0; step <= 7; step++) {
		http_parser_next(&parser);
		assert_int_equal(feed(text, step), strlen(text));
		assert_int_equal(parser.state, HTTP_DONE);
		assert_string_equal(parser.req.method, method);
		assert_string_equal(parser.req.path, path);
		if (body == NULL) {
			assert_null(parser.req.body);
		} else {
			assert_non_null(parser.req.body);
			assert_int_equal(parser.req.len, strlen(body));
			assert_memory_equal(parser.req.body, body, strlen(body) + 1);
		}
		assert_false(parser.req.too_large);
		assert_int_equal(parser.req.keep_alive, keep_alive);
	}
}

static void assert_refused(const char *text, const char *why)
{
	for (size_t step = 0; step <= 3; step++) {
		http_parser_next(&parser);
		feed(text, step);
		assert_int_equal(parser.state, HTTP_ERROR);
		assert_contains(parser.error, why);
		assert_null(parser.req.body);
	}
}

static void test_requests(void **state)
{
	(void)state;
	assert_parses("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET", "/", NULL, true);
	assert_parses("GET /vm/config HTTP/1.1\n\n", "GET", "/vm/config", NULL, true);
	assert_parses("\r\n\r\nGET /version HTTP/1.1\r\n\r\n", "GET", "/version", NULL, true); /* RFC 9112 §2.2 */
	assert_parses("PUT /drives/root%5F1?x=1&y HTTP/1.1\r\n\r\n", "PUT", "/drives/root_1", NULL, true);
	assert_parses("GET http://localhost/vm HTTP/1.1\r\n\r\n", "GET", "/vm", NULL, true);
	assert_parses("GET HTTP://localhost HTTP/1.1\r\n\r\n", "GET", "/", NULL, true);
	assert_parses("PATCH /vm HTTP/1.1\r\nContent-Length:  18 \r\nContent-Type: application/json\r\n\r\n"
		      "{\"state\":\"Paused\"}",
		      "PATCH", "/vm", "{\"state\":\"Paused\"}", true);
	assert_parses("PUT /vm HTTP/1.1\r\ncontent-length: 2\r\nCONTENT-LENGTH: 2\r\n\r\n{}", "PUT", "/vm", "{}", true);
	assert_parses("PUT /entropy HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "PUT", "/entropy", NULL, true);
	assert_parses("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", "GET", "/", NULL, false);
	assert_parses("GET / HTTP/1.0\r\n\r\n", "GET", "/", NULL, false);
	assert_parses("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", NULL, true);
}

static void test_chunked(void **state)
{
	(void)state;
	assert_parses("PUT /actions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		      "3\r\n{\"a\r\n1a;name=value\r\n\":\"InstanceStart\"}........\r\n0\r\nX-Trailer: 1\r\n\r\n",
		      "PUT", "/actions", "{\"a\":\"InstanceStart\"}........", true);
	assert_parses("PUT /vm HTTP/1.1\r\nTransfer-Encoding: Chunked\n\n2 \n{}\n0\n\n", "PUT", "/vm", "{}", true);
}

static void test_pipelined(void **state)
{
	const char *two = "PUT /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /b HTTP/1.1\r\n\r\n";
	size_t used = http_parser_feed(&parser, two, strlen(two)); /* stops after the head */

	(void)state;
	assert_int_equal(parser.state, HTTP_BODY);
	used += http_parser_feed(&parser, two + used, strlen(two) - used);
	assert_int_equal(parser.state, HTTP_DONE);
	assert_string_equal(parser.req.path, "/a");
	assert_string_equal(parser.req.body, "x");
	assert_int_equal(http_parser_feed(&parser, two + used, strlen(two) - used), 0); /* nothing in DONE */
	http_parser_next(&parser);
	assert_int_equal(http_parser_feed(&parser, two + used, strlen(two) - used), strlen(two) - used);
	assert_int_equal(parser.state, HTTP_DONE);
	assert_string_equal(parser.req.path, "/b");
}

static void test_expect_continue(void **state)
{
	const char *head = "PUT /vm HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n{}";

	(void)state;
	/* The parser stops after the head, so that 100 Continue goes out before the body is read. */
	assert_int_equal(http_parser_feed(&parser, head, strlen(head)), strlen(head) - 2);
	assert_true(parser.send_continue);
	assert_int_equal(parser.state, HTTP_BODY);
	parser.send_continue = false;
	assert_int_equal(http_parser_feed(&parser, head + strlen(head) - 2, 2), 2);
	assert_int_equal(parser.state, HTTP_DONE);
	assert_false(parser.send_continue);

	/* No body: nothing to wait for. */
	http_parser_next(&parser);
	feed("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", 0);
	assert_int_equal(parser.state, HTTP_DONE);
	assert_false(parser.send_continue);
}

static void test_too_large(void **state)
{
	char body[MAX_PAYLOAD + 2];

	(void)state;
	/* Declared too large: refused at once, its body never read, the connection to close. */
	feed("PUT /vm HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1048576\r\n\r\n", 0);
	assert_int_equal(parser.state, HTTP_DONE);
	assert_true(parser.req.too_large);
	assert_int_equal(parser.req.size, 1048576);
	assert_false(parser.req.keep_alive);
	assert_false(parser.send_continue);

	/* Exactly the limit is kept. */
	memset(body, 'x', MAX_PAYLOAD);
	body[MAX_PAYLOAD] = '\0';
	http_parser_next(&parser);
	feed("PUT /vm HTTP/1.1\r\nContent-Length: 64\r\n\r\n", 0);
	feed(body, 0);
	assert_int_equal(parser.state, HTTP_DONE);
	assert_false(parser.req.too_large);
	assert_int_equal(parser.req.len, MAX_PAYLOAD);

	/* Chunked past the limit: read to its end, counted, not kept. */
	http_parser_next(&parser);
	feed("PUT /vm HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n", 0);
	feed(body, 0);
	feed("\r\n2\r\nxx\r\n0\r\n\r\n", 0);
	assert_int_equal(parser.state, HTTP_DONE);
	assert_true(parser.req.too_large);
	assert_int_equal(parser.req.size, MAX_PAYLOAD + 2);
	assert_null(parser.req.body);
	assert_true(parser.req.keep_alive);
}

static void test_refused(void **state)
{
	char head[HTTP_HEAD_MAX + 64];

	(void)state;
	assert_refused("GET\r\n\r\n", "request line");
	assert_refused("GET  / HTTP/1.1\r\n\r\n", "request line");
	assert_refused("GET / HTTP/1.1 x\r\n\r\n", "HTTP/1.0 and HTTP/1.1");
	assert_refused("GET / HTTP/2.0\r\n\r\n", "HTTP/1.0 and HTTP/1.1");
	assert_refused("VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n", "request line");
	assert_refused("G(T / HTTP/1.1\r\n\r\n", "request line");
	assert_refused("GET vm HTTP/1.1\r\n\r\n", "not a valid path");
	assert_refused("GET /a%00b HTTP/1.1\r\n\r\n", "not a valid path");
	assert_refused("GET /a%4 HTTP/1.1\r\n\r\n", "not a valid path");
	assert_refused("GET /a%zz HTTP/1.1\r\n\r\n", "not a valid path");
	assert_refused("GET /a\rb HTTP/1.1\r\n\r\n", "control character");
	assert_refused("GET / HTTP/1.1\r\nHost : x\r\n\r\n", "NAME: VALUE");
	assert_refused("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "NAME: VALUE");
	assert_refused("GET / HTTP/1.1\r\nX: a\001b\r\n\r\n", "control character");
	assert_refused("PUT / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "not a number");
	assert_refused("PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "not a number");
	assert_refused("PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", "not a number");
	assert_refused("PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "not one number");
	assert_refused("PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n", "not one number");
	assert_refused("PUT / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "only transfer coding");
	assert_refused("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", "both");
	assert_refused("PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "both");
	assert_refused("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", "hexadecimal");
	assert_refused("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", "hexadecimal");
	assert_refused("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n", "longer than its size");
	memset(head, 'a', sizeof(head) - 1);
	head[sizeof(head) - 1] = '\0';
	assert_refused(head, "exceed 8192 bytes");
	const char *chunked = "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1";
	memcpy(head, chunked, strlen(chunked));
	assert_refused(head, "too long");
}

static void test_long_path(void **state)
{
	char path[HTTP_PATH_MAX], req[HTTP_PATH_MAX + 64];

	(void)state;
	/* The longest path kept, then one byte more. */
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", path);
	assert_parses(req, "GET", path, NULL, true);
	snprintf(req, sizeof(req), "GET %sp HTTP/1.1\r\n\r\n", path);
	assert_refused(req, "too long");
}

static void test_reply_head(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(http_reply_head(buf, sizeof(buf), 204, 0, false, false), 27);
	assert_string_equal(buf, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_true(http_reply_head(buf, sizeof(buf), 200, 12, true, false) > 0);
	assert_string_equal(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n");
	assert_true(http_reply_head(buf, sizeof(buf), 400, 3, true, true) > 0);
	assert_string_equal(buf, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
				 "Connection: close\r\n\r\n");
	assert_int_equal(http_reply_head(buf, 10, 200, 12, true, false), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect_continue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_head, setup, teardown),
	};

	return cmocka_run_group_tests_name("api http", tests, NULL, NULL);
}
