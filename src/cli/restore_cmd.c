/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clones: N guests from one snapshot without N times its set-up. The parent reads and checks the
 * state file and opens the memory file once (kiln_snapshot_open), then forks; each child restores
 * its own VM from its copy of that handle (a KVM VM belongs to the process that created it), mapping
 * the same memory file MAP_PRIVATE, so the pages clones only read stay in the page cache once. The
 * parent runs no guest: it forwards SIGINT, SIGTERM and SIGHUP to the clones and prints one line
 * for each as it ends.
 */
#include "cli/restore_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The flags whose values a clone gets its own of: each of them may hold %i. */
#define MAX_VALUES (KILN_MAX_NETS + KILN_MAX_DISKS + 5)

struct clone_value {
	const char **value; /* the option's field in struct cli_options */
	const char *flag;
};

struct clone {
	pid_t pid;
	int status;
	bool ended;
};

/*
 * s with "%i" as index and "%%" as '%', into out (outlen bytes, NUL included; out may be NULL
 * with 0): the expansion's length, as snprintf gives it, or -1 when a '%' starts anything else.
 * *has_index: whether s holds "%i".
 */
static int expand(const char *s, unsigned int index, char *out, size_t outlen, bool *has_index)
{
	size_t len = 0;

	*has_index = false;
	for (; *s; s++) {
		char digits[16];
		const char *piece = digits;

		if (*s != '%') {
			digits[0] = *s;
			digits[1] = '\0';
		} else if (s[1] == 'i') {
			snprintf(digits, sizeof(digits), "%u", index);
			*has_index = true;
			s++;
		} else if (s[1] == '%') {
			piece = "%";
			s++;
		} else {
			return -1;
		}
		for (; *piece; piece++, len++)
			if (len + 1 < outlen)
				out[len] = *piece;
	}
	if (outlen > 0)
		out[len < outlen ? len : outlen - 1] = '\0';
	return len > INT_MAX ? -1 : (int)len;
}

static unsigned int clone_values(struct cli_options *o, struct clone_value *v)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < o->restore.n_net_overrides; k++)
		v[n++] = (struct clone_value){ &o->restore.net_overrides[k].tap, "--net-tap" };
	for (unsigned int k = 0; k < o->restore.n_disk_overrides; k++)
		v[n++] = (struct clone_value){ &o->restore.disk_overrides[k].path, "--disk-path" };
	v[n++] = (struct clone_value){ &o->restore.vsock_uds_path, "--vsock-uds" };
	v[n++] = (struct clone_value){ &o->api_sock, "--api-sock" };
	v[n++] = (struct clone_value){ &o->console_in, "--console-in" };
	v[n++] = (struct clone_value){ &o->console_out, "--console-out" };
	v[n++] = (struct clone_value){ &o->log_file, "--log-file" };
	return n;
}

/* Whether value (a flag's, maybe NULL) names something else in each clone. */
static bool per_clone(const char *value)
{
	bool has_index = false;

	return value && expand(value, 0, NULL, 0, &has_index) >= 0 && has_index;
}

/* Every value expands, for the last clone (the longest index) too, to a path that fits. */
static int check_syntax(struct cli_options *o, char *err, size_t errlen)
{
	struct clone_value v[MAX_VALUES];
	unsigned int n = clone_values(o, v);
	bool has_index;

	for (unsigned int k = 0; k < n; k++) {
		const char *s = *v[k].value;
		int len = s ? expand(s, o->clones - 1, NULL, 0, &has_index) : 0;

		if (len < 0)
			return fail_einval(err, errlen, "%s %s: a '%%' starts %%i (the clone's index) or %%%% (a '%%')",
					   v[k].flag, s);
		if (len >= PATH_MAX)
			return fail_einval(err, errlen, "%s %s: too long for clone %u", v[k].flag, s, o->clones - 1);
	}
	return 0;
}

/* The tap --net-tap gives the NIC with this id, or NULL. */
static const char *net_override(const struct cli_options *o, const char *id)
{
	for (unsigned int k = 0; k < o->restore.n_net_overrides; k++)
		if (strcmp(o->restore.net_overrides[k].id, id) == 0)
			return o->restore.net_overrides[k].tap;
	return NULL;
}

static const char *disk_override(const struct cli_options *o, const char *id)
{
	for (unsigned int k = 0; k < o->restore.n_disk_overrides; k++)
		if (strcmp(o->restore.disk_overrides[k].id, id) == 0)
			return o->restore.disk_overrides[k].path;
	return NULL;
}

/*
 * What a guest holds alone must be each clone's own: a tap takes one VM, a writable disk shared
 * would be corrupted, and a socket or an output file would be taken or overwritten by the next
 * clone. Their values must hold %i. (Inputs and the log may be shared.)
 */
static int check_owned(const struct cli_options *o, const struct kiln_config *saved, char *err, size_t errlen)
{
	char id[KILN_MAX_NET_ID + 1];

	if (o->clones < 2)
		return 0;
	for (unsigned int i = 0; i < saved->nnets; i++) {
		if (saved->nets[i].id)
			snprintf(id, sizeof(id), "%s", saved->nets[i].id);
		else
			snprintf(id, sizeof(id), "net%u", i);
		if (!per_clone(net_override(o, id)))
			return fail_einval(err, errlen, "--clones %u: NIC %s would be on one tap in every clone: give "
					   "each its own (--net-tap %s=TAP%%i)", o->clones, id, id);
	}
	for (unsigned int i = 0; i < saved->ndisks; i++) {
		const char *disk = kiln_disk_id(saved, i, id);

		if (!saved->disks[i].read_only && !per_clone(disk_override(o, disk)))
			return fail_einval(err, errlen, "--clones %u: every clone would write disk %s (%s): give each "
					   "its own copy (--disk-path %s=PATH%%i)", o->clones, disk,
					   saved->disks[i].path, disk);
	}
	if (saved->vsock.guest_cid && !per_clone(o->restore.vsock_uds_path))
		return fail_einval(err, errlen, "--clones %u: every clone's vsock device would listen on %s: give "
				   "each its own (--vsock-uds PATH%%i)", o->clones, saved->vsock.uds_path);
	if (o->api_sock && !per_clone(o->api_sock))
		return fail_einval(err, errlen, "--api-sock %s: one socket for %u clones: put %%i in it",
				   o->api_sock, o->clones);
	if (o->console_out && !per_clone(o->console_out))
		return fail_einval(err, errlen, "--console-out %s: one file for %u clones: put %%i in it",
				   o->console_out, o->clones);
	return 0;
}

/* path opened with flags (created 0600) as fd target. */
static int redirect_one(int target, const char *flag, const char *path, int flags, char *err, size_t errlen)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return fail_with(err, errlen, -errno, "%s %s: %s", flag, path, strerror(errno));
	/* dup2 leaves the target without O_CLOEXEC, as a standard stream has it. */
	if (dup2(fd, target) < 0)
		rc = fail_with(err, errlen, -errno, "%s %s: %s", flag, path, strerror(errno));
	close(fd);
	return rc;
}

/* The log first, so what goes wrong later lands there. A clone reads no one's stdin unless told to. */
static int redirect(const struct cli_options *o, bool clone, char *err, size_t errlen)
{
	const char *in = o->console_in ? o->console_in : clone ? "/dev/null" : NULL;
	int rc = 0;

	if (o->log_file)
		rc = redirect_one(STDERR_FILENO, "--log-file", o->log_file, O_WRONLY | O_CREAT | O_APPEND, err, errlen);
	if (rc == 0 && in)
		rc = redirect_one(STDIN_FILENO, "--console-in", in, O_RDONLY, err, errlen);
	if (rc == 0 && o->console_out)
		rc = redirect_one(STDOUT_FILENO, "--console-out", o->console_out, O_WRONLY | O_CREAT | O_TRUNC, err,
				  errlen);
	return rc;
}

/* A child: clone index's values, its streams, its guest; then its exit status is the process's. */
__attribute__((noreturn)) static void clone_main(struct cli_options *o, unsigned int index,
						 struct kiln_snapshot *snap, uint64_t start_ns,
						 restore_cmd_guest_fn run_guest)
{
	static char values[MAX_VALUES][PATH_MAX]; /* this process's: the parent's copy is untouched */
	struct clone_value v[MAX_VALUES];
	unsigned int n = clone_values(o, v);
	bool has_index;
	char err[512];
	int status = EXIT_KILN_ERROR;

	for (unsigned int k = 0; k < n; k++)
		if (*v[k].value) {
			/* check_syntax made sure each expands and fits. */
			expand(*v[k].value, index, values[k], sizeof(values[k]), &has_index);
			*v[k].value = values[k];
		}
	if (redirect(o, true, err, sizeof(err)) < 0)
		fprintf(stderr, "kiln: clone %u: %s\n", index, err);
	else
		status = run_guest(o, start_ns);
	kiln_snapshot_close(snap);
	exit(status);
}

/* "kiln: clone I (pid P): ..." for a clone that ended with wait status ws; its exit status is kept. */
static void clone_ended(struct clone *c, unsigned int index, int ws)
{
	c->ended = true;
	if (WIFSIGNALED(ws)) {
		c->status = 128 + WTERMSIG(ws);
		fprintf(stderr, "kiln: clone %u (pid %d): killed by signal %d: status %d\n", index, (int)c->pid,
			WTERMSIG(ws), c->status);
	} else {
		c->status = WEXITSTATUS(ws);
		fprintf(stderr, "kiln: clone %u (pid %d): exit status %d\n", index, (int)c->pid, c->status);
	}
}

/* Until every clone has ended: stop signals are passed on to the clones still running. */
static void wait_clones(struct clone *c, unsigned int n, const sigset_t *signals)
{
	unsigned int left = n;

	while (left > 0) {
		int sig = sigwaitinfo(signals, NULL);
		pid_t pid;
		int ws;

		if (sig > 0 && sig != SIGCHLD)
			for (unsigned int i = 0; i < n; i++)
				if (!c[i].ended)
					kill(c[i].pid, sig);
		/* Signals coalesce: one SIGCHLD may stand for several children. */
		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
			for (unsigned int i = 0; i < n; i++)
				if (c[i].pid == pid && !c[i].ended) {
					clone_ended(&c[i], i, ws);
					left--;
				}
	}
}

static int run_clones(struct cli_options *o, struct kiln_snapshot *snap, uint64_t start_ns,
		      restore_cmd_guest_fn run_guest)
{
	/* Static, not allocated: a child would inherit an allocation it never frees (a leak to LSan). */
	static struct clone c[RESTORE_MAX_CLONES];
	sigset_t signals, old;
	unsigned int started = 0;
	int rc = 0;

	memset(c, 0, sizeof(c[0]) * o->clones);
	/* Blocked before the first fork, so that no clone's end or signal is missed; sigwaitinfo takes them. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGCHLD);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &signals, &old);
	fflush(NULL); /* nothing buffered is written twice, by a child too */
	for (; started < o->clones; started++) {
		pid_t pid = fork();

		if (pid == 0) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			clone_main(o, started, snap, start_ns, run_guest);
		}
		if (pid < 0) {
			fprintf(stderr, "kiln: clone %u: fork: %s\n", started, strerror(errno));
			rc = EXIT_KILN_ERROR;
			break;
		}
		c[started].pid = pid;
	}
	kiln_snapshot_close(snap); /* the clones have their copies */
	for (unsigned int i = 0; rc != 0 && i < started; i++)
		kill(c[i].pid, SIGTERM);
	wait_clones(c, started, &signals);
	for (unsigned int i = 0; rc == 0 && i < started; i++)
		rc = c[i].status;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int restore_cmd_run(struct cli_options *o, uint64_t start_ns, restore_cmd_guest_fn run_guest)
{
	struct kiln_error kerr = { "" };
	struct kiln_snapshot *snap;
	char err[512];
	int rc = o->clones ? check_syntax(o, err, sizeof(err)) : 0;

	if (rc < 0) {
		fprintf(stderr, "kiln: %s\n", err);
		return EXIT_KILN_ERROR;
	}
	if (kiln_snapshot_open(o->restore.state_path, o->restore.mem_path, &snap, &kerr) < 0) {
		fprintf(stderr, "kiln: %s\n", kerr.msg);
		return EXIT_KILN_ERROR;
	}
	o->snapshot = snap;
	rc = o->clones ? check_owned(o, kiln_snapshot_config(snap), err, sizeof(err))
		       : redirect(o, false, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "kiln: %s\n", err);
		kiln_snapshot_close(snap);
		return EXIT_KILN_ERROR;
	}
	if (o->clones)
		return run_clones(o, snap, start_ns, run_guest);
	rc = run_guest(o, start_ns);
	kiln_snapshot_close(snap);
	return rc;
}
