/* SPDX-License-Identifier: Apache-2.0 */
/* Operations on a running VM for a control plane (kiln.h): Ctrl-Alt-Del, disk updates and metrics. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "error.h"
#include "virtio/blk.h"
#include "vm.h"

/*
 * Only while running: a paused guest would not read the keystrokes, and they would arrive, stale,
 * on resume. The i8042 says -EAGAIN while the guest's keyboard driver is not listening yet.
 */
int kiln_vm_send_ctrl_alt_del(struct kiln_vm *handle)
{
	struct vm *vm = (struct vm *)handle;

	if (kiln_vm_get_state(handle) != KILN_VM_RUNNING)
		return -EINVAL;
	return arch_send_ctrl_alt_del(vm);
}

int kiln_vm_update_disk(struct kiln_vm *handle, unsigned int index, const char *path,
			struct kiln_error *err)
{
	struct vm *vm = (struct vm *)handle;

	if (index >= vm->ndisks)
		return vm_error(err, EINVAL, "disk %u: the VM has %u disks", index, vm->ndisks);
	if (path == NULL || path[0] == '\0')
		return vm_error(err, EINVAL, "disk %u: no path", index);
	char *kept = strdup(path);
	if (kept == NULL)
		return vm_error(err, ENOMEM, "out of memory");
	int rc = virtio_blk_replace(vm->disks[index], path, err ? err->msg : NULL, err ? sizeof(err->msg) : 0);
	if (rc < 0) {
		free(kept);
		return rc;
	}
	/* The VM's own configuration follows, so a snapshot names the disk the guest now has. */
	free((char *)vm->cfg.disks[index].path);
	vm->cfg.disks[index].path = kept;
	return 0;
}

/* KVM exit reasons worth a name in metrics; the rest add up under "other". */
static const struct {
	unsigned int reason;
	const char *name;
} named_exits[] = {
	{ KVM_EXIT_IO, "io" },
	{ KVM_EXIT_MMIO, "mmio" },
	{ KVM_EXIT_HLT, "hlt" },
	{ KVM_EXIT_INTR, "interrupted" },
	{ KVM_EXIT_SHUTDOWN, "shutdown" },
	{ KVM_EXIT_SYSTEM_EVENT, "system_event" },
	{ KVM_EXIT_INTERNAL_ERROR, "internal_error" },
	{ KVM_EXIT_FAIL_ENTRY, "fail_entry" },
};

static unsigned long long exits_of(const struct vm *vm, unsigned int reason)
{
	unsigned long long total = 0;

	for (unsigned int i = 0; i < vm->nvcpus; i++)
		total += atomic_load_explicit(&vm->vcpus[i].exits[reason], memory_order_relaxed);
	return total;
}

static bool is_named(unsigned int reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(named_exits); i++)
		if (named_exits[i].reason == reason)
			return true;
	return false;
}

static void write_exits(FILE *f, const struct vm *vm)
{
	unsigned long long other = 0;

	fputs("\"vcpu_exits\":{", f);
	for (size_t i = 0; i < ARRAY_SIZE(named_exits); i++)
		fprintf(f, "\"%s\":%llu,", named_exits[i].name, exits_of(vm, named_exits[i].reason));
	for (unsigned int r = 0; r < VCPU_EXIT_REASONS; r++)
		if (!is_named(r))
			other += exits_of(vm, r);
	fprintf(f, "\"other\":%llu}", other);
}

static void write_device(FILE *f, const struct virtio_dev *d)
{
	const struct virtio_stats *s = &d->stats;

	fprintf(f, "\"%s\":{\"kicks\":%llu,\"requests\":%llu,\"bytes_to_guest\":%llu,"
		   "\"bytes_from_guest\":%llu,\"errors\":%llu,\"bytes_dropped\":%llu}",
		d->name, (unsigned long long)atomic_load(&s->kicks), (unsigned long long)atomic_load(&s->requests),
		(unsigned long long)atomic_load(&s->bytes_to_guest),
		(unsigned long long)atomic_load(&s->bytes_from_guest), (unsigned long long)atomic_load(&s->errors),
		(unsigned long long)atomic_load(&s->bytes_dropped));
}

/* The UART: what the guest transmitted, and what of it its stalled reader made kiln drop. */
static void write_serial(FILE *f, const struct serial *s)
{
	fprintf(f, "\"serial\":{\"bytes_from_guest\":%llu,\"bytes_dropped\":%llu}",
		(unsigned long long)atomic_load(&s->bytes_from_guest),
		(unsigned long long)atomic_load(&s->bytes_dropped));
}

/*
 * All of buf, so a reader never sees a torn line: a short write (a signal, a nearly full disk) goes
 * on from where it stopped. A non-blocking pipe takes a line below PIPE_BUF whole or not at all
 * (-EAGAIN); test_metrics.c checks that the longest line kiln can write stays below it.
 */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The line grows in an open_memstream buffer: as long as the VM's devices need, never cut short. */
int kiln_vm_write_metrics(struct kiln_vm *handle, int fd)
{
	struct vm *vm = (struct vm *)handle;
	char *json = NULL;
	size_t len = 0;
	struct timespec now;
	FILE *f = open_memstream(&json, &len);

	if (f == NULL)
		return -errno;
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(f, "{\"utc_timestamp_ms\":%lld,", (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	write_exits(f, vm);
	fputs(",\"devices\":{", f);
	write_serial(f, &vm->serial);
	for (unsigned int i = 0; i < vm->nvirtio; i++) {
		fputc(',', f);
		write_device(f, vm->virtio[i].dev);
	}
	fputs("}}\n", f);
	if (fclose(f) != 0) {
		free(json);
		return -ENOMEM;
	}
	int rc = write_all(fd, json, len);
	free(json);
	return rc;
}
