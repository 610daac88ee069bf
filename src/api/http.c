/* SPDX-License-Identifier: Apache-2.0 */
#include "api/http.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a header field told, while the head is parsed. */
struct head_fields {
	bool http10;
	bool has_length;
	uint64_t length;
	bool chunked;
	bool expect_continue;
	bool conn_close;
	bool conn_keep_alive;
};

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* tchar, RFC 9110 §5.6.2: what a method or a field name is made of. */
static bool is_tchar(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t token_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	return i;
}

/* Case-insensitive equality of the n bytes at s with the lower-case word w. */
static bool word_is(const char *s, size_t n, const char *w)
{
	if (n != strlen(w))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((is_alpha(c) ? (c | 0x20) : c) != (unsigned char)w[i])
			return false;
	}
	return true;
}

static void fail(struct http_parser *p, const char *why)
{
	p->state = HTTP_ERROR;
	p->error = why;
	free(p->req.body);
	p->req.body = NULL;
	p->req.len = 0;
}

void http_parser_init(struct http_parser *p, size_t max_payload)
{
	memset(p, 0, offsetof(struct http_parser, line)); /* line's 8 KiB stay untouched until used */
	p->max_payload = max_payload;
}

void http_parser_free(struct http_parser *p)
{
	free(p->req.body);
	p->req.body = NULL;
}

void http_parser_next(struct http_parser *p)
{
	size_t max = p->max_payload;

	http_parser_free(p);
	http_parser_init(p, max);
}

/*
 * The target's path into req.path: an origin-form target ("/vm?x=1"), or an absolute-form one
 * ("http://localhost/vm", RFC 9112 §3.2.2) whose scheme and authority are dropped. The query goes,
 * %XX escapes are decoded (%00 is refused: the path is a C string).
 */
static int take_target(struct http_parser *p, const char *t, size_t n)
{
	size_t i = 0, o = 0;

	if (n >= 7 && (word_is(t, 7, "http://") || (n >= 8 && word_is(t, 8, "https://")))) {
		i = t[4] == ':' ? 7 : 8;
		while (i < n && t[i] != '/' && t[i] != '?')
			i++;
		if (i == n || t[i] == '?')
			p->req.path[o++] = '/';
	} else if (n == 0 || t[0] != '/') {
		return -EINVAL;
	}
	for (; i < n && t[i] != '?'; i++) {
		int c = (unsigned char)t[i];

		if (c == '%') {
			int hi = i + 2 < n ? hex_value((unsigned char)t[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value((unsigned char)t[i + 2]) : -1;

			if (lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= sizeof(p->req.path))
			return -ENAMETOOLONG;
		p->req.path[o++] = (char)c;
	}
	p->req.path[o] = '\0';
	return 0;
}

/* "METHOD SP target SP HTTP/1.x", without its line end. */
static int take_request_line(struct http_parser *p, const char *s, size_t n, struct head_fields *f)
{
	size_t m = token_len(s, n);

	if (m == 0 || m >= sizeof(p->req.method) || m == n || s[m] != ' ') {
		fail(p, "Invalid HTTP request: the request line must be METHOD, a space, the target, a space and the version.");
		return -EINVAL;
	}
	memcpy(p->req.method, s, m);
	p->req.method[m] = '\0';
	const char *target = s + m + 1;
	const char *sp = memchr(target, ' ', n - m - 1);
	if (sp == NULL || sp == target) {
		fail(p, "Invalid HTTP request: the request line must be METHOD, a space, the target, a space and the version.");
		return -EINVAL;
	}
	const char *version = sp + 1;
	size_t vlen = n - (size_t)(version - s);
	if (vlen == 8 && memcmp(version, "HTTP/1.", 7) == 0 && (version[7] == '0' || version[7] == '1')) {
		f->http10 = version[7] == '0';
	} else {
		fail(p, "Invalid HTTP request: only HTTP/1.0 and HTTP/1.1 are served.");
		return -EINVAL;
	}
	int rc = take_target(p, target, (size_t)(sp - target));
	if (rc < 0)
		fail(p, rc == -ENAMETOOLONG ? "Invalid HTTP request: the request target is too long."
					    : "Invalid HTTP request: the request target is not a valid path.");
	return rc;
}

/* Content-Length: 1*DIGIT (RFC 9110 §8.6); a repeated field must say the same. */
static int take_length(struct http_parser *p, const char *v, size_t n, struct head_fields *f)
{
	uint64_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)v[i]) || len > (UINT64_MAX - 9) / 10) {
			fail(p, "Invalid HTTP request: the Content-Length is not a number.");
			return -EINVAL;
		}
		len = len * 10 + (uint64_t)(v[i] - '0');
	}
	if (n == 0 || (f->has_length && f->length != len)) {
		fail(p, "Invalid HTTP request: the Content-Length is not one number.");
		return -EINVAL;
	}
	f->has_length = true;
	f->length = len;
	return 0;
}

/* Connection: a list of options (RFC 9110 §7.6.1), of which close and keep-alive count. */
static void take_connection(const char *v, size_t n, struct head_fields *f)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t t = token_len(v + i, n - i);
		f->conn_close |= word_is(v + i, t, "close");
		f->conn_keep_alive |= word_is(v + i, t, "keep-alive");
		i += t;
		while (i < n && v[i] != ',')
			i++;
	}
}

/* One "name: value" line, without its line end. */
static int take_field(struct http_parser *p, const char *s, size_t n, struct head_fields *f)
{
	size_t name = token_len(s, n);

	/* No space before the colon (RFC 9112 §5.1); no line folding (§5.2). */
	if (name == 0 || name == n || s[name] != ':') {
		fail(p, "Invalid HTTP request: a header field is not NAME: VALUE.");
		return -EINVAL;
	}
	const char *v = s + name + 1;
	size_t vlen = n - name - 1;
	while (vlen > 0 && (v[0] == ' ' || v[0] == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (word_is(s, name, "content-length"))
		return take_length(p, v, vlen, f);
	if (word_is(s, name, "transfer-encoding")) {
		/* Only "chunked" alone: kiln decodes no other coding (RFC 9112 §6.1). */
		if (!word_is(v, vlen, "chunked") || f->chunked) {
			fail(p, "Invalid HTTP request: the only transfer coding served is chunked.");
			return -EINVAL;
		}
		f->chunked = true;
	} else if (word_is(s, name, "expect")) {
		f->expect_continue |= word_is(v, vlen, "100-continue");
	} else if (word_is(s, name, "connection")) {
		take_connection(v, vlen, f);
	}
	return 0;
}

/* Bytes a line of the head may not hold: controls but HTAB (RFC 9112 §2.2: a bare CR included). */
static bool line_is_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* The next line of the head at *pos: its start and length without its line end. */
static const char *next_line(const char *buf, size_t end, size_t *pos, size_t *len)
{
	const char *s = buf + *pos;
	const char *nl = memchr(s, '\n', end - *pos);
	size_t n = (size_t)(nl - s);

	*pos += n + 1;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	*len = n;
	return s;
}

/* How the body is framed, once the head is parsed (RFC 9112 §6.3). */
static void frame_body(struct http_parser *p, const struct head_fields *f)
{
	struct http_request *r = &p->req;

	r->keep_alive = f->http10 ? f->conn_keep_alive && !f->conn_close : !f->conn_close;
	if (f->chunked) {
		p->state = HTTP_CHUNK_SIZE;
	} else if (f->has_length && f->length > p->max_payload) {
		/* Refused before its body is read, which is then never read: the connection ends. */
		r->too_large = true;
		r->size = f->length;
		r->keep_alive = false;
		p->state = HTTP_DONE;
	} else if (f->has_length && f->length > 0) {
		p->remaining = f->length;
		p->state = HTTP_BODY;
	} else {
		p->state = HTTP_DONE;
	}
	p->send_continue = f->expect_continue && !f->http10 && p->state != HTTP_DONE;
}

/* The whole head is in line[0, line_len), its empty last line included. */
static void parse_head(struct http_parser *p)
{
	struct head_fields f = { 0 };
	size_t pos = 0, n;
	const char *s = next_line(p->line, p->line_len, &pos, &n);

	if (!line_is_clean(s, n)) {
		fail(p, "Invalid HTTP request: a control character in the head.");
		return;
	}
	if (take_request_line(p, s, n, &f) < 0)
		return;
	for (;;) {
		s = next_line(p->line, p->line_len, &pos, &n);
		if (n == 0)
			break;
		if (!line_is_clean(s, n)) {
			fail(p, "Invalid HTTP request: a control character in the head.");
			return;
		}
		if (take_field(p, s, n, &f) < 0)
			return;
	}
	if (f.chunked && (f.has_length || f.http10)) {
		/* Both framings, or chunked in HTTP/1.0: a smuggling attempt or a broken client (§6.1). */
		fail(p, "Invalid HTTP request: both Transfer-Encoding and Content-Length, or chunked in HTTP/1.0.");
		return;
	}
	p->line_len = 0;
	frame_body(p, &f);
}

/* Collects the head up to its empty line: the bytes taken. */
static size_t feed_head(struct http_parser *p, const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = d[i];

		/* Empty lines before the request line are ignored (RFC 9112 §2.2). */
		if (p->line_len == 0 && (c == '\r' || c == '\n'))
			continue;
		if (p->line_len == sizeof(p->line)) {
			fail(p, "Invalid HTTP request: the request line and header fields exceed 8192 bytes.");
			return i;
		}
		p->line[p->line_len++] = c;
		if (c != '\n')
			continue;
		size_t l = p->line_len;
		if ((l >= 2 && p->line[l - 2] == '\n') || (l >= 3 && p->line[l - 2] == '\r' && p->line[l - 3] == '\n')) {
			parse_head(p);
			return i + 1;
		}
	}
	return n;
}

/* Keeps body bytes up to max_payload, counts them all. */
static void take_body(struct http_parser *p, const char *d, size_t n)
{
	struct http_request *r = &p->req;

	r->size = r->size + n < r->size ? UINT64_MAX : r->size + n;
	if (r->too_large)
		return;
	if (n > p->max_payload - r->len) {
		r->too_large = true;
		free(r->body);
		r->body = NULL;
		r->len = 0;
		return;
	}
	if (r->body == NULL && (r->body = malloc(p->max_payload + 1)) == NULL) {
		r->too_large = true; /* out of memory: refused as a body too large to hold */
		return;
	}
	memcpy(r->body + r->len, d, n);
	r->len += n;
	r->body[r->len] = '\0';
}

static size_t feed_data(struct http_parser *p, const char *d, size_t n, enum http_state then)
{
	size_t take = n < p->remaining ? n : (size_t)p->remaining;

	take_body(p, d, take);
	p->remaining -= take;
	if (p->remaining == 0)
		p->state = then;
	return take;
}

/* "1*HEXDIG [ BWS ; ext ]" (RFC 9112 §7.1): the chunk's size, or -EINVAL. */
static int chunk_size(const char *s, size_t n, uint64_t *size)
{
	size_t i = 0;

	*size = 0;
	for (; i < n && hex_value((unsigned char)s[i]) >= 0; i++) {
		if (i == 16)
			return -EINVAL;
		*size = *size << 4 | (uint64_t)hex_value((unsigned char)s[i]);
	}
	if (i == 0)
		return -EINVAL;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i == n || s[i] == ';' ? 0 : -EINVAL;
}

/* A whole line of the chunked body's framing, without its line end. */
static void take_chunk_line(struct http_parser *p, const char *s, size_t n)
{
	uint64_t size;

	switch (p->state) {
	case HTTP_CHUNK_SIZE:
		if (chunk_size(s, n, &size) < 0)
			fail(p, "Invalid HTTP request: a chunk size is not a hexadecimal number.");
		else if (size == 0)
			p->state = HTTP_TRAILER;
		else {
			p->remaining = size;
			p->state = HTTP_CHUNK_DATA;
		}
		break;
	case HTTP_CHUNK_END:
		if (n != 0)
			fail(p, "Invalid HTTP request: a chunk's data is longer than its size.");
		else
			p->state = HTTP_CHUNK_SIZE;
		break;
	default: /* HTTP_TRAILER: its fields are ignored, an empty line ends the request */
		if (n == 0)
			p->state = HTTP_DONE;
		break;
	}
}

/* Collects one framing line of a chunked body: the bytes taken. */
static size_t feed_chunk_line(struct http_parser *p, const char *d, size_t n)
{
	size_t max = p->state == HTTP_TRAILER ? sizeof(p->line) : HTTP_CHUNK_LINE_MAX;

	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\n') {
			size_t len = p->line_len;

			if (len > 0 && p->line[len - 1] == '\r')
				len--;
			p->line_len = 0;
			take_chunk_line(p, p->line, len);
			return i + 1;
		}
		if (p->line_len == max) {
			fail(p, "Invalid HTTP request: a line of the chunked body is too long.");
			return i;
		}
		p->line[p->line_len++] = d[i];
	}
	return n;
}

size_t http_parser_feed(struct http_parser *p, const char *data, size_t len)
{
	size_t used = 0;

	while (used < len) {
		enum http_state before = p->state;

		switch (p->state) {
		case HTTP_HEAD:
			used += feed_head(p, data + used, len - used);
			break;
		case HTTP_BODY:
			used += feed_data(p, data + used, len - used, HTTP_DONE);
			break;
		case HTTP_CHUNK_DATA:
			used += feed_data(p, data + used, len - used, HTTP_CHUNK_END);
			break;
		case HTTP_CHUNK_SIZE:
		case HTTP_CHUNK_END:
		case HTTP_TRAILER:
			used += feed_chunk_line(p, data + used, len - used);
			break;
		case HTTP_DONE:
		case HTTP_ERROR:
			return used;
		}
		if (before == HTTP_HEAD && p->state != HTTP_HEAD)
			return used;
	}
	return used;
}

static const char *reason(unsigned int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	default:
		return ""; /* the reason phrase may be empty (RFC 9112 §4) */
	}
}

int http_reply_head(char *buf, size_t cap, unsigned int status, size_t body_len, bool json, bool close)
{
	int n;

	if (status == 204)
		n = snprintf(buf, cap, "HTTP/1.1 204 No Content\r\n%s\r\n", close ? "Connection: close\r\n" : "");
	else
		n = snprintf(buf, cap, "HTTP/1.1 %u %s\r\n%sContent-Length: %zu\r\n%s\r\n", status, reason(status),
			     json ? "Content-Type: application/json\r\n" : "", body_len,
			     close ? "Connection: close\r\n" : "");
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
