// SPDX-License-Identifier: Apache-2.0
/*
 * kiln's guest init: PID 1 of the test guest's initramfs (tests/guest/build.sh).
 *
 * Mounts /proc /sys /dev /tmp /run, loads the modules listed in /etc/kiln/modules-RELEASE for the
 * kernel's release (uname(2); the initramfs carries the modules of two kernels, build.sh), in their
 * order (dependencies first) with finit_module(2), then runs what the kernel command line's `kiln.run=ARGS` asks, or an
 * interactive shell on the console without it. ARGS is the command's argv: each argument
 * percent-encoded (%XX, uppercase hex, for bytes outside [A-Za-z0-9._/:=+@^-]) and the arguments
 * joined with ','. The command gets the console as its controlling terminal, in a session that a
 * keeper process leads, so that its last output is not flushed when it exits (run()).
 *
 * kiln's debug port (debug_port.h; I/O ports 0xf4-0xf5 on x86, MMIO found in the device tree on arm64):
 * a byte written to its register 1 says "booted, about to run the command" (the boot-ready marker); a
 * byte written to register 0 is the command's exit status (shell-style: 128+signal when killed,
 * 127 not found, 126 not executable); kiln ends the VM there, so init drains the console and
 * syncs the disks first, and resets the machine only in case the port went unheard. Every
 * failure prints one line `kiln-init: ...` on the console.
 *
 * Ctrl-Alt-Del (kiln_vm_send_ctrl_alt_del, Firecracker's SendCtrlAltDel action) is a clean reboot.
 * init calls reboot(RB_DISABLE_CAD) first of all, so the kernel sends it SIGINT instead of
 * restarting on the spot. init then sends SIGTERM to every process (the command first of all),
 * SIGKILL to what is left after CAD_GRACE_SECONDS, waits for the command, syncs the disks, prints
 * `kiln-init: Ctrl-Alt-Del: ... rebooting` and resets the machine WITHOUT writing a status byte:
 * the command did not finish on its own, so there is no status of its to report, and a made-up one
 * (130) could not be told from a status the command exits with itself. kiln sees a reset
 * (KILN_EXIT_RESET, no status reported; the CLI exits 122 with `-- CMD`, 0 without), and the VM
 * ends there, as a Firecracker VM does when its guest reboots.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "debug_port.h"

#define MODULE_LIST "/etc/kiln/modules-"	/* + the kernel's release */
#define CMDLINE_KEY "kiln.run="
#define CAD_GRACE_SECONDS 5	/* after Ctrl-Alt-Del, how long processes have to end on SIGTERM */

static int have_ports;	/* debug_port_open() succeeded: the debug port can be written */
static volatile sig_atomic_t cad_pressed;	/* the kernel sent SIGINT: Ctrl-Alt-Del */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "kiln-init: ");

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	if (write(STDERR_FILENO, line, strlen(line)) < 0) {
		/* nowhere else to say it */
	}
}

static void mount_all(void)
{
	static const struct {
		const char *src, *dir, *type, *opts;
		unsigned long flags;
	} fs[] = {
		{ "proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
		{ "sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
		{ "devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID },
		{ "tmpfs", "/tmp", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV },
		{ "tmpfs", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV },
	};

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		if (mkdir(fs[i].dir, 0755) < 0 && errno != EEXIST)
			say("mkdir %s: %s", fs[i].dir, strerror(errno));
		if (mount(fs[i].src, fs[i].dir, fs[i].type, fs[i].flags, fs[i].opts) < 0)
			say("mount %s on %s: %s", fs[i].type, fs[i].dir, strerror(errno));
	}
}

/* Without a /dev/console in the initramfs the kernel starts init with no fds 0-2: open it now. */
static void open_console(void)
{
	if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
		return;
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;	/* say() cannot be heard either */
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void load_modules(void)
{
	char path[256], list_path[sizeof(MODULE_LIST) + sizeof(((struct utsname *)0)->release)];
	struct utsname un;
	FILE *list;

	if (uname(&un) < 0) {
		say("uname: %s", strerror(errno));
		return;
	}
	snprintf(list_path, sizeof(list_path), "%s%s", MODULE_LIST, un.release);
	list = fopen(list_path, "re");
	if (!list) {
		say("%s: %s", list_path, strerror(errno));
		return;
	}
	while (fgets(path, sizeof(path), list)) {
		path[strcspn(path, "\n")] = '\0';
		if (path[0] == '\0' || path[0] == '#')
			continue;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			say("warning: module %s: %s", path, strerror(errno));
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
			say("warning: loading module %s: %s", path, strerror(errno));
		close(fd);
	}
	fclose(list);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes one percent-encoded argument in place; -1 on a malformed escape or an encoded NUL. */
static int percent_decode(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		int hi = hex_digit(s[1]), lo = hi < 0 ? -1 : hex_digit(s[2]);
		if (lo < 0 || (hi | lo) == 0)
			return -1;
		*out++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*out = '\0';
	return 0;
}

/*
 * Finds kiln.run= in /proc/cmdline. Returns 0 and *argv = NULL when it is absent, 0 and the
 * decoded argv (NULL-terminated) when present, -1 (after saying why) when it cannot be used.
 */
static int parse_cmdline(char ***argv)
{
	static char buf[8192];
	char *tok, *save, *args = NULL;
	ssize_t n = 0, r;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	*argv = NULL;
	if (fd < 0) {
		say("/proc/cmdline: %s", strerror(errno));
		return -1;
	}
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
		if (strncmp(tok, CMDLINE_KEY, strlen(CMDLINE_KEY)) == 0)
			args = tok + strlen(CMDLINE_KEY);	/* the last one wins, as for the kernel */
	if (!args)
		return 0;
	if (*args == '\0') {
		say("kiln.run= names no command");
		return -1;
	}

	size_t argc = 1;
	for (const char *p = args; *p; p++)
		argc += *p == ',';
	char **v = calloc(argc + 1, sizeof(*v));
	if (!v) {
		say("out of memory");
		return -1;
	}
	for (size_t i = 0; i < argc; i++) {
		v[i] = args;
		args += strcspn(args, ",");
		if (*args)
			*args++ = '\0';
		if (percent_decode(v[i]) < 0) {
			say("kiln.run: bad percent-encoding in argument %zu", i);
			free(v);
			return -1;
		}
	}
	*argv = v;
	return 0;
}

/* SIGINT from the kernel's ctrl_alt_del(): ask every process but init to end (kill(-1) spares it). */
static void on_ctrl_alt_del(int sig)
{
	(void)sig;
	if (cad_pressed)
		return;
	cad_pressed = 1;
	kill(-1, SIGTERM);
	alarm(CAD_GRACE_SECONDS);
}

/* The grace period ran out: what is still running ends now. */
static void on_cad_grace_over(int sig)
{
	(void)sig;
	kill(-1, SIGKILL);
}

/* Ctrl-Alt-Del goes to init as SIGINT from now on, instead of restarting the machine at once. */
static void take_ctrl_alt_del(void)
{
	struct sigaction sa = { .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_ctrl_alt_del;
	if (sigaction(SIGINT, &sa, NULL) < 0)
		say("sigaction SIGINT: %s", strerror(errno));
	sa.sa_handler = on_cad_grace_over;
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		say("sigaction SIGALRM: %s", strerror(errno));
	if (reboot(RB_DISABLE_CAD) < 0)
		say("reboot(RB_DISABLE_CAD): %s", strerror(errno));
}

static void debug_port_say(unsigned int reg, unsigned char value)
{
	if (have_ports)
		debug_port_write(reg, value);
}

/*
 * /dev/console for the command. With console=hvc0 the console comes from virtio_console, whose
 * multiport handshake finishes in a kernel worker after the module has loaded: until then the open
 * fails with ENODEV. Wait for it, up to 5 s.
 */
static int open_command_console(void)
{
	for (int tries = 0;; tries++) {
		int fd = open("/dev/console", O_RDWR);

		if (fd >= 0 || errno != ENODEV || tries == 500)
			return fd;
		usleep(10000);
	}
}

/*
 * The signals the session's keeper ignores (see run): the terminal's (Ctrl-C, Ctrl-\, Ctrl-Z reach
 * the whole foreground process group, the keeper with the command), SIGTTOU (its tcdrain may come
 * while a process group of the command's is the foreground one) and SIGTERM (Ctrl-Alt-Del's
 * kill(-1): the keeper waits for the command to end on it and reports the command's status).
 */
static const int keeper_ignores[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTOU, SIGTERM };
#define N_KEEPER_IGNORES (sizeof(keeper_ignores) / sizeof(keeper_ignores[0]))

static void keeper_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < N_KEEPER_IGNORES; i++)
		sigaddset(set, keeper_ignores[i]);
}

static void keeper_dispositions(void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_KEEPER_IGNORES; i++)
		if (sigaction(keeper_ignores[i], &sa, NULL) < 0)
			say("sigaction %d: %s", keeper_ignores[i], strerror(errno));
}

/* Makes the console the caller's controlling terminal and its fds 0-2 (the caller leads a session). */
static void take_console(void)
{
	int fd = open_command_console();

	if (fd < 0) {
		say("/dev/console: %s", strerror(errno));
		return;
	}
	if (ioctl(fd, TIOCSCTTY, 1) < 0)
		say("TIOCSCTTY: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* A shell-style status: the exit status, or 128 + the signal that ended the process. */
static int shell_status(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/*
 * The session keeper's side of run(): runs cmd as its child with `old` as its signal mask, waits for
 * it, drains the console and returns the command's shell-style status. Called with the keeper's
 * signals blocked (keeper_signals).
 */
static int keep_session(char **cmd, const sigset_t *old)
{
	int status;
	pid_t pid;

	keeper_dispositions(SIG_IGN);
	pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return 125;
	}
	if (pid == 0) {
		keeper_dispositions(SIG_DFL);	/* SIG_IGN would outlive the exec */
		sigprocmask(SIG_SETMASK, old, NULL);
		execvp(cmd[0], cmd);
		int err = errno;
		say("%s: %s", cmd[0], strerror(err));
		_exit(err == ENOENT ? 127 : 126);
	}
	sigprocmask(SIG_SETMASK, old, NULL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			say("waitpid: %s", strerror(errno));
			return 125;
		}
	}
	if (tcdrain(STDOUT_FILENO) < 0 && errno != ENOTTY)
		say("tcdrain: %s", strerror(errno));
	return shell_status(status);
}

/*
 * Runs argv (or the shell) on the console as a new session; returns its shell-style status.
 *
 * The command does not lead the session: a keeper process does, and exits only once the console
 * has drained. When a session leader exits, the kernel hangs up its controlling terminal
 * (disassociate_ctty -> tty_vhangup_session), and the hangup throws away what the tty driver still
 * holds (tty_ldisc_hangup -> tty_driver_flush_buffer; for the 8250 UART, uart_flush_buffer): the
 * command's last output, written into the driver's 4 KiB transmit buffer but not yet moved to the
 * UART, would never reach it. The 8250 driver moves those bytes in its transmit interrupt. On one
 * CPU, with kiln's UART (never busy, so the interrupt comes back at once) that interrupt keeps the
 * CPU until the buffer is empty, before the command's exit can go on; on an SMP guest it runs on the
 * CPU the interrupt is routed to while the command exits on another: `nproc` on 4 vCPUs lost its
 * line in 2 boots of 64, a 4000-byte line printed on CPU 1 with the interrupt on CPU 0 lost all but
 * 0-128 bytes every time (linux.sh). No monitor sees those bytes, and any init that execs the
 * command as a session leader with the serial console as its terminal loses them alike, on any
 * VMM or on hardware.
 */
static int run(char **argv)
{
	static char *shell[] = { "sh", NULL };
	char **cmd = argv ? argv : shell;
	sigset_t keeper_set, old;
	int status;
	pid_t pid, w;

	/* Blocked until the keeper ignores them: until then it has init's SIGINT handler. */
	keeper_signals(&keeper_set);
	sigprocmask(SIG_BLOCK, &keeper_set, &old);
	pid = fork();
	if (pid == 0) {
		setsid();
		take_console();
		_exit(keep_session(cmd, &old));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return 125;
	}
	/* PID 1 also reaps every orphan that the command leaves behind. */
	while ((w = waitpid(-1, &status, 0)) != pid) {
		if (w < 0 && errno != EINTR) {
			say("waitpid: %s", strerror(errno));
			return 125;
		}
	}
	return shell_status(status);
}

/* Every byte out on the console and every written block on the disks. */
static void drain_and_sync(void)
{
	if (tcdrain(STDOUT_FILENO) < 0 && errno != ENOTTY)
		say("tcdrain: %s", strerror(errno));
	sync();
}

/* The end after Ctrl-Alt-Del: a clean reboot, no status (see the top of this file). */
static void reboot_for_ctrl_alt_del(int ran, int status)
{
	alarm(0);
	drain_and_sync();
	if (ran)
		say("Ctrl-Alt-Del: the command ended (status %d), disks synced, rebooting", status);
	else
		say("Ctrl-Alt-Del: disks synced, rebooting");
	drain_and_sync();
}

int main(void)
{
	char **argv;
	const char *what;
	int status = 0, ran = 0, rc;

	open_console();
	mount_all();
	open_console();
	take_ctrl_alt_del();
	load_modules();

	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
	setenv("HOME", "/root", 1);
	if (chdir("/root") < 0 && chdir("/") < 0)
		say("chdir /: %s", strerror(errno));

	rc = debug_port_open(&what);
	if (rc < 0)
		say("debug port: %s: %s", what, strerror(-rc));
	else
		have_ports = 1;

	if (parse_cmdline(&argv) < 0) {
		status = 127;
	} else if (!cad_pressed) {
		debug_port_say(DEBUG_PORT_READY, 1);
		status = run(argv);
		ran = 1;
	}

	if (cad_pressed) {
		reboot_for_ctrl_alt_del(ran, status);
	} else {
		/* kiln ends the VM at the status byte: the console and the disks come first. */
		drain_and_sync();
		debug_port_say(DEBUG_PORT_STATUS, (unsigned char)status);
	}
	reboot(RB_AUTOBOOT);
	say("reboot: %s", strerror(errno));
	for (;;)
		pause();
}
