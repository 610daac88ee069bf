/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsock-tool: kiln's vsock test helper (busybox has no vsock client), static: AF_VSOCK in the guest,
 * the Unix sockets of kiln's vsock device (Firecracker's model) on the host.
 *   vsock-tool listen PORT               accept one vsock connection and relay it
 *   vsock-tool listen-echo PORT N        accept N vsock connections, echo each (a child apiece)
 *   vsock-tool connect CID PORT          connect to a vsock port and relay
 *   vsock-tool host-connect UDS PORT     "CONNECT PORT\n" on kiln's socket UDS, expect "OK ..." and
 *                                        relay; exit status 1 when refused
 *   vsock-tool host-listen PATH          listen on the Unix socket PATH, accept one and relay
 * A relay copies stdin to the socket (then shuts its write side) and the socket to stdout until both
 * end, then prints "vsock-tool: sent N received M bytes in S s" on stderr. Exit status 0 or 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>	/* before linux/vm_sockets.h, which needs struct sockaddr (arm64's headers do not pull it in) */
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct dir {
	int in, out, shut; /* shut: shutdown(SHUT_WR) once this direction is done (-1: none) */
	char buf[65536];
	size_t len, off;
	bool eof;
	unsigned long long bytes;
};

static void die(const char *what)
{
	fprintf(stderr, "vsock-tool: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool dir_done(const struct dir *d)
{
	return d->eof && d->len == 0;
}

/* Moves data one step once poll said the fd it waits on is ready. */
static void dir_step(struct dir *d)
{
	bool out = d->len > 0;
	ssize_t r = out ? write(d->out, d->buf + d->off, d->len) : read(d->in, d->buf, sizeof(d->buf));

	if (r < 0 && errno != EAGAIN && errno != EINTR)
		die(out ? "write" : "read");
	if (out && r > 0) {
		d->off += (size_t)r;
		d->len -= (size_t)r;
	} else if (!out && r >= 0) {
		d->eof = r == 0;
		d->off = 0;
		d->len = (size_t)r;
		d->bytes += (size_t)r;
	}
	if (dir_done(d) && d->shut >= 0) {
		shutdown(d->shut, SHUT_WR);
		d->shut = -1;
	}
}

/* Runs the directions d[0..n) until all are done; the socket s is nonblocking meanwhile. */
static void relay_dirs(int s, struct dir *d, int n)
{
	fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[2];
		int busy = 0;

		for (int i = 0; i < n; i++) {
			if (dir_done(&d[i]))
				continue;
			p[busy].fd = d[i].len > 0 ? d[i].out : d[i].in;
			p[busy].events = d[i].len > 0 ? POLLOUT : POLLIN;
			busy++;
		}
		if (busy == 0)
			return;
		if (poll(p, (nfds_t)busy, -1) < 0 && errno != EINTR)
			die("poll");
		for (int i = 0, k = 0; i < n; i++) {
			if (dir_done(&d[i]))
				continue;
			if (p[k++].revents)
				dir_step(&d[i]);
		}
	}
}

/* Relays stdin/stdout with s (echo: s with itself); prints the byte counts and time of a relay. */
static int relay(int s, bool echo)
{
	static struct dir d[2];
	double t0 = now_s();

	d[0] = (struct dir){ .in = echo ? s : 0, .out = s, .shut = s };
	d[1] = (struct dir){ .in = s, .out = 1, .shut = -1 };
	relay_dirs(s, d, echo ? 1 : 2);
	if (!echo)
		fprintf(stderr, "vsock-tool: sent %llu received %llu bytes in %.3f s\n", d[0].bytes,
			d[1].bytes, now_s() - t0);
	return 0;
}

static int vsock_socket(const char *cid, const char *port, struct sockaddr_vm *a)
{
	*a = (struct sockaddr_vm){ .svm_family = AF_VSOCK, .svm_cid = (unsigned int)strtoul(cid, NULL, 10),
				   .svm_port = (unsigned int)strtoul(port, NULL, 10) };
	return socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int vsock_listener(const char *port)
{
	struct sockaddr_vm a;
	int s = vsock_socket("4294967295", port, &a); /* VMADDR_CID_ANY */

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0)
		die("vsock listen");
	return s;
}

static int accept_one(int l)
{
	int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);

	if (s < 0)
		die("accept");
	return s;
}

/* Accepts n connections and echoes each in a child; fails if any child failed. */
static int listen_echo(const char *port, int n)
{
	int l = vsock_listener(port), status, failed = 0;

	for (int i = 0; i < n; i++) {
		int s = accept_one(l);
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			exit(relay(s, true));
		close(s);
	}
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	return failed;
}

static int vsock_connect(const char *cid, const char *port)
{
	struct sockaddr_vm a;
	int s = vsock_socket(cid, port, &a);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("vsock connect");
	return relay(s, false);
}

static int unix_socket(const char *path, struct sockaddr_un *a)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (s < 0 || strlen(path) >= sizeof(a->sun_path))
		die(path);
	strcpy(a->sun_path, path);
	return s;
}

/* One try at kiln's handshake: the connected socket, or -1 when kiln closed it (refused). */
static int host_try(const char *uds, const char *port)
{
	struct sockaddr_un a;
	int s = unix_socket(uds, &a);
	char line[32];
	size_t n = 0;

	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die(uds);
	dprintf(s, "CONNECT %s\n", port);
	while (n < sizeof(line) - 1 && read(s, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if (strncmp(line, "OK ", 3) == 0)
		return s;
	close(s);
	return -1;
}

static int host_connect(const char *uds, const char *port)
{
	int s = host_try(uds, port);

	if (s < 0) {
		fprintf(stderr, "vsock-tool: port %s: connection refused\n", port);
		return 1;
	}
	return relay(s, false);
}

static int host_listen(const char *path)
{
	struct sockaddr_un a;
	int l = unix_socket(path, &a);

	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 8) < 0)
		die(path);
	return relay(accept_one(l), false);
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	signal(SIGPIPE, SIG_IGN); /* a peer that went away is an error (EPIPE), not a silent death */
	if (!strcmp(m, "listen") && argc == 3)
		return relay(accept_one(vsock_listener(argv[2])), false);
	if (!strcmp(m, "listen-echo") && argc == 4)
		return listen_echo(argv[2], atoi(argv[3]));
	if (!strcmp(m, "connect") && argc == 4)
		return vsock_connect(argv[2], argv[3]);
	if (!strcmp(m, "host-connect") && argc == 4)
		return host_connect(argv[2], argv[3]);
	if (!strcmp(m, "host-listen") && argc == 3)
		return host_listen(argv[2]);
	fprintf(stderr, "usage: vsock-tool listen PORT | listen-echo PORT N | connect CID PORT |\n"
			"       host-connect UDS PORT | host-listen PATH\n");
	return 2;
}
