/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/api_cmd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/config_file.h"
#include "api/server.h"
#include "api/vmm.h"
#include "cli/common_opts.h"
#include "cli/sandbox.h"
#include "cli/terminal.h"

#define CONFIG_FILE_MAX (1 << 20)
#define MAX_PAYLOAD_LIMIT (16u << 20)

enum { OPT_API_SOCK = CLI_OPT_OWN, OPT_CONFIG_FILE, OPT_NO_API, OPT_ID, OPT_MAX_PAYLOAD };

static const struct option api_options[] = {
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "config-file", required_argument, NULL, OPT_CONFIG_FILE },
	{ "no-api", no_argument, NULL, OPT_NO_API },
	{ "id", required_argument, NULL, OPT_ID },
	{ "http-api-max-payload-size", required_argument, NULL, OPT_MAX_PAYLOAD },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* Firecracker's instance ids: 1 to 64 alphanumeric characters or '-'. */
static bool valid_id(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-')
			return false;
	return true;
}

static int parse_payload_size(const char *s, size_t *out)
{
	char *end;

	errno = 0;
	unsigned long n = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end || errno || n == 0 || n > MAX_PAYLOAD_LIMIT)
		return -EINVAL;
	*out = n;
	return 0;
}

static int parse_api_option(int opt, const char *arg, bool *no_api, struct cli_options *o, char *err, size_t errlen)
{
	switch (opt) {
	case OPT_API_SOCK:
		o->api_sock = arg;
		return 0;
	case OPT_CONFIG_FILE:
		o->config_file = arg;
		return 0;
	case OPT_NO_API:
		*no_api = true;
		return 0;
	case OPT_ID:
		o->instance_id = arg;
		return valid_id(arg) ? 0 : fail_einval(err, errlen, "--id %s: 1 to 64 letters, digits or '-'",
						       arg);
	case OPT_MAX_PAYLOAD:
		if (parse_payload_size(arg, &o->api_max_payload) < 0)
			return fail_einval(err, errlen,
					   "--http-api-max-payload-size %s: a byte count from 1 to %u", arg,
					   MAX_PAYLOAD_LIMIT);
		return 0;
	default:
		return cli_common_option(opt, arg, o, err, errlen);
	}
}

void api_cmd_defaults(struct cli_options *o)
{
	o->instance_id = API_DEFAULT_ID;
	o->api_max_payload = API_MAX_PAYLOAD;
}

int api_cmd_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
	bool no_api = false;
	int opt;

	o->action = CLI_API;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", api_options, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return fail_einval(err, errlen, "%s: unknown option or missing value (see kiln --help)",
					   argv[optind - 1]);
		int rc = parse_api_option(opt, optarg, &no_api, o, err, errlen);
		if (rc < 0 || o->action == CLI_HELP)
			return rc;
	}
	if (optind < argc)
		return fail_einval(err, errlen, "unexpected argument '%s' (see kiln --help)", argv[optind]);
	if (no_api && o->api_sock)
		return fail_einval(err, errlen, "--no-api and --api-sock contradict each other");
	if (!o->api_sock && !o->config_file)
		return fail_einval(err, errlen,
				   "--api-sock PATH or --config-file FILE is required (see kiln --help)");
	return 0;
}

/* The main thread's state in this mode. */
struct api_cmd {
	struct api_vmm vmm;
	struct api_server server;
	bool serving;
	int signal_fd;
	int stop_signal;
	bool vm_running;      /* InstanceStart succeeded: the terminal is raw, the thread filtered */
	int sandbox_error;    /* -errno: the filter could not be installed; kiln stops the VM and exits */
	struct api_action config_actions[API_CONFIG_MAX_ACTIONS]; /* --config-file's, parsed */
};

/*
 * Once InstanceStart has built and started the VM, the guest owns the console (the terminal goes
 * raw, as with `kiln run`) and the main thread takes its seccomp filter. Not earlier: before the
 * VM exists there is no guest to fear, and building it needs most of what a filter would forbid
 * (opening /dev/kvm, images and taps, every KVM ioctl, threads), so a pre-boot list would be
 * nearly everything; only the post-boot work (cli/sandbox.h) is worth a tight one.
 */
static int on_vm_running(struct api_cmd *c)
{
	c->vm_running = true;
	terminal_make_raw(STDIN_FILENO);
	int rc = cli_sandbox_main_thread();
	if (rc < 0) {
		c->sandbox_error = rc;
		kiln_vm_stop(c->vmm.vm);
	}
	return rc;
}

/* Applies a request; the one that made the VM (InstanceStart, a snapshot load) also starts the above. */
static void apply(void *ctx, const struct api_action *a, struct api_reply *r)
{
	struct api_cmd *c = ctx;

	api_vmm_apply(&c->vmm, a, r);
	if (c->vmm.vm && !c->vm_running && on_vm_running(c) < 0) {
		api_reply_free(r);
		api_reply_fault(r, "Start microvm error: the main thread's seccomp filter: %s",
				strerror(-c->sandbox_error));
	}
}

/*
 * `kiln run --api-sock` and `kiln restore`: the VM comes from the command line, not from requests.
 * Errors: one line, kiln's exit status (the main loop reports a filter that failed).
 */
static int start_cli_vm(struct api_cmd *c, const struct cli_options *o)
{
	struct kiln_error err = { "" };
	int rc = o->action == CLI_RESTORE ? api_vmm_restore_from(&c->vmm, o->snapshot, &o->restore, &err)
					  : api_vmm_boot(&c->vmm, &o->cfg, &err);

	if (rc < 0) {
		fprintf(stderr, "kiln: %s\n", err.msg);
		return EXIT_KILN_ERROR;
	}
	on_vm_running(c);
	return 0;
}

/*
 * The buffer for a file of st_size bytes: room for it and one byte more, so that a file that grew
 * since fstat is seen to have (and read again in a larger buffer). A size unknown in advance (a
 * pipe) gets the largest the file may have.
 */
static size_t read_buffer_size(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size >= CONFIG_FILE_MAX)
		return CONFIG_FILE_MAX + 1;
	return (size_t)st.st_size + 1;
}

/*
 * Reads a whole file of at most CONFIG_FILE_MAX bytes into a new buffer. The buffer is the file's
 * size, not the limit's, as a 1 MiB one would be mapped and unmapped again in each VM's process.
 */
static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0, cap = fd < 0 ? 0 : read_buffer_size(fd);
	char *buf = fd < 0 ? NULL : malloc(cap);
	ssize_t n = 1;
	int rc = fd < 0 ? -errno : buf == NULL ? -ENOMEM : 0;

	while (rc == 0 && n > 0 && got <= CONFIG_FILE_MAX) {
		if (got == cap) { /* the file grew: the limit's buffer */
			char *bigger = realloc(buf, CONFIG_FILE_MAX + 1);

			if (bigger == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = bigger;
			cap = CONFIG_FILE_MAX + 1;
		}
		n = read(fd, buf + got, cap - got);
		if (n > 0)
			got += (size_t)n;
	}
	if (rc == 0 && n < 0)
		rc = -errno;
	else if (rc == 0 && got > CONFIG_FILE_MAX)
		rc = -EFBIG;
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = got;
	return 0;
}

/*
 * Applies the config file's actions, InstanceStart last, as a client would send them. The actions
 * are c's (fresh zero pages): each touches only the pages of what it holds.
 */
static int boot_config_file(struct api_cmd *c, const char *path)
{
	char err[API_ERR_LEN];
	char *text = NULL;
	size_t len, n = 0;
	int rc = read_file(path, &text, &len);

	if (rc < 0)
		snprintf(err, sizeof(err), "%s", rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
	else
		rc = api_config_file_parse(text, len, c->config_actions, &n, err, sizeof(err));
	free(text);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct api_reply r;

		apply(c, &c->config_actions[i], &r);
		if (r.status >= 400) {
			snprintf(err, sizeof(err), "%s", r.fault);
			rc = -EINVAL;
		}
		api_reply_free(&r);
	}
	if (rc < 0)
		fprintf(stderr, "kiln: %s: %s\n", path, err);
	return rc;
}

static int open_signals(struct api_cmd *c)
{
	sigset_t set;

	/* Blocked in every thread (kiln's threads start later and inherit it), read from a signalfd. */
	api_stop_signals(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	c->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return c->signal_fd < 0 ? -errno : 0;
}

static int take_signal(struct api_cmd *c)
{
	struct signalfd_siginfo si;

	if (read(c->signal_fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/*
 * Serves until the guest ends (0) or a signal comes before it runs (128 + n). Sleeps in poll() on
 * signals, API requests and the VM's exit fd, waking otherwise only when metrics are due.
 */
static int main_loop(struct api_cmd *c)
{
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = c->signal_fd, .events = POLLIN },
			{ .fd = c->serving ? api_server_request_fd(&c->server) : -1, .events = POLLIN },
			{ .fd = c->vmm.vm ? kiln_vm_exit_fd(c->vmm.vm) : -1, .events = POLLIN },
		};

		if (poll(p, 3, api_vmm_tick_timeout_ms(&c->vmm, now_ns())) < 0 && errno != EINTR) {
			fprintf(stderr, "kiln: poll: %s\n", strerror(errno));
			return EXIT_KILN_ERROR;
		}
		int sig = p[0].revents ? take_signal(c) : 0;
		if (sig && c->vmm.vm == NULL)
			return 128 + sig;
		if (sig) {
			c->stop_signal = sig;
			kiln_vm_stop(c->vmm.vm);
		}
		if (p[1].revents)
			api_server_serve(&c->server, apply, c);
		if (c->sandbox_error) {
			fprintf(stderr, "kiln: the main thread's seccomp filter: %s\n", strerror(-c->sandbox_error));
			return EXIT_KILN_ERROR;
		}
		if (p[2].revents)
			return 0;
		api_vmm_tick(&c->vmm, now_ns());
	}
}

static int start(struct api_cmd *c, const struct cli_options *o)
{
	char err[API_ERR_LEN];
	int rc = open_signals(c);

	if (rc < 0) {
		fprintf(stderr, "kiln: signalfd: %s\n", strerror(-rc));
		return EXIT_KILN_ERROR;
	}
	if (o->api_sock) {
		rc = api_server_open(&c->server, o->api_sock, o->api_max_payload, err, sizeof(err));
		c->serving = true; /* api_server_close undoes even a partial open */
		if (rc == 0)
			rc = api_server_start(&c->server, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "kiln: --api-sock %s\n", err);
			return EXIT_KILN_ERROR;
		}
	}
	if (o->config_file && boot_config_file(c, o->config_file) < 0)
		return EXIT_KILN_ERROR;
	if (o->action == CLI_RUN || o->action == CLI_RESTORE)
		return start_cli_vm(c, o);
	return 0;
}

int api_cmd_run(const struct cli_options *o, struct kiln_exit *e, int *stop_signal)
{
	/*
	 * Fresh anonymous pages, zero until written: calloc would clear all ~0.5 MiB where the heap
	 * already holds memory (it does by now), touching every page of the API's unused path buffers
	 * and config actions in each VM's process (api/vmm.h).
	 */
	struct api_cmd *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (c == MAP_FAILED) {
		fprintf(stderr, "kiln: out of memory\n");
		return EXIT_KILN_ERROR;
	}
	c->signal_fd = -1;
	api_vmm_init(&c->vmm, &(struct api_vmm_options){ .id = o->instance_id, .default_boot_args = DEFAULT_CMDLINE,
							 .console_in_fd = STDIN_FILENO,
							 .console_out_fd = STDOUT_FILENO });
	int rc = start(c, o);
	if (rc == 0)
		rc = main_loop(c);
	if (rc == 0)
		kiln_vm_wait(c->vmm.vm, e);
	if (c->serving)
		api_server_close(&c->server);
	if (c->vm_running)
		terminal_restore();
	api_vmm_destroy_before_exit(&c->vmm); /* the process exits next, with the guest's status */
	if (c->signal_fd >= 0)
		close(c->signal_fd);
	*stop_signal = c->stop_signal;
	munmap(c, sizeof(*c));
	return rc;
}
