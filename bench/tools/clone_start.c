// SPDX-License-Identifier: Apache-2.0
/*
 * clone_start: how long N clones of one snapshot take to start, measured from outside: the time
 * from just before the first fork to each clone's first console byte after its restore, and the
 * CPU all the processes used until then. Used by bench/clones.sh.
 *
 *   clone_start -n N -- CMD...            N copies of CMD at once ("%i" in an argument: the copy's
 *                                         index), each one's stdout a pipe of its own
 *   clone_start -n N -f PATTERN -- CMD... one CMD that starts N clones itself, clone i writing its
 *                                         console to the FIFO PATTERN with %i as i (made here)
 * -e FILE: the commands' stderr is appended to FILE (else /dev/null).
 * -m PREFIX: a clone has started at its first line that begins with PREFIX, not at its first byte
 *            (a fresh Linux boot prints the kernel's lines before the guest's program speaks).
 * -x CMD: once every clone has started, CMD runs (sh -c, its output on stdout) before any is
 *         stopped: to look at them while all are up. CLONE_START_PID in its environment is this
 *         process's pid (the parent of every CMD).
 * Once every clone has printed (or after -t MS, default 60000), each CMD gets SIGTERM and is
 * waited for. Prints one line:
 *   n=N started=K median_ms=X max_ms=X cpu_ms=X cmd_cpu_ms=X
 * cpu_ms: user + system time of every process waited for (CMD, and the clones it waited for),
 * guests included; cmd_cpu_ms: with -f, CMD's main thread's own (not its clones'), read when the
 * last clone printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_N 256

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "clone_start: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* s with each "%i" replaced by i (a new string). */
static char *with_index(const char *s, int i)
{
	char *out = malloc(strlen(s) + 16), *p = out;

	if (out == NULL)
		die("malloc");
	for (; *s; s++) {
		if (s[0] == '%' && s[1] == 'i') {
			p += sprintf(p, "%d", i);
			s++;
		} else {
			*p++ = *s;
		}
	}
	*p = '\0';
	return out;
}

static int err_fd = -1; /* -e FILE, or -1 */

/* Starts argv with stdin /dev/null, stdout out_fd (-1: /dev/null) and stderr err_fd (or /dev/null). */
static pid_t spawn(char **argv, int out_fd)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid > 0)
		return pid;
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(out_fd >= 0 ? out_fd : null, 1);
	dup2(err_fd >= 0 ? err_fd : null, 2);
	execvp(argv[0], argv);
	_exit(127);
}

/*
 * The CPU time of process pid's main thread (the first field of /proc/PID/schedstat, in ns: finer
 * than stat's clock ticks), in ms; -1 if unknown. kiln's --clones parent has no other thread.
 */
static double own_cpu_ms(pid_t pid)
{
	char path[64];
	unsigned long long ns;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	int got = fscanf(f, "%llu", &ns);
	fclose(f);
	return got == 1 ? (double)ns / 1e6 : -1;
}

/*
 * Whether buf, a clone's next output, completes a line that begins with prefix; *col carries the
 * clone's current line from one call to the next: how many of its bytes match prefix, -1 if one
 * did not. A clone resumed in the middle of a line matches nothing before that line's end.
 */
static int line_starts_with(const char *prefix, int *col, const char *buf, ssize_t len)
{
	size_t plen = strlen(prefix);

	for (ssize_t k = 0; k < len; k++) {
		if (buf[k] == '\n')
			*col = 0;
		else if (*col >= 0 && buf[k] != prefix[*col])
			*col = -1;
		else if (*col >= 0 && (size_t)++*col == plen)
			return 1;
	}
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = 0, opt, timeout_ms = 60000;
	const char *pattern = NULL, *prefix = NULL, *hook = NULL;
	int col[MAX_N] = { 0 };
	struct pollfd fds[MAX_N];
	double first[MAX_N];
	pid_t pids[MAX_N];
	int npids = 0;

	while ((opt = getopt(argc, argv, "+n:f:t:e:m:x:")) != -1) {
		if (opt == 'e' && (err_fd = open(optarg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
			die(optarg);
		if (opt == 'e')
			continue;
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'f')
			pattern = optarg;
		else if (opt == 't')
			timeout_ms = atoi(optarg);
		else if (opt == 'm')
			prefix = optarg;
		else if (opt == 'x')
			hook = optarg;
		else
			return 2;
	}
	if (n < 1 || n > MAX_N || optind >= argc) {
		fprintf(stderr, "usage: clone_start -n N [-f FIFO_PATTERN] [-t MS] [-e FILE] [-m PREFIX] [-x CMD] -- CMD...\n");
		return 2;
	}
	char **cmd = &argv[optind];
	int ncmd = argc - optind;
	double t0;

	if (pattern) {
		for (int i = 0; i < n; i++) {
			char *path = with_index(pattern, i);
			unlink(path);
			if (mkfifo(path, 0600) < 0)
				die(path);
			/* Read side first, non-blocking: the clone's open for writing then neither blocks nor fails. */
			fds[i] = (struct pollfd){ .fd = open(path, O_RDONLY | O_NONBLOCK), .events = POLLIN };
			if (fds[i].fd < 0)
				die(path);
			free(path);
		}
		t0 = now_ms();
		pids[npids++] = spawn(cmd, -1);
	} else {
		t0 = now_ms();
		for (int i = 0; i < n; i++) {
			char **args = calloc((size_t)ncmd + 1, sizeof(*args));
			int p[2];

			if (args == NULL || pipe2(p, O_CLOEXEC) < 0)
				die("pipe");
			for (int k = 0; k < ncmd; k++)
				args[k] = with_index(cmd[k], i);
			pids[npids++] = spawn(args, p[1]);
			close(p[1]);
			fds[i] = (struct pollfd){ .fd = p[0], .events = POLLIN };
		}
	}
	int started = 0;
	for (int i = 0; i < n; i++)
		first[i] = -1;
	while (started < n && now_ms() - t0 < timeout_ms) {
		if (poll(fds, (nfds_t)n, 100) < 0 && errno != EINTR)
			die("poll");
		for (int i = 0; i < n; i++) {
			char buf[4096];
			ssize_t got;

			if (!(fds[i].revents & (POLLIN | POLLHUP)))
				continue;
			got = read(fds[i].fd, buf, sizeof(buf));
			int spoke = got > 0 && (!prefix || line_starts_with(prefix, &col[i], buf, got));
			if (spoke) {
				first[i] = now_ms() - t0;
				started++;
			}
			/*
			 * Polled no more once it spoke (or a pipe ended) but left open: a clone writing to a
			 * FIFO without a reader would get SIGPIPE. A FIFO not yet opened by its clone reads 0.
			 */
			if (spoke || (got == 0 && !pattern))
				fds[i].fd = ~fds[i].fd;
		}
	}
	double cmd_cpu = pattern ? own_cpu_ms(pids[0]) : -1;
	if (hook && started == n) {
		char self[16];

		snprintf(self, sizeof(self), "%d", (int)getpid());
		if (setenv("CLONE_START_PID", self, 1) < 0)
			die("setenv");
		fflush(stdout);
		if (system(hook) != 0)
			fprintf(stderr, "clone_start: -x %s failed\n", hook);
	}
	for (int i = 0; i < npids; i++)
		kill(pids[i], SIGTERM);
	for (int i = 0; i < npids; i++)
		waitpid(pids[i], NULL, 0);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	double times[MAX_N];
	int k = 0;
	for (int i = 0; i < n; i++)
		if (first[i] >= 0)
			times[k++] = first[i];
	qsort(times, (size_t)k, sizeof(times[0]), by_value);
	printf("n=%d started=%d median_ms=%.1f max_ms=%.1f cpu_ms=%.1f cmd_cpu_ms=%.1f\n", n, k,
	       k ? (k % 2 ? times[k / 2] : (times[k / 2 - 1] + times[k / 2]) / 2) : -1.0, k ? times[k - 1] : -1.0, cpu,
	       cmd_cpu);
	if (pattern)
		for (int i = 0; i < n; i++) {
			char *path = with_index(pattern, i);
			unlink(path);
			free(path);
		}
	return k == n ? 0 : 1;
}
