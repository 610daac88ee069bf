/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hold-conns SOCKET N: a client that connects N times to the Unix stream socket SOCKET and then
 * sends nothing, holding every connection open: idle clients for the API's connection timeout,
 * host vsock clients that take a kiln fd apiece (tests/integration/api.sh).
 *
 * Raises its own soft fd limit to the hard one first (N may pass 1024). Each connect blocks until
 * the server's backlog has room. Prints "held N" once all are connected, then waits for a signal
 * (SIGTERM ends it), or ends by itself after HOLD_SECONDS. Exits 1 naming what failed, 2 on bad
 * usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HOLD_SECONDS 600 /* never outlive a test that forgot it */

static int connect_once(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	while (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0) {
		int e = errno;

		if (e != EINTR) {
			close(fd);
			return -e;
		}
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct rlimit r;
	char *end;
	unsigned long n = argc == 3 ? strtoul(argv[2], &end, 10) : 0;

	if (argc != 3 || *end != '\0' || n == 0 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: hold-conns SOCKET N (N >= 1)\n");
		return 2;
	}
	memcpy(a.sun_path, argv[1], strlen(argv[1]) + 1);
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r) < 0)
			fprintf(stderr, "hold-conns: raising the fd limit: %s\n", strerror(errno));
	}
	alarm(HOLD_SECONDS);
	for (unsigned long i = 0; i < n; i++) {
		int fd = connect_once(&a);

		if (fd < 0) {
			fprintf(stderr, "hold-conns: connection %lu of %lu to %s: %s\n", i + 1, n, a.sun_path,
				strerror(-fd));
			return 1;
		}
	}
	printf("held %lu\n", n);
	fflush(stdout);
	for (;;)
		pause();
}
