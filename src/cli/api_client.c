/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/api_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A connected stream socket to the Unix socket at path, or -errno. */
static int connect_to(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (path[0] == '\0' || strlen(path) >= sizeof(addr.sun_path))
		return fail_with(err, errlen, -ENAMETOOLONG, "--api-sock %s: a socket path is 1 to %zu bytes long",
				 path, sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail_with(err, errlen, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int rc = -errno;
		close(fd);
		return fail_with(err, errlen, rc, "--api-sock %s: %s (is a kiln serving its API there?)", path,
				 strerror(-rc));
	}
	return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the server closes the connection: the reply's length, or -errno. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t len = 0;

	for (;;) {
		int ready = poll(&p, 1, API_CLIENT_TIMEOUT_MS);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return -errno;
		if (ready == 0)
			return -ETIMEDOUT;
		if (len == cap)
			return -EMSGSIZE;
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return (ssize_t)len;
		len += (size_t)n;
	}
}

/* "HTTP/1.1 204 No Content\r\n...\r\n\r\nBODY" into r; -EPROTO when it is not that. */
static int parse_reply(char *text, struct api_client_reply *r)
{
	unsigned int status;
	char *body = strstr(text, "\r\n\r\n");

	if (body == NULL || sscanf(text, "HTTP/1.%*1[01] %3u ", &status) != 1 || status < 100 || status > 599)
		return -EPROTO;
	r->status = status;
	snprintf(r->body, sizeof(r->body), "%s", body + 4);
	return 0;
}

int api_client_request(const char *sock_path, const char *method, const char *path, const char *body,
		       struct api_client_reply *r, char *err, size_t errlen)
{
	char head[512];
	char *reply = malloc(API_CLIENT_MAX_REPLY + 1);
	size_t blen = body ? strlen(body) : 0;
	int fd = -1, rc = reply ? 0 : -ENOMEM;
	ssize_t n = 0;

	int hlen = snprintf(head, sizeof(head),
			    "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
			    "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			    method, path, blen);
	if (rc == 0 && (hlen < 0 || (size_t)hlen >= sizeof(head)))
		rc = -ENAMETOOLONG;
	if (rc == 0 && (fd = connect_to(sock_path, err, errlen)) < 0) {
		free(reply);
		return fd;
	}
	if (rc == 0)
		rc = send_all(fd, head, (size_t)hlen);
	if (rc == 0 && blen)
		rc = send_all(fd, body, blen);
	if (rc == 0 && (n = read_all(fd, reply, API_CLIENT_MAX_REPLY)) < 0)
		rc = (int)n;
	if (rc == 0) {
		reply[n] = '\0';
		rc = parse_reply(reply, r);
	}
	if (fd >= 0)
		close(fd);
	free(reply);
	if (rc < 0)
		return fail_with(err, errlen, rc, "%s %s on %s: %s", method, path, sock_path,
				 rc == -EPROTO ? "the reply is not HTTP" : strerror(-rc));
	return 0;
}
