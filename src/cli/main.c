/* SPDX-License-Identifier: Apache-2.0 */
/* kiln's command line: a thin client of libkiln (kiln.h), and the only place that exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "cli/api_cmd.h"
#include "cli/args.h"
#include "cli/restore_cmd.h"
#include "cli/sandbox.h"
#include "cli/snapshot_cmd.h"
#include "cli/terminal.h"
#include "log.h"
#include "util.h"

static struct kiln_vm *running_vm;
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	if (running_vm)
		kiln_vm_stop(running_vm);
}

static void install_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static double ms_since(uint64_t start_ns, uint64_t t_ns)
{
	return (double)(t_ns - start_ns) / 1e6;
}

/* The ms from start_ns to t_ns into buf, or "none" when t_ns (a moment kiln_exit records) never came. */
static const char *ms_or_none(char buf[32], uint64_t start_ns, uint64_t t_ns)
{
	if (!t_ns)
		return "none";
	snprintf(buf, 32, "%.1f", ms_since(start_ns, t_ns));
	return buf;
}

static void print_boot_time(uint64_t start_ns, const struct kiln_exit *e)
{
	char ready[32], run[32];

	fprintf(stderr, "kiln: boot-time: ready=%s ms exit=%.1f ms setup-cpu=%.2f ms first-run=%s ms\n",
		ms_or_none(ready, start_ns, e->boot_ready_ns), ms_since(start_ns, e->exit_ns),
		(double)e->setup_cpu_ns / 1e6, ms_or_none(run, start_ns, e->first_run_ns));
}

/* The process's exit status for how the VM ended (README, "Exit status"). */
static int exit_status(const struct cli_options *o, const struct kiln_exit *e)
{
	switch (e->reason) {
	case KILN_EXIT_STATUS:
	case KILN_EXIT_RESET:
	case KILN_EXIT_POWEROFF:
		if (e->status_reported)
			return e->guest_status;
		if (o->guest_argv) {
			fprintf(stderr, "kiln: the guest ended without reporting the command's status\n");
			return EXIT_GUEST_NO_STATUS;
		}
		return 0;
	case KILN_EXIT_PANIC:
		fprintf(stderr, "kiln: the guest kernel panicked\n");
		return EXIT_GUEST_PANICKED;
	case KILN_EXIT_CRASH:
		fprintf(stderr, "kiln: the guest crashed: %s\n", e->detail);
		return EXIT_GUEST_CRASHED;
	case KILN_EXIT_STOPPED:
		return 128 + (stop_signal ? stop_signal : SIGTERM);
	default:
		fprintf(stderr, "kiln: %s\n", e->detail[0] ? e->detail : "the VM failed");
		return EXIT_KILN_ERROR;
	}
}

/*
 * With a restore, the time to the guest's first run instead of its boot-ready marker (a restored
 * guest booted long ago).
 */
static void print_restore_time(uint64_t start_ns, const struct kiln_exit *e)
{
	char run[32];

	fprintf(stderr, "kiln: restore-time: run=%s ms exit=%.1f ms setup-cpu=%.2f ms\n",
		ms_or_none(run, start_ns, e->first_run_ns), ms_since(start_ns, e->exit_ns),
		(double)e->setup_cpu_ns / 1e6);
}

/* `kiln run`'s kernel command line into o->cfg: the default or --cmdline, and the guest command. */
static int run_cmdline(struct cli_options *o)
{
	const char *base = o->user_cmdline			    ? o->user_cmdline
			   : o->cfg.console == KILN_CONSOLE_VIRTIO ? DEFAULT_CMDLINE_VIRTIO_CONSOLE
			   : o->guest_argv			    ? DEFAULT_CMDLINE_QUIET
								    : DEFAULT_CMDLINE;

	if (cli_build_cmdline(base, o->guest_argv, o->guest_argc, o->buf.cmdline, sizeof(o->buf.cmdline)) < 0) {
		fprintf(stderr, "kiln: the guest command does not fit in the kernel command line (%d bytes)\n",
			KILN_MAX_CMDLINE - 1);
		return -E2BIG;
	}
	o->cfg.cmdline = o->buf.cmdline;
	return 0;
}

static int run(struct cli_options *o, uint64_t start_ns)
{
	struct kiln_error err = { "" };
	struct kiln_exit e;
	struct kiln_vm *vm;

	if (kiln_vm_create(&o->cfg, &vm, &err) < 0) {
		fprintf(stderr, "kiln: %s\n", err.msg);
		return EXIT_KILN_ERROR;
	}
	running_vm = vm;
	install_stop_signals();
	terminal_make_raw(o->cfg.console_in_fd);
	if (kiln_vm_start(vm, &err) < 0) {
		terminal_restore();
		fprintf(stderr, "kiln: %s\n", err.msg);
		kiln_vm_destroy(vm);
		return EXIT_KILN_ERROR;
	}
	/* From here on the main thread only waits, restores the terminal and tears down. */
	int rc = cli_sandbox_main_thread();
	if (rc < 0) {
		fprintf(stderr, "kiln: the main thread's seccomp filter: %s\n", strerror(-rc));
		kiln_vm_stop(vm);
	}
	kiln_vm_wait(vm, &e);
	terminal_restore();
	running_vm = NULL;
	kiln_vm_destroy_before_exit(vm); /* the process exits next, with the guest's status */
	if (rc < 0)
		return EXIT_KILN_ERROR;
	if (o->boot_time)
		print_boot_time(start_ns, &e);
	return exit_status(o, &e);
}

/*
 * The API process's loop (cli/api_cmd.c): Firecracker's command line, `kiln run --api-sock` and
 * `kiln restore`. The same exit statuses once a VM has run.
 */
static int run_api(const struct cli_options *o, uint64_t start_ns)
{
	struct kiln_exit e;
	int sig = 0;
	int rc = api_cmd_run(o, &e, &sig);

	if (rc != 0)
		return rc;
	stop_signal = sig;
	if (o->boot_time && o->action == CLI_RESTORE)
		print_restore_time(start_ns, &e);
	else if (o->boot_time)
		print_boot_time(start_ns, &e);
	return exit_status(o, &e);
}

int main(int argc, char **argv)
{
	/*
	 * Not on the stack: its 48 KiB of buffers would be touched there (stack-clash probes each page of
	 * a frame), where in .bss only the pages written are (args.h: struct cli_buffers).
	 */
	static struct cli_options o;
	uint64_t start_ns = now_ns();
	char err[256];

	if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "kiln: %s\n", err);
		return EXIT_KILN_ERROR;
	}
	if (o.action == CLI_HELP) {
		cli_usage(stdout);
		return 0;
	}
	if (o.action == CLI_VERSION) {
		printf("kiln %s\n", KILN_VERSION);
		return 0;
	}
	log_set_level(o.log_level);
	if (o.action == CLI_SNAPSHOT) /* a client of another kiln: this one touches no /dev/kvm */
		return snapshot_cmd_run(&o);
	if (o.action == CLI_SNAPSHOT_MERGE) /* files only */
		return merge_cmd_run(&o);
	const char *warning = kiln_host_warning();
	if (warning)
		fprintf(stderr, "kiln: warning: %s\n", warning);
	if (o.action == CLI_RUN && run_cmdline(&o) < 0)
		return EXIT_KILN_ERROR;
	if (o.action == CLI_RESTORE)
		return restore_cmd_run(&o, start_ns, run_api);
	if (o.action == CLI_API || o.api_sock)
		return run_api(&o, start_ns);
	return run(&o, start_ns);
}
