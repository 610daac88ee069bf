/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading the seccomp filters: BPF programs compiled from io/seccomp.c's rule tables at build time
 * (tools/seccomp_bpf.c writes them into the generated io/seccomp_bpf.h), so that kiln neither links
 * libseccomp nor builds a filter each time a thread starts, as Firecracker's seccompiler does.
 */
#include "io/seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io/seccomp_bpf.h"

static _Thread_local const char *filtered_thread = "unfiltered";

/* Async-signal-safe: the decimal digits of v at the end of buf; returns where they start. */
static char *format_decimal(char *end, uint32_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

static void write_all(const char *text)
{
	(void)!write(STDERR_FILENO, text, strlen(text));
}

/*
 * SIGSYS from a thread's filter (SCMP_ACT_TRAP): names the syscall and the thread class on stderr
 * (what a user needs to report the gap), then the process ends by the same SIGSYS with its default
 * action. Only syscalls every allowlist has are used here: write, getpid, gettid, tgkill; SA_RESETHAND
 * already restored the default action, and the signal raised here stays blocked until the handler
 * returns.
 */
static void on_forbidden_syscall(int sig, siginfo_t *info, void *context)
{
	char digits[16];

	(void)context;
	digits[sizeof(digits) - 1] = '\0';
	write_all("kiln: seccomp: the ");
	write_all(filtered_thread);
	write_all(" thread made syscall ");
	write_all(format_decimal(digits + sizeof(digits) - 1, (uint32_t)info->si_syscall));
	write_all(", which is not on its allowlist (a kiln bug): stopping\n");
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
}

static int catch_forbidden_syscalls(void)
{
	struct sigaction sa = { .sa_sigaction = on_forbidden_syscall, .sa_flags = SA_SIGINFO | SA_RESETHAND };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) < 0 ? -errno : 0;
}

const struct seccomp_program *seccomp_program(enum seccomp_thread t)
{
#ifdef __SANITIZE_ADDRESS__
	if (t == SECCOMP_THREAD_MAIN)
		return &seccomp_bpf_main_sanitizer;
#endif
	return &seccomp_bpf[t];
}

int seccomp_install(enum seccomp_thread t)
{
#ifdef __SANITIZE_THREAD__
	/*
	 * The ThreadSanitizer build (make check-threads-tsan) hunts data races only: TSan's runtime
	 * makes syscalls that no thread's allowlist has, so it loads no filter. No other build does this.
	 */
	(void)t;
	return 0;
#endif
	const struct seccomp_program *p = seccomp_program(t);
	struct sock_fprog prog = { .len = p->len, .filter = (struct sock_filter *)p->insns };
	int rc = catch_forbidden_syscalls();

	if (rc < 0)
		return rc;
	filtered_thread = p->name;
	/*
	 * What libseccomp's seccomp_load does: no new privileges (which lets a process without
	 * CAP_SYS_ADMIN load a filter), then the filter, on this thread only (no TSYNC flag).
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

void seccomp_test_violation(enum seccomp_thread t)
{
#ifdef KILN_TEST_HOOKS
	const char *wanted = getenv("KILN_TEST_SECCOMP_VIOLATION");

	if (wanted && strcmp(wanted, seccomp_program(t)->name) == 0)
		syscall(SYS_getpgid, 0); /* on no allowlist (and on every architecture, unlike getpgrp): SIGSYS */
#else
	(void)t;
#endif
}
