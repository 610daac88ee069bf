/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Closing the VM's fd, the last reference to KVM's VM object, runs KVM's teardown of the VM
 * (kvm_destroy_vm) in the closing task before close() returns. Beside its own work that waits for
 * SRCU grace periods: mmu_notifier_unregister's, and srcu_barrier() on the VM's SRCU for the I/O bus
 * updates KVM_CREATE_IRQCHIP queued with call_srcu(); 10-20 ms in all on an idle host, more than
 * the rest of a short VM's life. At process exit the same runs in do_exit() (exit_files(), then
 * exit_task_work()) before exit_notify(), so a parent's wait() for the process waits for it too.
 *
 * vm_release_detached hands the last reference to a child process instead: the child holds a copy
 * of the VM's fd and of a pipe's read end, and no other fd; this process closes its own copy of the
 * VM's fd (not the last, so that returns at once) and then the pipe's write end, which lets the
 * child go: the child closes the last copy, KVM's teardown runs in the child, and the child exits.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm_release.h"

/* Closes every fd of this process except a and b (a < b). */
static void close_all_but(int a, int b)
{
	if (a > 0)
		syscall(SYS_close_range, 0u, (unsigned int)a - 1, 0u);
	if (b > a + 1)
		syscall(SYS_close_range, (unsigned int)a + 1, (unsigned int)b - 1, 0u);
	syscall(SYS_close_range, (unsigned int)b + 1, UINT_MAX, 0u);
}

/*
 * The child. It came from a raw clone() of a process with other threads, so it calls no libc
 * function beyond syscall(): locks other threads held at the clone stay held in its copy of memory.
 * Every signal is blocked (vm_release_detached blocked them before the clone): kiln's handlers are
 * not for it.
 */
static __attribute__((noreturn)) void release_child(int vm_fd, const int go[2])
{
	char byte;

	/* Its copy of the write end first: without it, the read below would wait for ever. */
	syscall(SYS_close, go[1]);
	/* A disk, a tap or a socket held here would outlive kiln's own close of it. */
	close_all_but(vm_fd < go[0] ? vm_fd : go[0], vm_fd < go[0] ? go[0] : vm_fd);
	/* End of file: the parent has closed its copy of the VM's fd, or has exited. */
	while (syscall(SYS_read, go[0], &byte, 1) < 0 && errno == EINTR)
		;
	syscall(SYS_close, vm_fd); /* the last reference: KVM's teardown runs here */
	syscall(SYS_exit_group, 0);
	__builtin_unreachable();
}

int vm_release_detached(int vm_fd)
{
	sigset_t all, old;
	int go[2], err = 0;
	long pid;

	if (pipe2(go, O_CLOEXEC) < 0) {
		err = errno;
		close(vm_fd);
		return -err;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* fork() without glibc's fork handlers: the child only makes syscalls (release_child). */
	pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0ul, 0ul, 0ul, 0ul);
	if (pid == 0)
		release_child(vm_fd, go);
	if (pid < 0)
		err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(go[0]);
	close(vm_fd); /* not the last reference when the child holds one: returns at once */
	close(go[1]); /* the child may go */
	return pid < 0 ? -err : (int)pid;
}
