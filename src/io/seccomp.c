/* SPDX-License-Identifier: Apache-2.0 */
#include "io/seccomp.h"
#include "arch/seccomp_arch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

struct syscall_rule {
	int nr;
	const char *why;
};

/*
 * A syscall allowed only when its argument number `arg` equals `value` in its low 32 bits: each
 * argument pinned here (open's flags, prctl's option, clone's flags, fcntl's and ioctl's command)
 * is one the kernel reads only the low 32 bits of, whatever the caller leaves in the upper half.
 */
struct syscall_arg_rule {
	int nr;
	unsigned int arg;
	scmp_datum_t value;
	const char *why;
};

/* Allowed by every thread: what libc, the allocator and thread exit need. */
static const struct syscall_rule common_rules[] = {
	{ SCMP_SYS(futex), "mutexes, condition variables, pthread_join" },
	{ SCMP_SYS(mmap), "malloc of large blocks" },
	{ SCMP_SYS(munmap), "free of large blocks, thread stack release" },
	{ SCMP_SYS(madvise), "glibc trims freed thread stacks and heaps" },
	{ SCMP_SYS(mprotect), "glibc arenas grow by changing protection" },
	{ SCMP_SYS(brk), "malloc of small blocks" },
	{ SCMP_SYS(write), "logs on stderr; console output, non-blocking (io/console_out.c: the UART's "
			   "byte on the vCPU thread, the rest on the I/O thread); eventfd signals" },
	{ SCMP_SYS(clock_gettime), "timestamps (when the vDSO falls back to the syscall)" },
	{ SCMP_SYS(rt_sigprocmask), "thread start and exit" },
	{ SCMP_SYS(rt_sigreturn), "return from the vCPU kick signal handler" },
	{ SCMP_SYS(restart_syscall), "the kernel resumes a sleep (epoll_wait, nanosleep, futex) that a "
				     "SIGSTOP/SIGCONT (job control, a debugger) interrupted" },
	{ SCMP_SYS(exit), "thread exit" },
	{ SCMP_SYS(sched_yield), "spinning locks in glibc" },
	{ SCMP_SYS(getpid), "pthread_kill" },
	{ SCMP_SYS(gettid), "logs and pthread internals" },
	{ SCMP_SYS(tgkill), "pthread_kill: kicking vCPUs out of KVM_RUN when the VM stops" },
	{ SCMP_SYS(epoll_ctl), "virtio backends watch or unwatch their fds when the driver (vCPU) "
			       "activates or resets them; the I/O thread pauses and resumes them; console "
			       "output waits for EPOLLOUT while its reader is full (any thread)" },
	{ SCMP_SYS(sigaltstack), "the sanitizers' per-thread signal stack, released at thread exit" },
};

/* The I/O thread: epoll, eventfds and the device backends. */
static const struct syscall_rule io_rules[] = {
	{ SCMP_SYS(epoll_wait), "the loop" },
	{ SCMP_SYS(epoll_pwait), "the loop (libc may use the p variant)" },
	{ SCMP_SYS(read), "eventfds, console input" },
	{ SCMP_SYS(readv), "console input straight into guest buffers" },
	{ SCMP_SYS(writev), "virtio-net: frames to the tap straight from guest buffers" },
	{ SCMP_SYS(getrandom), "virtio-rng" },
	{ SCMP_SYS(accept4), "virtio-vsock: host clients of the Unix socket" },
	{ SCMP_SYS(recvfrom), "virtio-vsock: the CONNECT line (peeked, then read)" },
	{ SCMP_SYS(sendmsg), "virtio-vsock: guest data and the OK line; console output to a socket "
			     "(MSG_DONTWAIT: a socket's description is shared, kiln cannot reopen it)" },
	{ SCMP_SYS(socket), "virtio-vsock: guest connections to <uds>_<port>" },
	{ SCMP_SYS(connect), "virtio-vsock: guest connections to <uds>_<port>" },
	{ SCMP_SYS(shutdown), "virtio-vsock: a half-closed connection" },
	{ SCMP_SYS(close), "virtio-vsock: connections that ended" },
};

/*
 * A virtio-blk disk's worker (io/loop.h: io_loop_add_worker): its queue's kicks, the disk's I/O, the
 * used ring and the interrupt (write, in common_rules). The I/O thread does no disk I/O.
 */
static const struct syscall_rule blk_rules[] = {
	{ SCMP_SYS(poll), "the worker's loop: the loop's stop fd, its quiesce fd, the queue's kick fd" },
	{ SCMP_SYS(ppoll), "the same (libc may use the p variant)" },
	{ SCMP_SYS(read), "the kick and quiesce eventfds" },
	{ SCMP_SYS(preadv), "virtio-blk reads" },
	{ SCMP_SYS(pwritev), "virtio-blk writes" },
	{ SCMP_SYS(pread64), "virtio-blk reads (libc's preadv of one iovec may use it)" },
	{ SCMP_SYS(pwrite64), "virtio-blk writes (libc's pwritev of one iovec may use it)" },
	{ SCMP_SYS(fdatasync), "virtio-blk FLUSH, and writes on a writethrough disk" },
	{ SCMP_SYS(fallocate), "virtio-blk DISCARD and WRITE_ZEROES" },
};

/*
 * The API thread: kiln's HTTP server on the API socket (api/server.c: accept4 gives non-blocking
 * sockets, and Unix sockets get no TCP options: no fcntl, no setsockopt), an eventfd to wake the
 * main thread. It never opens a file or touches KVM: the main thread applies the requests that do.
 */
static const struct syscall_rule api_rules[] = {
	{ SCMP_SYS(poll), "the API thread's loop: the stop eventfd (never read), the listening socket, the clients" },
	{ SCMP_SYS(ppoll), "the same (libc may use the p variant)" },
	{ SCMP_SYS(accept4), "accepting API clients" },
	{ SCMP_SYS(recvfrom), "requests (recv)" },
	{ SCMP_SYS(sendto), "replies (send)" },
	{ SCMP_SYS(shutdown), "a closing connection's sending side, before its input is drained (api/server.c)" },
	{ SCMP_SYS(close), "closing a client's connection" },
	{ SCMP_SYS(getrandom), "json-c seeds its hash tables once, at the first object it parses" },
};

/*
 * The main thread once its VM runs (installed by the CLI, never by libkiln: kiln.h). In `kiln run`
 * it waits for the VM; in the API process it also applies the post-boot actions (pause, resume,
 * PATCH /drives, metrics, Ctrl-Alt-Del). Then it tears everything down. It never creates a thread,
 * a VM or a socket, and opens files only for PATCH /drives (main_arg_rules).
 */
static const struct syscall_rule main_rules[] = {
	{ SCMP_SYS(poll), "the API process's main loop: signalfd, request eventfd, the VM's exit fd; "
			  "the end and a snapshot: console output still queued waits for its reader "
			  "(io/console_out.c)" },
	{ SCMP_SYS(read), "the API process's signalfd and request eventfd" },
	{ SCMP_SYS(newfstatat), "PATCH /drives: the new image's type (fstat); a snapshot: each disk's size "
				"(stat); at the end, the API socket file before it is unlinked (stat)" },
	{ SCMP_SYS(lseek), "PATCH /drives: the new image's size" },
	{ SCMP_SYS(fdatasync), "PATCH /drives and the end: a writable image's writes reach it before close" },
	{ SCMP_SYS(close), "PATCH /drives: the replaced image; at the end, every fd of the VM and the API" },
	{ SCMP_SYS(unlink), "the end: the vsock and API socket files; a failed snapshot's temporary file" },
	{ SCMP_SYS(sendmsg), "the end and a snapshot: console output still queued for a socket (MSG_DONTWAIT)" },
	{ SCMP_SYS(rt_sigtimedwait), "the end and a snapshot: the SIGPIPE of console output to a reader "
				     "that went away is taken off the thread (io/console_out.c)" },
	{ SCMP_SYS(exit_group), "the end: kiln returns from main" },
	{ SCMP_SYS(pipe2), "the end: the pipe that lets the child holding the VM's fd go (vm_release.c)" },
	{ SCMP_SYS(close_range), "the end: that child closes every fd but the VM's and the pipe's" },
	{ SCMP_SYS(getrandom), "json-c seeds its hash tables once, at the first object: in `kiln run "
			       "--api-sock` and `kiln restore --api-sock` a GET's reply may be the first" },
	{ SCMP_SYS(ftruncate), "a snapshot: the memory file takes the guest's RAM size, holes where it is zero" },
	{ SCMP_SYS(pwrite64), "a snapshot: the memory file's runs of non-zero pages" },
	{ SCMP_SYS(pread64), "a Full snapshot of a booted guest: /proc/self/pagemap, its RAM's pages ever "
			     "populated (mem/pagemap.h)" },
	{ SCMP_SYS(fsync), "a snapshot: both files and the state file's directory reach the disk" },
	{ SCMP_SYS(rename), "a snapshot: each file replaces its name only once complete" },
};

/*
 * openat(2)'s flags pinned: PATCH /drives opens an existing image, and can create or truncate nothing;
 * a snapshot creates its files only as new, unique temporaries (mkostemp: O_EXCL), renamed into place.
 * fcntl(2) only sets file status flags.
 */
static const struct syscall_arg_rule main_arg_rules[] = {
	{ SCMP_SYS(openat), 2, O_RDONLY | O_CLOEXEC, "PATCH /drives: a read-only image; a Full snapshot: "
							 "/proc/self/pagemap" },
	{ SCMP_SYS(openat), 2, O_RDWR | O_CLOEXEC, "PATCH /drives: a writable image" },
	{ SCMP_SYS(openat), 2, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	  "a snapshot: the state and memory files' temporaries (mkostemp)" },
	{ SCMP_SYS(openat), 2, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	  "a snapshot: the state file's directory, synced so that its rename survives a crash" },
	{ SCMP_SYS(clone), 0, CLONE_VM | SIGCHLD, "the end: a child process takes KVM's teardown of the VM "
						  "(vm_release.c: clone's flags pinned, a process, not a thread)" },
	{ SCMP_SYS(fcntl), 1, F_SETFL, "the end: console output's fallback (no /proc) gives stdout its "
				      "flags back (io/console_out.c)" },
};

/*
 * The ASan build only (a test build; its sanitizer runtime makes raw syscalls, hence open, not
 * openat). At exit, on the main thread, LeakSanitizer stops the world to scan every thread's stack
 * and registers: it clones a tracer task (which inherits this filter), lists the threads in
 * /proc/PID/task and ptrace-attaches to each. A leak report then symbolizes its stacks from the
 * binary's debug information. A syscall missing here kills the tracer silently and kiln then
 * waits for it for ever, which is why the tests run kiln under a timeout.
 */
static const struct syscall_rule main_sanitizer_rules[] = {
	{ SCMP_SYS(wait4), "LeakSanitizer: the tracer waits for each thread to stop, the main thread for the tracer" },
	{ SCMP_SYS(ptrace), "LeakSanitizer's tracer: attach, read the registers, detach" },
	{ SCMP_SYS(getppid), "LeakSanitizer's tracer: which process to stop" },
	{ SCMP_SYS(rt_sigaction), "LeakSanitizer's tracer: its handlers of synchronous signals" },
	{ SCMP_SYS(getdents), "LeakSanitizer's tracer: the thread list in /proc/PID/task" },
	{ SCMP_SYS(readlink), "a leak report: /proc/self/exe, the binary whose debug information names the frames" },
};
static const struct syscall_arg_rule main_sanitizer_arg_rules[] = {
	{ SCMP_SYS(prctl), 0, PR_GET_DUMPABLE, "LeakSanitizer: a process that is not dumpable cannot be traced" },
	{ SCMP_SYS(prctl), 0, PR_SET_PTRACER, "LeakSanitizer: its tracer may attach (Yama)" },
	{ SCMP_SYS(prctl), 0, PR_SET_PDEATHSIG, "LeakSanitizer's tracer dies with kiln" },
	{ SCMP_SYS(clone), 0, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED, "LeakSanitizer's tracer task" },
	{ SCMP_SYS(open), 1, O_RDONLY | O_DIRECTORY, "LeakSanitizer's tracer: the thread list, /proc/PID/task" },
	{ SCMP_SYS(open), 1, O_RDONLY, "LeakSanitizer's tracer: /proc/PID/task/TID/status (is a listed thread "
				       "alive); a leak report: the binary and libraries, for their debug information" },
	{ SCMP_SYS(fcntl), 1, F_SETFD, "a leak report: the symbolizer marks the files it reads close-on-exec" },
};

/*
 * vCPU threads: KVM_RUN, and KVM_IRQ_LINE for the UART's interrupt. These lists are what every
 * machine needs; each adds its own (arch_seccomp_ioctls).
 */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE,
	TUNSETOFFLOAD, /* virtio-net: the driver's features reach the tap when it sets DRIVER_OK */
};
/* The I/O thread: KVM_IRQ_LINE when console input reaches the UART. */
static const unsigned long io_ioctls[] = { KVM_IRQ_LINE };
/* The main thread once its VM runs. */
static const unsigned long main_ioctls[] = {
	KVM_IRQ_LINE, /* Ctrl-Alt-Del: the i8042's keyboard interrupt */
	TCSETS, /* the end: the terminal leaves raw mode (tcsetattr TCSANOW) */
	TCGETS, /* glibc's tcsetattr reads the mode first; LeakSanitizer's isatty(stderr) in its report */
	/* A snapshot (PUT /snapshot/create, kiln_vm_snapshot) reads the paused machine: */
	KVM_CHECK_EXTENSION, /* /dev/kvm: what it can save (x86: the XSAVE size) */
	KVM_GET_DIRTY_LOG, /* a Diff snapshot: the pages the vCPUs wrote (and any snapshot, to start afresh) */
};

static int add_rules(scmp_filter_ctx ctx, const struct syscall_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, rules[i].nr, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_ioctls(scmp_filter_ctx ctx, const unsigned long *requests, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					  SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)requests[i]));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Refused with EACCES instead of trapping, in every thread but the main one (which may open files
 * read-only, main_arg_rules, so glibc's open simply succeeds there): glibc's malloc opens
 * /proc/sys/vm/overcommit_memory (openat(AT_FDCWD, ..., O_RDONLY | O_CLOEXEC)) once per process, in
 * whichever thread first shrinks a thread arena's heap (check_may_shrink_heap), e.g. the API thread
 * after freeing its clients' buffers, and reads a failure as "no strict overcommit". The path cannot
 * be matched, so any openat with these arguments fails the same way; every other openat still traps.
 */
static int add_malloc_refusal(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 2,
				SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint32_t)AT_FDCWD),
				SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffu, O_RDONLY | O_CLOEXEC));
}

static int add_arg_rules(scmp_filter_ctx ctx, const struct syscall_arg_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct scmp_arg_cmp cmp = { .arg = rules[i].arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffffu,
					    .datum_b = rules[i].value };
		int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, rules[i].nr, 1, &cmp);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* What the machine's architecture adds to class t (arch/seccomp_arch.h). */
static int add_arch_rules(scmp_filter_ctx ctx, enum seccomp_thread t)
{
	const unsigned long *ioctls;
	const int *syscalls;
	size_t nioctls, nsyscalls;
	int rc = 0;

	arch_seccomp_ioctls(t, &ioctls, &nioctls);
	arch_seccomp_syscalls(t, &syscalls, &nsyscalls);
	for (size_t i = 0; i < nsyscalls && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, syscalls[i], 0);
	return rc < 0 ? rc : add_ioctls(ctx, ioctls, nioctls);
}

/* What a thread class may do beside common_rules. */
struct thread_class {
	const char *name;
	const struct syscall_rule *rules;
	size_t nrules;
	const unsigned long *ioctls;
	size_t nioctls;
	const struct syscall_arg_rule *arg_rules;
	size_t narg_rules;
};

#define TABLE(t) (t), ARRAY_SIZE(t)
static const struct thread_class classes[] = {
	[SECCOMP_THREAD_VCPU] = { "vcpu", NULL, 0, TABLE(vcpu_ioctls), NULL, 0 },
	[SECCOMP_THREAD_IO] = { "io", TABLE(io_rules), TABLE(io_ioctls), NULL, 0 },
	[SECCOMP_THREAD_BLK] = { "blk", TABLE(blk_rules), NULL, 0, NULL, 0 },
	[SECCOMP_THREAD_API] = { "api", TABLE(api_rules), NULL, 0, NULL, 0 },
	[SECCOMP_THREAD_MAIN] = { "main", TABLE(main_rules), TABLE(main_ioctls), TABLE(main_arg_rules) },
};

static int build(enum seccomp_thread t, bool sanitizer, scmp_filter_ctx *out)
{
	const struct thread_class *c = &classes[t];
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP); /* SIGSYS: on_forbidden_syscall() */
	int rc;

	if (ctx == NULL)
		return -ENOMEM;
	/*
	 * A binary tree of syscall numbers instead of a chain of comparisons. Installing a filter, the
	 * kernel runs it once for every syscall number to build its per-filter action cache
	 * (seccomp_cache_prepare), with interrupts off: with the tree each thread's install took
	 * 22-31 us instead of 41-58 us here, and the checks of the syscalls that are not cached
	 * (those with argument rules) run shorter too.
	 */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc == 0)
		rc = add_rules(ctx, common_rules, ARRAY_SIZE(common_rules));
	if (rc == 0 && t != SECCOMP_THREAD_MAIN)
		rc = add_malloc_refusal(ctx);
	if (rc == 0)
		rc = add_rules(ctx, c->rules, c->nrules);
	if (rc == 0)
		rc = add_ioctls(ctx, c->ioctls, c->nioctls);
	if (rc == 0)
		rc = add_arch_rules(ctx, t);
	if (rc == 0)
		rc = add_arg_rules(ctx, c->arg_rules, c->narg_rules);
	if (rc == 0 && sanitizer && t == SECCOMP_THREAD_MAIN)
		rc = add_rules(ctx, main_sanitizer_rules, ARRAY_SIZE(main_sanitizer_rules));
	if (rc == 0 && sanitizer && t == SECCOMP_THREAD_MAIN)
		rc = add_arg_rules(ctx, main_sanitizer_arg_rules, ARRAY_SIZE(main_sanitizer_arg_rules));
	if (rc < 0) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

const char *seccomp_thread_name(enum seccomp_thread t)
{
	return classes[t].name;
}

int seccomp_export(enum seccomp_thread t, bool sanitizer, int fd)
{
	scmp_filter_ctx ctx;
	int rc = build(t, sanitizer, &ctx);

	if (rc < 0)
		return rc;
	rc = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	return rc;
}
