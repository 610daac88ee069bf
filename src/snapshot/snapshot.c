/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Taking a snapshot of a paused VM (kiln_vm_snapshot): the state file's sections in order CONF
 * (what to build), ARCH (the machine's name), UART, the machine's (arch_snapshot_save_machine; x86:
 * KBDC the i8042, MACH the interrupt controllers and clock), VIRT/n (each virtio device), the vCPUs'
 * (x86: VCPU/n), then the memory file. The vCPUs are parked outside KVM_RUN with their last exit
 * completed (vcpu.c), and the I/O thread is held between two events while it all is read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arch/arch.h"
#include "error.h"
#include "log.h"
#include "snapshot/config_section.h"
#include "mem/pagemap.h"
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
	int rc = disk_sizes(&vm->cfg, sizes, err);

	if (rc < 0)
		return rc;
	snap_config_put(w, &vm->cfg, sizes);
	snap_arch_put(w, arch_machine_name);
	serial_save(&vm->serial, w);
	rc = arch_snapshot_save_machine(vm, w, err);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < vm->nvirtio; i++)
		virtio_mmio_save(&vm->virtio[i].transport, i, w);
	return arch_snapshot_save_vcpus(vm, w, err);
}

/*
 * The pages of a booted VM's RAM (anonymous memory) ever populated, or NULL: a restored VM's RAM
 * maps its memory file, whose pages are data whether or not they were touched, and without
 * /proc/self/pagemap every page is read.
 */
static uint64_t *anonymous_ram_populated(const struct vm *vm)
{
	uint64_t *populated;

	if (vm->ram_maps_file)
		return NULL;
	populated = calloc(gmem_dirty_words(vm->ram_size), sizeof(*populated));
	if (populated && pagemap_populated(vm->ram, vm->ram_size, populated) < 0) {
		free(populated);
		populated = NULL;
	}
	return populated;
}

/*
 * The memory file: a Full one (every non-zero page) or a Diff (the pages written since the last
 * take). A VM that tracks dirty pages starts the next count afresh in either case; the pages a Diff
 * took go back if it fails, and the chains devices hold are marked again (mmio_snapshot.h).
 */
static int write_memory(struct vm *vm, const char *mem_path, bool diff, struct memfile_stats *stats,
			struct kiln_error *err)
{
	uint64_t *dirty = NULL;
	int rc = 0;

	if (vm->mem.tracking && (dirty = calloc(gmem_dirty_words(vm->ram_size), sizeof(*dirty))) == NULL)
		return vm_error(err, ENOMEM, "out of memory for the dirty page bitmap");
	if (diff) {
		rc = vm_dirty_take(vm, dirty, err);
		if (rc == 0 && (rc = memfile_save_diff(vm->ram, vm->ram_size, dirty, mem_path, stats)) < 0)
			vm_error(err, -rc, "memory file %s: %s%s", mem_path, strerror(-rc), rc == -EOPNOTSUPP ?
				 " (its file system does not keep a Diff's holes page by page)" : "");
		if (rc < 0)
			vm_dirty_give_back(vm, dirty);
	} else {
		uint64_t *populated = anonymous_ram_populated(vm);
		rc = memfile_save(vm->ram, vm->ram_size, populated, mem_path, stats);
		free(populated);
		if (rc < 0)
			vm_error(err, -rc, "memory file %s: %s", mem_path, strerror(-rc));
		/* A Full snapshot holds every page: what its take fails to clear only grows the next Diff. */
		struct kiln_error ignored;
		if (rc == 0 && dirty && vm_dirty_take(vm, dirty, &ignored) < 0)
			log_warn("snapshot", "the next Diff snapshot may hold more pages: %s", ignored.msg);
	}
	for (unsigned int i = 0; dirty && i < vm->nvirtio; i++)
		virtio_mmio_mark_held(&vm->virtio[i].transport);
	free(dirty);
	return rc;
}

int kiln_vm_snapshot_flags(struct kiln_vm *handle, const char *state_path, const char *mem_path,
			   unsigned int flags, struct kiln_error *err)
{
	struct vm *vm = (struct vm *)handle;
	bool diff = flags & KILN_SNAPSHOT_DIFF;
	struct memfile_stats stats;
	struct snap_writer w;
	uint64_t t0 = now_ns();
	int rc;

	if (flags & ~KILN_SNAPSHOT_DIFF)
		return vm_error(err, EINVAL, "snapshot flags 0x%x: unknown", flags & ~KILN_SNAPSHOT_DIFF);
	if ((rc = arch_snapshot_supported(err)) < 0)
		return rc;
	if (kiln_vm_get_state(handle) != KILN_VM_PAUSED)
		return vm_error(err, EINVAL, "the VM must be paused to snapshot it");
	if (state_path == NULL || mem_path == NULL || !state_path[0] || !mem_path[0])
		return vm_error(err, EINVAL, "a snapshot needs a state file and a memory file path");
	if (diff && !vm->mem.tracking)
		return vm_error(err, EINVAL, "a Diff snapshot needs dirty page tracking (track_dirty_pages), "
				"which this VM does not have");
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
	if (rc == 0)
		rc = write_memory(vm, mem_path, diff, &stats, err);
	io_loop_release(&vm->io);
	if (rc == 0)
		log_info("snapshot", "%s and %s (%s) written in %llu ms (%llu of %llu MiB of RAM with data)",
			 state_path, mem_path, diff ? "Diff" : "Full", (unsigned long long)((now_ns() - t0) / 1000000),
			 (unsigned long long)(stats.bytes_written >> 20), (unsigned long long)(vm->ram_size >> 20));
	return rc;
}

int kiln_vm_snapshot(struct kiln_vm *vm, const char *state_path, const char *mem_path, struct kiln_error *err)
{
	return kiln_vm_snapshot_flags(vm, state_path, mem_path, 0, err);
}

int kiln_snapshot_merge(const char *base_mem_path, const char *diff_mem_path, struct kiln_error *err)
{
	struct memfile_stats stats;
	char why[sizeof(err->msg)];
	int rc;

	if (base_mem_path == NULL || diff_mem_path == NULL)
		return vm_error(err, EINVAL, "a merge needs a base memory file and a Diff memory file");
	rc = memfile_merge(base_mem_path, diff_mem_path, &stats, why, sizeof(why));
	if (rc < 0)
		return vm_error(err, -rc, "%s", why);
	log_info("snapshot", "%s merged onto %s: %llu pages", diff_mem_path, base_mem_path,
		 (unsigned long long)stats.pages_written);
	return 0;
}
