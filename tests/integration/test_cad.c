/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cad VMLINUZ INITRD [TIMEOUT_S]: Ctrl-Alt-Del end to end, through kiln.h only, as a control
 * plane would press it (Firecracker's `PUT /actions {"action_type": "SendCtrlAltDel"}`).
 *
 * Boots kiln's Linux test guest (tests/guest) running a command that waits until the guest has
 * the i8042's keyboard as an input device, prints a marker and sleeps; then presses Ctrl-Alt-Del
 * with kiln_vm_send_ctrl_alt_del and expects a clean reboot: the guest's init stops the command,
 * syncs and says so on the console, and the VM ends (kiln_vm_wait: RESET, or STATUS) within a
 * bound. Also checks that the call is refused (-EINVAL) unless the VM runs.
 *
 * TIMEOUT_S (default 300) bounds the boot and, separately, the reboot; inside the KVM test host
 * (software emulation) the guest boots in seconds. Prints `ok - NAME` / `not ok - NAME` lines and
 * `N passed, M failed`; exits 0, 1 on a failure, 77 (SKIP) without /dev/kvm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

#define READY_MARKER "kiln-cad-ready"
#define CLEAN_REBOOT_LINE "kiln-init: Ctrl-Alt-Del:"
/*
 * The guest's command, as kiln.run= arguments (percent-encoded, comma-separated): wait until the
 * kernel has registered the AT keyboard (atkbd probes it asynchronously), say so, and sleep.
 */
#define GUEST_SCRIPT                                                                               \
	"until grep -q 'AT Translated Set 2 keyboard' /proc/bus/input/devices; do sleep 0.1; done; " \
	"echo " READY_MARKER "; exec sleep 1000"
#define CMDLINE_BASE "console=ttyS0 reboot=k panic=-1 pci=off quiet loglevel=2 kiln.run=sh,-c,"

static int passed, failed;

static void check(int ok, const char *name)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

/* The guest's console, collected by a thread so that kiln never blocks on a full pipe. */
static struct {
	pthread_mutex_t lock;
	char buf[1 << 20];
	size_t len;
	int fd;
} console = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *console_reader(void *arg)
{
	char chunk[4096];
	ssize_t n;

	(void)arg;
	while ((n = read(console.fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		pthread_mutex_lock(&console.lock);
		size_t room = sizeof(console.buf) - 1 - console.len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(console.buf + console.len, chunk, take);
		console.len += take;
		console.buf[console.len] = '\0';
		pthread_mutex_unlock(&console.lock);
	}
	return NULL;
}

static int console_has(const char *s)
{
	pthread_mutex_lock(&console.lock);
	int found = strstr(console.buf, s) != NULL;
	pthread_mutex_unlock(&console.lock);
	return found;
}

/* Prints the console line that contains s, as a comment. */
static void console_print_line(const char *s)
{
	pthread_mutex_lock(&console.lock);
	const char *p = strstr(console.buf, s);
	if (p) {
		size_t n = strcspn(p, "\r\n");
		printf("#   %.*s\n", (int)n, p);
	}
	pthread_mutex_unlock(&console.lock);
}

static void console_dump_tail(void)
{
	pthread_mutex_lock(&console.lock);
	size_t start = console.len > 2000 ? console.len - 2000 : 0;
	printf("# the guest's console (last %zu bytes):\n", console.len - start);
	for (const char *p = console.buf + start; *p; p++) {
		if (p == console.buf + start || p[-1] == '\n')
			fputs("#   ", stdout);
		if (*p != '\r')
			putchar(*p);
	}
	putchar('\n');
	pthread_mutex_unlock(&console.lock);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* kiln.run's encoding: bytes outside [A-Za-z0-9._/:=+@^-] as %XX (see tests/guest/init.c). */
static void percent_encode(const char *s, char *out, size_t cap)
{
	static const char safe[] = "._/:=+@^-";
	size_t n = 0;

	for (; *s && n + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c && strchr(safe, c)))
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
	}
	out[n] = '\0';
}

/* The watchdog: a VM that has not ended within the bound is stopped (kiln_vm_stop is signal-safe). */
static struct kiln_vm *watched_vm;

static void on_alarm(int sig)
{
	(void)sig;
	if (watched_vm)
		kiln_vm_stop(watched_vm);
}

static const char *reason_name(enum kiln_exit_reason r)
{
	static const char *const names[] = { "?", "STATUS", "RESET", "POWEROFF", "PANIC",
					     "CRASH", "STOPPED", "ERROR" };

	return (unsigned int)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* Presses Ctrl-Alt-Del, retrying while the guest's keyboard driver is not listening yet. */
static int press_ctrl_alt_del(struct kiln_vm *vm, double deadline)
{
	int rc;

	while ((rc = kiln_vm_send_ctrl_alt_del(vm)) == -EAGAIN && now_s() < deadline)
		sleep_ms(100);
	return rc;
}

int main(int argc, char **argv)
{
	static char cmdline[KILN_MAX_CMDLINE];
	char script[1024];
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	struct kiln_vm *vm;
	struct kiln_exit e;
	pthread_t reader;
	int pipefd[2], rc;

	if (argc < 3 || argc > 4 || pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, "usage: test_cad VMLINUZ INITRD [TIMEOUT_S]\n");
		return 2;
	}
	int timeout = argc == 4 ? atoi(argv[3]) : 300;
	if (timeout <= 0)
		timeout = 300;
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("SKIP: /dev/kvm is not usable here (%s)\n", strerror(errno));
		return 77;
	}

	percent_encode(GUEST_SCRIPT, script, sizeof(script));
	snprintf(cmdline, sizeof(cmdline), "%s%s", CMDLINE_BASE, script);
	kiln_config_init(&cfg);
	cfg.kernel_path = argv[1];
	cfg.initrd_path = argv[2];
	cfg.cmdline = cmdline;
	cfg.mem_bytes = 512ull << 20;
	cfg.console_in_fd = -1;
	cfg.console_out_fd = pipefd[1];
	console.fd = pipefd[0];

	if (kiln_vm_create(&cfg, &vm, &err) < 0) {
		printf("not ok - the Linux guest is built (%s)\n0 passed, 1 failed\n", err.msg);
		return 1;
	}
	check(kiln_vm_send_ctrl_alt_del(vm) == -EINVAL, "refused before the VM starts");
	if (pthread_create(&reader, NULL, console_reader, NULL) != 0 || kiln_vm_start(vm, &err) < 0) {
		printf("not ok - the Linux guest starts (%s)\n%d passed, %d failed\n", err.msg, passed,
		       failed + 1);
		return 1;
	}
	watched_vm = vm;
	signal(SIGALRM, on_alarm);

	/* Booted, the keyboard registered, init waiting for its command. */
	double start = now_s(), deadline = start + timeout;
	while (!console_has(READY_MARKER) && kiln_vm_get_state(vm) == KILN_VM_RUNNING && now_s() < deadline)
		sleep_ms(50);
	check(console_has(READY_MARKER), "the guest boots and its kernel has the i8042 keyboard");
	printf("#   (%.1f s)\n", now_s() - start);

	check(kiln_vm_pause(vm) == 0 && kiln_vm_send_ctrl_alt_del(vm) == -EINVAL,
	      "refused while the VM is paused");
	check(kiln_vm_resume(vm) == 0, "the VM resumes");

	/* The press, and a clean reboot within the bound. */
	double pressed = now_s();
	rc = press_ctrl_alt_del(vm, pressed + 30);
	check(rc == 0, "kiln_vm_send_ctrl_alt_del succeeds on the running guest");
	alarm((unsigned int)timeout);
	rc = kiln_vm_wait(vm, &e);
	alarm(0);
	double took = now_s() - pressed;
	check(rc == 0 && (e.reason == KILN_EXIT_RESET || e.reason == KILN_EXIT_STATUS),
	      "the VM ends on its own (RESET or STATUS) after Ctrl-Alt-Del");
	if (rc == 0 && e.status_reported)
		printf("#   reason %s, status %d, %.1f s after the press\n", reason_name(e.reason), e.guest_status, took);
	else
		printf("#   reason %s, no status, %.1f s after the press\n", rc == 0 ? reason_name(e.reason) : "?", took);
	check(rc == 0 && e.reason != KILN_EXIT_STOPPED && took < timeout, "within the bound");

	check(kiln_vm_send_ctrl_alt_del(vm) == -EINVAL, "refused once the VM has stopped");
	/* kiln writes the console through its own handle on pipefd[1] until it is destroyed (kiln.h):
	 * only then does the reader see the end of the console. */
	kiln_vm_destroy(vm);
	close(pipefd[1]);
	pthread_join(reader, NULL);
	check(console_has(CLEAN_REBOOT_LINE) && console_has("rebooting"),
	      "the guest's init rebooted cleanly (its Ctrl-Alt-Del line is on the console)");
	console_print_line(CLEAN_REBOOT_LINE);
	if (failed)
		console_dump_tail();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
