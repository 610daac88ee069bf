// SPDX-License-Identifier: Apache-2.0
/*
 * sockchat: talks to a monitor's control socket (kiln's HTTP API, QEMU's QMP) as a script of sends
 * and waits, and times each answer. Used by bench/snapshot.sh for the snapshot rows of `make bench`,
 * on this machine and inside the KVM test host.
 *
 *   sockchat -u SOCKET [-t MS] [-f TEXT]... [-o FILE] -- STEP...
 *       Connects to the Unix socket SOCKET, retrying every millisecond while it is missing or refuses
 *       (a monitor still starting), then runs the steps in order:
 *         >TEXT  sends TEXT; the escapes \r, \n and \\ are expanded
 *         <TEXT  waits until TEXT arrives (in what came after the previous wait's match)
 *       Prints one line:
 *         status=ok|timeout|fail|closed connect_ms=X w1_ms=X w2_ms=X ...
 *       w<i>_ms: the i-th wait, from just before the send before it (from the connection when no send
 *       came before it), NA when it did not complete. status: ok, all steps done; timeout, -t MS
 *       (default 60000) ran out, counted from the start; fail, a -f TEXT arrived (an error answer);
 *       closed, the monitor closed the connection. Exit status 0 for ok, 1 otherwise.
 *       -o FILE: a copy of everything received.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_FAILS 4
#define BUF_BYTES 65536

struct chat {
	int fd;
	double t0, limit_ms;
	const char *fails[MAX_FAILS];
	int nfails;
	FILE *copy_to;
	char buf[BUF_BYTES + 1]; /* what arrived after the previous match, NUL-terminated */
	size_t len;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: sockchat -u SOCKET [-t MS] [-f TEXT]... [-o FILE] -- STEP... "
			"(see the comment at the top of sockchat.c)\n");
	exit(2);
}

/* Connects to path, retrying while it is missing or refuses; the fd, or -1 when time ran out. */
static int sock_connect(const char *path, const struct chat *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const struct timespec ms = { 0, 1000000 };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sockchat: %s: too long a socket path\n", path);
		exit(2);
	}
	strcpy(sa.sun_path, path);
	while (now_ms() - c->t0 < c->limit_ms) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			fprintf(stderr, "sockchat: socket: %s\n", strerror(errno));
			exit(2);
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		int err = errno;

		close(fd);
		if (err != ENOENT && err != ECONNREFUSED) {
			fprintf(stderr, "sockchat: %s: %s\n", path, strerror(err));
			exit(2);
		}
		nanosleep(&ms, NULL);
	}
	return -1;
}

/* TEXT with \r, \n and \\ expanded, written whole; 0, or -1 when the connection broke. */
static int chat_send(struct chat *c, const char *text)
{
	size_t n = strlen(text), len = 0, off = 0;
	char *out = malloc(n + 1);

	if (!out) {
		fprintf(stderr, "sockchat: out of memory\n");
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\\' && i + 1 < n && strchr("rn\\", text[i + 1])) {
			i++;
			out[len++] = text[i] == 'r' ? '\r' : text[i] == 'n' ? '\n' : '\\';
		} else {
			out[len++] = text[i];
		}
	}
	while (off < len) {
		ssize_t w = send(c->fd, out + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			free(out);
			return -1;
		}
		off += (size_t)w;
	}
	free(out);
	return 0;
}

/* Waits for text; returns "ok", "timeout", "fail" or "closed". What follows the match stays in buf. */
static const char *chat_wait(struct chat *c, const char *text)
{
	size_t tlen = strlen(text);

	for (;;) {
		char *hit = strstr(c->buf, text);

		if (hit) {
			size_t rest = c->len - (size_t)(hit + tlen - c->buf);

			memmove(c->buf, hit + tlen, rest + 1);
			c->len = rest;
			return "ok";
		}
		for (int i = 0; i < c->nfails; i++)
			if (strstr(c->buf, c->fails[i]))
				return "fail";
		/* Full and no match: keep only a tail that may still begin one. */
		if (c->len == BUF_BYTES) {
			size_t keep = tlen < BUF_BYTES ? tlen : BUF_BYTES / 2;

			memmove(c->buf, c->buf + c->len - keep, keep + 1);
			c->len = keep;
		}
		double left = c->limit_ms - (now_ms() - c->t0);

		if (left <= 0)
			return "timeout";
		struct pollfd p = { .fd = c->fd, .events = POLLIN };

		if (poll(&p, 1, (int)left + 1) < 0 && errno != EINTR)
			return "closed";
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t r = recv(c->fd, c->buf + c->len, BUF_BYTES - c->len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return "closed";
		if (c->copy_to)
			fwrite(c->buf + c->len, 1, (size_t)r, c->copy_to);
		/* A NUL in the answer would end strstr early; no monitor sends one, so it is dropped. */
		for (ssize_t i = 0; i < r; i++)
			if (c->buf[c->len + (size_t)i] == '\0')
				c->buf[c->len + (size_t)i] = ' ';
		c->len += (size_t)r;
		c->buf[c->len] = '\0';
	}
}

/* Runs the steps; w[i] is the i-th wait's time (< 0: not done). Returns the status. */
static const char *chat_run(struct chat *c, char **steps, int n, double *w)
{
	double since = now_ms();
	int waits = 0;

	for (int i = 0; i < n; i++) {
		if (steps[i][0] == '>') {
			since = now_ms();
			if (chat_send(c, steps[i] + 1) < 0)
				return "closed";
			continue;
		}
		const char *status = chat_wait(c, steps[i] + 1);

		if (strcmp(status, "ok") != 0)
			return status;
		w[waits++] = now_ms() - since;
	}
	return "ok";
}

int main(int argc, char **argv)
{
	static struct chat c = { .limit_ms = 60000 };
	const char *path = NULL, *status;
	double connected, *w;
	int opt, nsteps, nwaits = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "+u:t:f:o:")) != -1) {
		switch (opt) {
		case 'u': path = optarg; break;
		case 't': c.limit_ms = atof(optarg); break;
		case 'f':
			if (c.nfails == MAX_FAILS)
				usage();
			c.fails[c.nfails++] = optarg;
			break;
		case 'o':
			c.copy_to = fopen(optarg, "w");
			if (!c.copy_to) {
				fprintf(stderr, "sockchat: %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			break;
		default: usage();
		}
	}
	nsteps = argc - optind;
	if (!path || nsteps <= 0 || c.limit_ms <= 0)
		usage();
	for (int i = optind; i < argc; i++) {
		if (argv[i][0] != '<' && argv[i][0] != '>')
			usage();
		nwaits += argv[i][0] == '<';
	}
	w = calloc((size_t)nwaits + 1, sizeof(*w));
	if (!w)
		return 2;
	for (int i = 0; i < nwaits; i++)
		w[i] = -1;

	c.t0 = now_ms();
	c.fd = sock_connect(path, &c);
	if (c.fd < 0) {
		printf("status=timeout connect_ms=NA\n");
		return 1;
	}
	connected = now_ms();
	status = chat_run(&c, argv + optind, nsteps, w);
	printf("status=%s connect_ms=%.3f", status, connected - c.t0);
	for (int i = 0; i < nwaits; i++) {
		if (w[i] >= 0)
			printf(" w%d_ms=%.3f", i + 1, w[i]);
		else
			printf(" w%d_ms=NA", i + 1);
	}
	printf("\n");
	if (c.copy_to)
		fclose(c.copy_to);
	close(c.fd);
	free(w);
	return strcmp(status, "ok") == 0 ? 0 : 1;
}
