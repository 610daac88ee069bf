// SPDX-License-Identifier: Apache-2.0
/*
 * stopwatch: runs a virtual machine monitor the same way for every monitor and measures it from the
 * outside, so that kiln and QEMU are timed by one clock and one rule. Used by bench/bench.sh (on this
 * machine) and bench/linux.sh (inside the KVM test host).
 *
 *   stopwatch [-m STR]... [-s] [-k] [-g KIB] [-t MS] [-o FILE] -- CMD...
 *       Runs CMD once (stdin /dev/null, stdout and stderr into one pipe). Prints one line:
 *         status=N exit_ms=X cpu_ms=X maxrss_kb=N m1_ms=X ... [sample fields]
 *       exit_ms: from just before fork to the child's exit. m<i>_ms: to the first output line that
 *       starts with the i-th -m string (NA when none did). cpu_ms, maxrss_kb: the child's rusage,
 *       with that of every process it left running when it exited (stopwatch is their subreaper
 *       and waits for them after the exit: kiln leaves KVM's teardown to such a child).
 *       -s: when the first marker arrives, samples the child: cpu_ready_ms (its CPU clock, dead
 *       threads included), hwm_kb and rss_kb (/proc/PID/status), pss_kb (smaps_rollup), guest_kb
 *       (Rss of the mappings, or adjacent anonymous ones, whose size is exactly -g KIB: the guest's
 *       RAM).
 *       -k: SIGKILL the child after that sample (an idle guest never exits on its own).
 *       -t MS: SIGKILL the child after MS milliseconds (status=timeout). -o: copy the output there.
 *   stopwatch rate -j J -d SECONDS [-e STATUS] -- CMD...
 *       Keeps J copies of CMD running (output to /dev/null) for SECONDS; prints
 *         vms=N failed=F secs=S vms_per_s=R
 *       counting the runs that ended inside the window with exit status STATUS (default 0).
 *   stopwatch idle -n N -m STR [-g KIB] [-t MS] -- CMD...
 *       Starts N copies, waits until each has printed STR, samples each one's memory, kills them all;
 *       prints n=N ready=R rss_kb=SUM pss_kb=SUM guest_kb=SUM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MARKS 4
#define MAX_CHILDREN 64
#define LINE_MAX_BYTES 4096

struct child {
	pid_t pid;
	int out;         /* read end of its stdout+stderr pipe, -1 once at EOF */
	int pidfd;       /* readable when it exits */
	char line[LINE_MAX_BYTES];
	size_t len;
	double mark_ms[MAX_MARKS]; /* < 0: not seen */
};

struct sample {
	double cpu_ms;
	long hwm_kb, rss_kb, pss_kb, guest_kb;
};

static const char *marks[MAX_MARKS];
static int nmarks;
static FILE *copy_to;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("stopwatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Starts argv with stdin from /dev/null and stdout+stderr into a pipe (or /dev/null when !pipe_out). */
static void spawn(struct child *c, char **argv, bool pipe_out)
{
	int p[2] = { -1, -1 };

	if (pipe_out && pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	c->pid = fork();
	if (c->pid < 0)
		die("fork: %s", strerror(errno));
	if (c->pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(pipe_out ? p[1] : null, 1);
		dup2(pipe_out ? p[1] : null, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "stopwatch: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pipe_out) {
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
	}
	c->out = p[0];
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd < 0)
		die("pidfd_open: %s", strerror(errno));
	c->len = 0;
	for (int i = 0; i < MAX_MARKS; i++)
		c->mark_ms[i] = -1;
}

/* A marker matches a line that starts with it (after any carriage returns): a kernel that echoes
 * its command line ("... kiln.run=echo,READY") must not pass for the command's own output. */
static void check_line(struct child *c, double t)
{
	const char *l = c->line;

	c->line[c->len] = '\0';
	while (*l == '\r')
		l++;
	for (int i = 0; i < nmarks; i++)
		if (c->mark_ms[i] < 0 && strncmp(l, marks[i], strlen(marks[i])) == 0)
			c->mark_ms[i] = t;
	c->len = 0;
}

/* Reads what the child printed; returns whether the first marker was seen during this call. */
static bool drain(struct child *c, double t0)
{
	char buf[4096];
	bool had = c->mark_ms[0] >= 0;
	ssize_t n = -1;

	while (c->out >= 0 && (n = read(c->out, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				die("read: %s", strerror(errno));
			break;
		}
		double t = now_ms() - t0;

		if (copy_to)
			fwrite(buf, 1, (size_t)n, copy_to);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || c->len == LINE_MAX_BYTES - 1)
				check_line(c, t);
			if (buf[i] != '\n')
				c->line[c->len++] = buf[i];
		}
	}
	if (n == 0) {
		if (c->len)
			check_line(c, now_ms() - t0);
		close(c->out);
		c->out = -1;
	}
	return !had && c->mark_ms[0] >= 0;
}

/* The value of "Key:" in a /proc file, in kB; -1 when absent (the process has gone). */
static long proc_kb(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

#define MAX_RUN 64

/* Of the adjacent anonymous mappings in size[0..n) and rss[0..n), the Rss of those that together span
 * exactly guest_kb. */
static long run_guest_rss(const long *size, const long *rss, int n, long guest_kb)
{
	long sum = 0;

	for (int i = 0; i < n; i++) {
		long span = 0, in = 0;
		int j = i;

		while (j < n && span < guest_kb) {
			span += size[j];
			in += rss[j++];
		}
		if (span == guest_kb) {
			sum += in;
			i = j - 1;
		}
	}
	return sum;
}

/*
 * Rss of the guest's RAM, in kB: the mappings whose Size is exactly guest_kb, or adjacent anonymous
 * mappings that together are (a monitor may advise parts of its RAM differently, which splits the
 * mapping: kiln's first 2 MiB of small pages).
 */
static long guest_rss_kb(pid_t pid, long guest_kb)
{
	char path[64], line[512];
	long size[MAX_RUN], rss[MAX_RUN], sum = 0;
	unsigned long start, end, prev_end = 0;
	int n = 0;
	bool anon = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char perms[8];
		unsigned long inode;
		int name = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %n", &start, &end, perms, &inode, &name) >= 4 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			/* A mapping's first line: anonymous when it has no inode and no name. */
			bool next_anon = inode == 0 && (name == 0 || line[name] == '\0' || line[name] == '\n');

			if (!next_anon || start != prev_end || n == MAX_RUN) {
				sum += run_guest_rss(size, rss, n, guest_kb);
				n = 0;
			}
			anon = next_anon;
			prev_end = end;
			if (anon) {
				size[n] = (long)((end - start) >> 10);
				rss[n++] = 0;
			}
		} else if (anon && n > 0 && strncmp(line, "Rss:", 4) == 0) {
			rss[n - 1] = strtol(line + 4, NULL, 10);
		}
	}
	sum += run_guest_rss(size, rss, n, guest_kb);
	fclose(f);
	return sum;
}

static bool take_sample(pid_t pid, long guest_kb, struct sample *s)
{
	clockid_t clk;
	struct timespec ts;

	if (clock_getcpuclockid(pid, &clk) != 0 || clock_gettime(clk, &ts) != 0)
		return false;
	s->cpu_ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
	s->hwm_kb = proc_kb(pid, "status", "VmHWM");
	s->rss_kb = proc_kb(pid, "status", "VmRSS");
	s->pss_kb = proc_kb(pid, "smaps_rollup", "Pss");
	s->guest_kb = guest_kb > 0 ? guest_rss_kb(pid, guest_kb) : 0;
	return s->hwm_kb >= 0 && s->rss_kb >= 0 && s->pss_kb >= 0 && s->guest_kb >= 0;
}

static int wait_status(pid_t pid, struct rusage *ru)
{
	int st;

	while (wait4(pid, &st, 0, ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static double cpu_ms_of(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
}

/* Reaps the processes the child left behind (reparented to us, the subreaper): their CPU and peak. */
static void reap_orphans(double *cpu_ms, long *maxrss_kb)
{
	struct rusage ru;
	int st;

	for (;;) {
		if (wait4(-1, &st, 0, &ru) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				die("wait4: %s", strerror(errno));
			return;
		}
		*cpu_ms += cpu_ms_of(&ru);
		if (ru.ru_maxrss > *maxrss_kb)
			*maxrss_kb = ru.ru_maxrss;
	}
}

static int cmd_once(int argc, char **argv)
{
	bool want_sample = false, kill_after = false, sampled = false, timed_out = false;
	long guest_kb = 0;
	double limit_ms = 0, t0, exit_ms = -1, cpu_ms;
	long maxrss_kb;
	struct sample s = { 0 };
	struct child c;
	struct rusage ru;
	int opt, status;

	while ((opt = getopt(argc, argv, "+m:skg:t:o:")) != -1) {
		switch (opt) {
		case 'm':
			if (nmarks == MAX_MARKS)
				die("at most %d -m", MAX_MARKS);
			marks[nmarks++] = optarg;
			break;
		case 's': want_sample = true; break;
		case 'k': kill_after = true; break;
		case 'g': guest_kb = atol(optarg); break;
		case 't': limit_ms = atof(optarg); break;
		case 'o':
			copy_to = fopen(optarg, "w");
			if (!copy_to)
				die("%s: %s", optarg, strerror(errno));
			break;
		default: die("bad option (see the comment at the top of stopwatch.c)");
		}
	}
	if (optind >= argc)
		die("no command");
	if ((want_sample || kill_after) && nmarks == 0)
		die("-s and -k need a -m marker");

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	t0 = now_ms();
	spawn(&c, argv + optind, true);
	while (exit_ms < 0) {
		struct pollfd p[2] = { { .fd = c.out, .events = POLLIN }, { .fd = c.pidfd, .events = POLLIN } };
		int wait = -1;

		if (limit_ms > 0) {
			double left = limit_ms - (now_ms() - t0);

			if (left <= 0) {
				kill(c.pid, SIGKILL);
				timed_out = true;
				limit_ms = 0;
				continue;
			}
			wait = (int)left + 1;
		}
		if (poll(p, 2, wait) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		/* Output first: a line written just before the exit counts before it. */
		if (drain(&c, t0) && (want_sample || kill_after)) {
			if (want_sample)
				sampled = take_sample(c.pid, guest_kb, &s);
			if (kill_after)
				kill(c.pid, SIGKILL);
		}
		if (p[1].revents & POLLIN)
			exit_ms = now_ms() - t0;
	}
	status = wait_status(c.pid, &ru);
	drain(&c, t0);
	cpu_ms = cpu_ms_of(&ru);
	maxrss_kb = ru.ru_maxrss;
	reap_orphans(&cpu_ms, &maxrss_kb);
	if (timed_out)
		printf("status=timeout");
	else
		printf("status=%d", status);
	printf(" exit_ms=%.3f cpu_ms=%.3f maxrss_kb=%ld", exit_ms, cpu_ms, maxrss_kb);
	for (int i = 0; i < nmarks; i++) {
		if (c.mark_ms[i] >= 0)
			printf(" m%d_ms=%.3f", i + 1, c.mark_ms[i]);
		else
			printf(" m%d_ms=NA", i + 1);
	}
	if (want_sample) {
		if (sampled)
			printf(" cpu_ready_ms=%.3f hwm_kb=%ld rss_kb=%ld pss_kb=%ld guest_kb=%ld", s.cpu_ms,
			       s.hwm_kb, s.rss_kb, s.pss_kb, s.guest_kb);
		else
			printf(" cpu_ready_ms=NA hwm_kb=NA rss_kb=NA pss_kb=NA guest_kb=NA");
	}
	printf("\n");
	return 0;
}

static int cmd_rate(int argc, char **argv)
{
	int jobs = 2, expect = 0, opt, running = 0, ok = 0, failed = 0;
	double secs = 5, t0, end;
	struct child c[MAX_CHILDREN];

	while ((opt = getopt(argc, argv, "+j:d:e:")) != -1) {
		switch (opt) {
		case 'j': jobs = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'e': expect = atoi(optarg); break;
		default: die("bad option (see the comment at the top of stopwatch.c)");
		}
	}
	if (optind >= argc || jobs < 1 || jobs > MAX_CHILDREN || secs <= 0)
		die("rate: -j 1..%d -d SECONDS -- CMD", MAX_CHILDREN);
	t0 = now_ms();
	end = t0 + secs * 1e3;
	for (int i = 0; i < jobs; i++)
		spawn(&c[running++], argv + optind, false);
	while (running > 0) {
		struct pollfd p[MAX_CHILDREN];

		for (int i = 0; i < running; i++)
			p[i] = (struct pollfd){ .fd = c[i].pidfd, .events = POLLIN };
		if (poll(p, (nfds_t)running, -1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (int i = running - 1; i >= 0; i--) {
			if (!(p[i].revents & POLLIN))
				continue;
			double t = now_ms();
			struct rusage ru;
			int st = wait_status(c[i].pid, &ru);

			close(c[i].pidfd);
			if (t <= end) {
				if (st == expect)
					ok++;
				else
					failed++;
				spawn(&c[i], argv + optind, false);
			} else {
				c[i] = c[--running];
			}
		}
	}
	printf("vms=%d failed=%d secs=%.3f vms_per_s=%.3f\n", ok, failed, secs, ok / secs);
	return 0;
}

static int cmd_idle(int argc, char **argv)
{
	int n = 20, opt, ready = 0;
	long guest_kb = 0, rss = 0, pss = 0, guest = 0;
	double limit_ms = 60000, t0;
	struct child *c;

	while ((opt = getopt(argc, argv, "+n:m:g:t:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'm': marks[0] = optarg; nmarks = 1; break;
		case 'g': guest_kb = atol(optarg); break;
		case 't': limit_ms = atof(optarg); break;
		default: die("bad option (see the comment at the top of stopwatch.c)");
		}
	}
	if (optind >= argc || n < 1 || n > MAX_CHILDREN || nmarks != 1)
		die("idle: -n 1..%d -m STR -- CMD", MAX_CHILDREN);
	c = calloc((size_t)n, sizeof(*c));
	if (!c)
		die("out of memory");
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		spawn(&c[i], argv + optind, true);
	while (ready < n && now_ms() - t0 < limit_ms) {
		struct pollfd p[MAX_CHILDREN];

		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = c[i].out, .events = POLLIN };
		if (poll(p, (nfds_t)n, 100) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		ready = 0;
		for (int i = 0; i < n; i++) {
			drain(&c[i], t0);
			ready += c[i].mark_ms[0] >= 0;
		}
	}
	for (int i = 0; i < n; i++) {
		struct sample s;

		if (c[i].mark_ms[0] >= 0 && take_sample(c[i].pid, guest_kb, &s)) {
			rss += s.rss_kb;
			pss += s.pss_kb;
			guest += s.guest_kb;
		}
	}
	for (int i = 0; i < n; i++) {
		struct rusage ru;

		kill(c[i].pid, SIGKILL);
		wait_status(c[i].pid, &ru);
	}
	printf("n=%d ready=%d rss_kb=%ld pss_kb=%ld guest_kb=%ld\n", n, ready, rss, pss, guest);
	return ready == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "rate") == 0)
		return cmd_rate(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "idle") == 0)
		return cmd_idle(argc - 1, argv + 1);
	return cmd_once(argc, argv);
}
