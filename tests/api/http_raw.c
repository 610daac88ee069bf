/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http-raw SOCKET: sends what it reads on stdin to the Unix stream socket SOCKET as it is, says it
 * sends nothing more (shutdown SHUT_WR), then copies what comes back to stdout until the server
 * closes the connection: raw HTTP for the tests of kiln's API server that curl cannot send
 * (pipelined requests, malformed ones; tests/integration/api.sh). Exits 1 naming what failed (10 s
 * at most), 2 on bad usage.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define WAIT_MS 10000

static int fail(const char *what)
{
	fprintf(stderr, "http-raw: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[65536];
	ssize_t n;

	if (argc != 2 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: http-raw SOCKET <REQUESTS\n");
		return 2;
	}
	memcpy(a.sun_path, argv[1], strlen(argv[1]) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail(argv[1]);
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			return fail("send");
	if (n < 0 || shutdown(fd, SHUT_WR) < 0)
		return fail(n < 0 ? "stdin" : "shutdown");
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, WAIT_MS) != 1) {
			errno = errno ? errno : ETIMEDOUT;
			return fail("waiting for the reply");
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return fail("recv");
		if (n == 0)
			return 0;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return fail("stdout");
	}
}
