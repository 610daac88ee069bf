/* SPDX-License-Identifier: Apache-2.0 */
/* The public life cycle of a VM (kiln.h): create, start, wait, stop, destroy. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "abi.h"
#include "config.h"
#include "error.h"
#include "fd_limit.h"
#include "log.h"
#include "vm.h"
#include "vm_config.h"

static struct vm *vm_of_events(struct machine_events *ev)
{
	return container_of(ev, struct vm, events);
}

static void on_stop(struct machine_events *ev, enum kiln_exit_reason reason)
{
	vm_request_stop(vm_of_events(ev), reason, NULL);
}

static void on_guest_status(struct machine_events *ev, int status)
{
	struct vm *vm = vm_of_events(ev);

	/* Record before stopping: kiln_vm_wait() reads it once every vCPU has seen the stop. */
	int none = -1;
	atomic_compare_exchange_strong(&vm->guest_status, &none, status);
	vm_request_stop(vm, KILN_EXIT_STATUS, NULL);
}

static void on_boot_ready(struct machine_events *ev)
{
	unsigned long long none = 0;

	atomic_compare_exchange_strong(&vm_of_events(ev)->boot_ready_ns, &none, now_ns());
}

void vm_request_stop(struct vm *vm, enum kiln_exit_reason reason, const char *detail)
{
	const uint64_t one = 1;
	int running = 0;

	if (!atomic_compare_exchange_strong(&vm->exit_reason, &running, (int)reason))
		return; /* the first reason to stop wins */
	if (detail)
		snprintf(vm->exit_detail, sizeof(vm->exit_detail), "%s", detail);
	for (unsigned int i = 0; vm->vcpus && i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	/*
	 * Last, so a watcher woken by it finds the state already STOPPED; write() is async-signal-safe.
	 * It cannot fail: this is the only write, of 1, to a counter nobody reads.
	 */
	if (write(vm->exit_fd, &one, sizeof(one)) < 0)
		return;
}

/*
 * Once per process, before the first VM's fds: the soft fd limit is often 1024, the hard one far
 * higher, and a VM's vsock connections alone may take 1024 (see vm_limit_vsock).
 */
static pthread_once_t fd_limit_once = PTHREAD_ONCE_INIT;

static void raise_fd_limit(void)
{
	int64_t soft = fd_limit_raise();

	if (soft < 0)
		log_warn("vm", "cannot raise the soft fd limit to the hard one: %s", strerror((int)-soft));
	else
		log_debug("vm", "fd limit: %lld", (long long)soft);
}

/* Undoes kiln_vm_create: vm_build's resources, then what create set up before it. */
static void vm_free(struct vm *vm)
{
	vm_teardown(vm);
	if (vm->exit_fd >= 0)
		close(vm->exit_fd);
	pthread_cond_destroy(&vm->park_cond);
	pthread_mutex_destroy(&vm->park_lock);
	vm_config_free(&vm->cfg);
	free(vm);
}

int vm_create(const struct kiln_config *cfg, int restore_mem_fd, struct vm **out,
	      struct kiln_error *err)
{
	pthread_once(&fd_limit_once, raise_fd_limit);
	struct vm *vm = calloc(1, sizeof(*vm));
	int rc;

	if (vm == NULL)
		return vm_error(err, ENOMEM, "out of memory");
	vm->kvm_fd = vm->vm_fd = -1;
	vm->io.epoll_fd = vm->io.wake_fd = vm->io.th.quiesce_fd = -1;
	vm->restore_mem_fd = restore_mem_fd;
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc = vm->exit_fd < 0 ? -errno : 0;
	atomic_init(&vm->guest_status, -1);
	pthread_mutex_init(&vm->park_lock, NULL);
	pthread_cond_init(&vm->park_cond, NULL);
	vm->events = (struct machine_events){
		.stop = on_stop, .guest_status = on_guest_status, .boot_ready = on_boot_ready
	};
	if (rc < 0)
		vm_error(err, -rc, "eventfd: %s", strerror(-rc));
	else if ((rc = vcpu_install_kick_signal()) < 0)
		vm_error(err, -rc, "installing the vCPU kick signal: %s", strerror(-rc));
	else if ((rc = vm_config_copy(&vm->cfg, cfg)) < 0)
		vm_error(err, -rc, "out of memory");
	else
		rc = vm_build(vm, cfg, err);
	vm->restore_mem_fd = -1; /* the caller's fd: only the build uses it */
	if (rc < 0) {
		vm_free(vm);
		return rc;
	}
	vm_limit_vsock(vm);
	*out = vm;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	vm_free(vm);
}

int kiln_vm_create(const struct kiln_config *cfg, struct kiln_vm **out, struct kiln_error *err)
{
	struct kiln_config own;
	int rc = config_import(&own, cfg, err);

	if (rc == 0)
		rc = config_validate(&own, err);
	if (rc < 0)
		return rc;
	return vm_create(&own, -1, (struct vm **)out, err);
}

int kiln_vm_start(struct kiln_vm *handle, struct kiln_error *err)
{
	struct vm *vm = (struct vm *)handle;
	int rc;

	vm->io.sandbox = true;
	rc = io_loop_start(&vm->io);
	if (rc < 0)
		return vm_error(err, -rc, "starting the I/O thread: %s", strerror(-rc));
	/* From here on the VM has threads: a failure below stops it, and wait/destroy join them. */
	vm->started = true;
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		rc = vcpu_start(&vm->vcpus[i]);
		if (rc < 0) {
			vm_request_stop(vm, KILN_EXIT_ERROR, "cannot start a vCPU thread");
			return vm_error(err, -rc, "starting vCPU %u: %s", i, strerror(-rc));
		}
	}
	return 0;
}

int kiln_vm_wait_sized(struct kiln_vm *handle, struct kiln_exit *exit_info, size_t size)
{
	struct vm *vm = (struct vm *)handle;
	struct kiln_exit e = { .size = sizeof(e) };
	int status;

	if (!vm->started || size < ABI_EXIT_SIZE_0_1)
		return -EINVAL;
	/*
	 * Every end of a VM is a vm_request_stop, which kicks the vCPU threads and then writes exit_fd.
	 * Once it is readable no stop is still kicking (kiln_vm_stop may come from another thread or a
	 * signal handler): joined before that, a thread could be signalled after it is gone.
	 */
	struct pollfd stopped = { .fd = vm->exit_fd, .events = POLLIN };
	while (poll(&stopped, 1, -1) < 0 && errno == EINTR)
		;
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	io_loop_destroy(&vm->io);
	vm->started = false;

	e.reason = (enum kiln_exit_reason)atomic_load(&vm->exit_reason);
	status = atomic_load(&vm->guest_status);
	e.status_reported = status >= 0;
	e.guest_status = status >= 0 ? status : 0;
	e.boot_ready_ns = atomic_load(&vm->boot_ready_ns);
	e.first_run_ns = atomic_load(&vm->first_run_ns);
	e.setup_cpu_ns = atomic_load(&vm->setup_cpu_ns);
	e.exit_ns = now_ns();
	snprintf(e.detail, sizeof(e.detail), "%s", vm->exit_detail);
	abi_copy_out(exit_info, size, &e, sizeof(e));
	return 0;
}

void kiln_vm_stop(struct kiln_vm *handle)
{
	vm_request_stop((struct vm *)handle, KILN_EXIT_STOPPED, NULL);
}

int kiln_vm_exit_fd(struct kiln_vm *handle)
{
	return ((struct vm *)handle)->exit_fd;
}

void kiln_vm_destroy_before_exit(struct kiln_vm *handle)
{
	if (handle != NULL)
		((struct vm *)handle)->release_detached = true;
	kiln_vm_destroy(handle);
}

const struct kiln_config *kiln_vm_config(struct kiln_vm *handle)
{
	return &((struct vm *)handle)->cfg;
}

void kiln_vm_destroy(struct kiln_vm *handle)
{
	struct vm *vm = (struct vm *)handle;
	struct kiln_exit ignored;

	if (vm == NULL)
		return;
	if (vm->started) {
		kiln_vm_stop(handle);
		kiln_vm_wait(handle, &ignored);
	}
	vm_free(vm);
}
