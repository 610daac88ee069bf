/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Taking a snapshot of a paused VM (kiln_vm_snapshot): the state file's sections in order CONF
 * (what to build), KBDC (the i8042), UART, VIRT/n (each virtio device), MACH (interrupt controllers, PIT, clock), VCPU/n,
 * then the memory file. The vCPUs are parked outside KVM_RUN with their last exit completed
 * (vcpu.c), and the I/O thread is held between two events while it all is read.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "arch/x86/machine_snapshot.h"
#include "arch/x86/vcpu_snapshot.h"
#include "error.h"
#include "log.h"
#include "snapshot/config_section.h"
#include "snapshot/memfile.h"
#include "snapshot/snap_file.h"
#include "virtio/mmio_snapshot.h"
#include "vm.h"

/* Each disk's size now: a restore refuses a disk that changed size. */
static int disk_sizes(const struct kiln_config *cfg, uint64_t *sizes, struct kiln_error *err)
{
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		struct stat st;

		if (stat(cfg->disks[i].path, &st) < 0)
			return vm_error(err, errno, "disk %s: %s", cfg->disks[i].path, strerror(errno));
		sizes[i] = (uint64_t)st.st_size;
	}
	return 0;
}

static int write_state(struct vm *vm, struct snap_writer *w, struct kiln_error *err)
{
	uint64_t sizes[KILN_MAX_DISKS] = { 0 };
	struct x86_msr_set msrs;
	int rc = disk_sizes(&vm->cfg, sizes, err);

	if (rc < 0)
		return rc;
	snap_config_put(w, &vm->cfg, sizes);
	i8042_save(&vm->i8042, w);
	serial_save(&vm->serial, w);
	rc = x86_machine_save(vm->vm_fd, &vm->paused_clock, vm->paused_realtime_ns, w);
	if (rc < 0)
		return vm_error(err, -rc, "saving the machine's interrupt controllers and clock: %s",
				strerror(-rc));
	for (unsigned int i = 0; i < vm->nvirtio; i++)
		virtio_mmio_save(&vm->virtio[i].transport, i, w);
	rc = x86_msr_set_init(&msrs, vm->kvm_fd);
	if (rc < 0)
		return vm_error(err, -rc, "KVM_GET_MSR_INDEX_LIST: %s", strerror(-rc));
	for (unsigned int i = 0; i < vm->nvcpus && rc == 0; i++) {
		rc = x86_vcpu_save(vm->vcpus[i].fd, i, &msrs, w);
		if (rc < 0)
			vm_error(err, -rc, "saving vCPU %u: %s", i, strerror(-rc));
	}
	x86_msr_set_free(&msrs);
	return rc;
}

int kiln_vm_snapshot(struct kiln_vm *handle, const char *state_path, const char *mem_path,
		     struct kiln_error *err)
{
	struct vm *vm = (struct vm *)handle;
	struct memfile_stats stats;
	struct snap_writer w;
	uint64_t t0 = now_ns();
	int rc;

	if (kiln_vm_get_state(handle) != KILN_VM_PAUSED)
		return vm_error(err, EINVAL, "the VM must be paused to snapshot it");
	if (state_path == NULL || mem_path == NULL || !state_path[0] || !mem_path[0])
		return vm_error(err, EINVAL, "a snapshot needs a state file and a memory file path");
	for (unsigned int i = 0; i < vm->nvirtio; i++)
		if (!virtio_mmio_can_snapshot(&vm->virtio[i].transport))
			return vm_error(err, ENOTSUP, "%s: this device cannot be snapshotted yet",
					vm->virtio[i].dev->name);
	/* Devices and RAM are read in one state: no I/O handler runs until the files are written. */
	io_loop_hold(&vm->io);
	snap_writer_init(&w);
	rc = write_state(vm, &w, err);
	if (rc == 0 && (rc = snap_writer_save(&w, state_path)) < 0)
		vm_error(err, -rc, "state file %s: %s", state_path, strerror(-rc));
	snap_writer_free(&w);
	if (rc == 0 && (rc = memfile_save(vm->ram, vm->ram_size, mem_path, &stats)) < 0)
		vm_error(err, -rc, "memory file %s: %s", mem_path, strerror(-rc));
	io_loop_release(&vm->io);
	if (rc == 0)
		log_info("snapshot", "%s and %s written in %llu ms (%llu of %llu MiB of RAM with data)",
			 state_path, mem_path, (unsigned long long)((now_ns() - t0) / 1000000),
			 (unsigned long long)(stats.bytes_written >> 20),
			 (unsigned long long)(vm->ram_size >> 20));
	return rc;
}
