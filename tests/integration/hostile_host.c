/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostile_host: the host side of the hostile tiny guest (tests/tiny/hostile), for
 * tests/integration/hostile.sh. Runs kiln with its stdin and stdout on pipes, copies the guest's
 * lines to stdout, and does what the guest asks on a line "@host ACTION ARGS":
 *   vsock-connect PORT   connect to kiln's vsock socket (-u) and send "CONNECT PORT\n"
 *   vsock-send DATA      read kiln's "OK ...\n" once, then send DATA on that connection
 *   vsock-expect-eof     the connection must end (EOF or reset) within the time bound
 *   net-send             one UDP broadcast to -b (this runs in the tap's network namespace)
 * then acknowledges with one byte on kiln's stdin (the guest's COM1). With -i N, N bytes of
 * console input wait on kiln's stdin from the start (for a virtio console; no actions then).
 *
 * Usage: hostile_host [-u UDS] [-b BROADCAST] [-i N] [-t SECONDS] -- KILN ARGS...
 * Prints the guest's lines, "ok - host: ..." / "not ok - host: ..." for its own checks, "# ..."
 * notes, and last "# kiln: exit status N" or "# kiln: killed by signal S". Exits with kiln's status
 * (128 + S after a signal, 137 after the time bound: kiln is then killed), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024
#define DISCARD_PORT 9 /* RFC 863: nobody listens in the test's namespace either */

struct host {
	const char *uds;
	const char *broadcast;
	unsigned int input_bytes;
	unsigned int timeout_s;
	pid_t kiln;
	int to_kiln;   /* kiln's stdin */
	int from_kiln; /* kiln's stdout */
	int vsock;     /* the connection to kiln's vsock socket, or -1 */
	bool vsock_ok_read;
	double deadline;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Milliseconds left before the deadline, for poll. */
static int ms_left(const struct host *h)
{
	double left = h->deadline - now_s();

	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Waits until fd has events; false on timeout or a poll error. */
static bool wait_fd(const struct host *h, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, ms_left(h));
	} while (r < 0 && errno == EINTR);
	return r > 0;
}

static void vsock_connect(struct host *h, const char *arg)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char line[64];
	int len;

	if (h->uds == NULL || strlen(h->uds) >= sizeof(a.sun_path)) {
		printf("not ok - host: vsock-connect without a usable -u path\n");
		return;
	}
	strcpy(a.sun_path, h->uds);
	h->vsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	len = snprintf(line, sizeof(line), "CONNECT %u\n", (unsigned int)strtoul(arg, NULL, 10));
	if (h->vsock >= 0 && connect(h->vsock, (const struct sockaddr *)&a, sizeof(a)) == 0 &&
	    send(h->vsock, line, (size_t)len, MSG_NOSIGNAL) == len) {
		printf("# host: connected to %s, asked for guest port %s\n", h->uds, arg);
		return;
	}
	printf("not ok - host: connecting to %s: %s\n", h->uds, strerror(errno));
	if (h->vsock >= 0)
		close(h->vsock);
	h->vsock = -1;
}

/* Reads kiln's "OK <host port>\n", one byte at a time: nothing after it may be taken. */
static void vsock_read_ok(struct host *h)
{
	char line[64];
	size_t n = 0;

	h->vsock_ok_read = true;
	while (n + 1 < sizeof(line) && wait_fd(h, h->vsock, POLLIN) && recv(h->vsock, &line[n], 1, 0) == 1) {
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (strncmp(line, "OK ", 3) == 0 && n > 0 && line[n - 1] == '\n')
		printf("ok - host: kiln answered the connection with %.*s\n", (int)n - 1, line);
	else
		printf("not ok - host: kiln's answer to CONNECT: \"%s\"\n", line);
}

static void vsock_send(struct host *h, const char *data)
{
	ssize_t r;

	if (h->vsock < 0) {
		printf("not ok - host: vsock-send without a connection\n");
		return;
	}
	if (!h->vsock_ok_read)
		vsock_read_ok(h);
	/* Non-blocking: after the guest's reset the connection may be gone, and that is fine. */
	r = send(h->vsock, data, strlen(data), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r == (ssize_t)strlen(data))
		printf("# host: vsock-send: %zd bytes sent\n", r);
	else if (r < 0 && errno == EAGAIN)
		printf("not ok - host: vsock-send: %zu bytes did not fit kiln's socket\n", strlen(data));
	else
		printf("# host: vsock-send: the connection is gone (%s)\n", r < 0 ? strerror(errno) : "short send");
}

static void vsock_expect_eof(struct host *h)
{
	char buf[256];
	ssize_t r = 1;

	while (h->vsock >= 0 && r > 0 && wait_fd(h, h->vsock, POLLIN))
		r = recv(h->vsock, buf, sizeof(buf), MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno == ECONNRESET))
		printf("ok - host: the vsock connection ended with the guest's reset\n");
	else
		printf("not ok - host: the vsock connection did not end after the guest's reset\n");
	if (h->vsock >= 0)
		close(h->vsock);
	h->vsock = -1;
}

static void net_send(const struct host *h)
{
	static const char payload[] = "kiln hostile frame";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DISCARD_PORT) };
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (h->broadcast == NULL || inet_pton(AF_INET, h->broadcast, &a.sin_addr) != 1) {
		printf("not ok - host: net-send without a usable -b address\n");
	} else if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
		   sendto(fd, payload, sizeof(payload), MSG_DONTWAIT, (const struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("not ok - host: net-send to %s: %s\n", h->broadcast, strerror(errno));
	} else {
		printf("# host: net-send: a datagram to %s\n", h->broadcast);
	}
	if (fd >= 0)
		close(fd);
}

/* One "@host ..." line: act, then acknowledge on kiln's stdin (the guest polls COM1 for it). */
static void act(struct host *h, char *what)
{
	char *arg = strchr(what, ' ');

	if (arg != NULL)
		*arg++ = '\0';
	if (strcmp(what, "vsock-connect") == 0 && arg != NULL)
		vsock_connect(h, arg);
	else if (strcmp(what, "vsock-send") == 0 && arg != NULL)
		vsock_send(h, arg);
	else if (strcmp(what, "vsock-expect-eof") == 0)
		vsock_expect_eof(h);
	else if (strcmp(what, "net-send") == 0)
		net_send(h);
	else
		printf("not ok - host: unknown action \"%s\"\n", what);
	if (write(h->to_kiln, "!", 1) != 1)
		printf("# host: cannot acknowledge: %s\n", strerror(errno));
	fflush(stdout);
}

static void line_done(struct host *h, char *line)
{
	if (strncmp(line, "@host ", 6) == 0)
		act(h, line + 6);
	else
		printf("%s\n", line);
	fflush(stdout);
}

/* Copies kiln's output line by line until it ends or the deadline passes; false on timeout. */
static bool relay(struct host *h)
{
	char line[LINE_MAX_LEN + 1];
	size_t len = 0;

	for (;;) {
		char buf[4096];
		ssize_t r;

		if (!wait_fd(h, h->from_kiln, POLLIN))
			return false;
		r = read(h->from_kiln, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] != '\n' && len < LINE_MAX_LEN) {
				line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			line_done(h, line);
			len = 0;
			if (buf[i] != '\n')
				line[len++] = buf[i];
		}
	}
	if (len > 0) {
		line[len] = '\0';
		line_done(h, line);
	}
	return true;
}

/* Console input for a virtio console: a recognizable pattern, all of it in the pipe at once. */
static void send_input(const struct host *h)
{
	char buf[4096];
	unsigned int left = h->input_bytes;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	while (left > 0) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		if (!wait_fd(h, h->to_kiln, POLLOUT) || write(h->to_kiln, buf, n) != (ssize_t)n) {
			printf("not ok - host: console input did not fit kiln's stdin\n");
			return;
		}
		left -= (unsigned int)n;
	}
	printf("# host: %u bytes of console input wait on kiln's stdin\n", h->input_bytes);
}

static int spawn(struct host *h, char **argv)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -1;
	h->kiln = fork();
	if (h->kiln < 0)
		return -1;
	if (h->kiln == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "hostile_host: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	h->to_kiln = in[1];
	h->from_kiln = out[0];
	return 0;
}

static int finish(struct host *h, bool in_time)
{
	int status;

	if (!in_time) {
		printf("not ok - host: kiln did not end within %u s; killed\n", h->timeout_s);
		kill(h->kiln, SIGKILL);
	}
	while (waitpid(h->kiln, &status, 0) < 0 && errno == EINTR)
		;
	if (!in_time)
		return 137;
	if (WIFSIGNALED(status)) {
		printf("# kiln: killed by signal %d\n", WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	printf("# kiln: exit status %d\n", WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct host h = { .timeout_s = 120, .vsock = -1 };
	int opt;
	bool in_time;

	while ((opt = getopt(argc, argv, "u:b:i:t:")) != -1) {
		switch (opt) {
		case 'u':
			h.uds = optarg;
			break;
		case 'b':
			h.broadcast = optarg;
			break;
		case 'i':
			h.input_bytes = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 't':
			h.timeout_s = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: %s [-u UDS] [-b BROADCAST] [-i N] [-t SECONDS] -- KILN ARGS...\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	h.deadline = now_s() + h.timeout_s;
	if (spawn(&h, argv + optind) < 0) {
		fprintf(stderr, "hostile_host: cannot start %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	if (h.input_bytes > 0)
		send_input(&h);
	in_time = relay(&h);
	return finish(&h, in_time);
}
