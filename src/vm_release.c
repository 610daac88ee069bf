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
 *
 * The child shares this process's memory (CLONE_VM), for a second reason: the process that tears
 * down an address space KVM's MMU notifier is still registered on waits for another SRCU grace
 * period there (exit_mmap, mmu_notifier_release). Shared, the address space outlives this process
 * and is torn down by the child, after KVM's teardown has unregistered the notifier.
 */
#define _GNU_SOURCE /* clone, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm_release.h"

#define RELEASE_STACK_SIZE (64 * 1024)

/* What the child gets, at the foot of its own stack: the caller's frame is gone once it returns. */
struct release_args {
	int vm_fd;
	int go[2];
};

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
 * The child, on its own stack in the caller's memory: it makes syscalls only (a libc lock another
 * thread holds stays held), and every signal is blocked (vm_release_detached blocked them before
 * the clone): kiln's handlers are not for it. Its TLS is the calling thread's, so a syscall that
 * failed would set that thread's errno; none of these fails but close_range before Linux 5.9.
 */
static int release_child(void *p)
{
	const struct release_args *a = p;
	char byte;

	/* Its copy of the write end first: without it, the read below would wait for ever. */
	syscall(SYS_close, a->go[1]);
	/* A disk, a tap or a socket held here would outlive kiln's own close of it. */
	if (a->vm_fd < a->go[0])
		close_all_but(a->vm_fd, a->go[0]);
	else
		close_all_but(a->go[0], a->vm_fd);
	/*
	 * End of file: the parent has closed its copy of the VM's fd, or has exited. (Were the read to
	 * fail instead, the close below might come first and the parent's be the last: slower, not wrong.)
	 */
	syscall(SYS_read, a->go[0], &byte, 1);
	syscall(SYS_close, a->vm_fd); /* the last reference: KVM's teardown runs here */
	syscall(SYS_exit_group, 0);   /* and, once the parent has exited, its address space's */
	return 0;
}

/* The child's stack: never unmapped, the child may use it until after this process has exited. */
static void *release_stack(void)
{
	void *s = mmap(NULL, RELEASE_STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);

	return s == MAP_FAILED ? NULL : s;
}

int vm_release_detached(int vm_fd)
{
	struct release_args *a = release_stack();
	sigset_t all, old;
	int err = 0, pid = -1;

	if (a == NULL || pipe2(a->go, O_CLOEXEC) < 0) {
		err = errno;
		close(vm_fd);
		return -err;
	}
	a->vm_fd = vm_fd;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid = clone(release_child, (char *)a + RELEASE_STACK_SIZE, CLONE_VM | SIGCHLD, a);
	if (pid < 0)
		err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(a->go[0]);
	close(vm_fd); /* not the last reference when the child holds one: returns at once */
	close(a->go[1]); /* the child may go */
	return pid < 0 ? -err : pid;
}
