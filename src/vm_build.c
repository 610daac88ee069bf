/* SPDX-License-Identifier: Apache-2.0 */
/* Building a VM from a checked kiln_config: KVM, RAM, devices, the guest image, vCPUs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/arch.h"
#include "error.h"
#include "kvm/kvm.h"
#include "log.h"
#include "snapshot/memfile.h"
#include "vm.h"
#include "vm_release.h"

#define KVM_API_VERSION_EXPECTED 12

static int open_kvm(struct vm *vm, struct kiln_error *err)
{
	static const struct vm_kvm_cap required[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};

	vm->kvm_fd = kvm_open_system();
	if (vm->kvm_fd == -ENOENT || vm->kvm_fd == -ENXIO || vm->kvm_fd == -ENODEV)
		return vm_error(err, -vm->kvm_fd, "/dev/kvm: %s (is KVM enabled in the kernel and the BIOS?)",
				strerror(-vm->kvm_fd));
	if (vm->kvm_fd == -EACCES || vm->kvm_fd == -EPERM)
		return vm_error(err, -vm->kvm_fd, "/dev/kvm: permission denied (join the kvm group?)");
	if (vm->kvm_fd < 0)
		return vm_error(err, -vm->kvm_fd, "/dev/kvm: %s", strerror(-vm->kvm_fd));
	int version = kvm_api_version(vm->kvm_fd);
	if (version != KVM_API_VERSION_EXPECTED)
		return vm_error(err, EINVAL, "/dev/kvm: API version %d, kiln needs %d", version,
				KVM_API_VERSION_EXPECTED);
	int rc = vm_require_kvm_caps(vm, required, ARRAY_SIZE(required), err);

	return rc < 0 ? rc : arch_check_kvm(vm, err);
}

int vm_require_kvm_caps(const struct vm *vm, const struct vm_kvm_cap *caps, size_t n,
			struct kiln_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (kvm_check_extension(vm->kvm_fd, caps[i].cap) <= 0)
			return vm_error(err, ENOTSUP, "/dev/kvm: lacks %s", caps[i].name);
	return 0;
}

static int check_vcpu_limit(struct vm *vm, unsigned int vcpus, struct kiln_error *err)
{
	int max = kvm_check_extension(vm->kvm_fd, KVM_CAP_MAX_VCPUS);

	if (max <= 0)
		max = kvm_check_extension(vm->kvm_fd, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4; /* KVM's documented minimum when neither capability answers */
	if (vcpus > (unsigned int)max)
		return vm_error(err, EINVAL, "vcpus %u: this host's KVM allows at most %d", vcpus, max);
	return 0;
}

/*
 * One anonymous mapping, split into the RAM ranges of the memory map; untouched pages cost nothing.
 * The mapping starts 2 MiB-aligned and so do the ranges and their offsets into it (on x86: 0, and
 * 4 GiB at offset 3 GiB), so each memslot can be backed by huge pages (gmem.h), but for the low RAM
 * the machine wants small (arch_small_page_ram).
 */
static int create_ram(struct vm *vm, uint64_t bytes, bool track_dirty, struct kiln_error *err)
{
	struct arch_ram_range ranges[ARCH_MAX_RAM_RANGES];
	unsigned int n = arch_ram_ranges(bytes, ranges);
	uint32_t flags = track_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	uint64_t offset = 0;
	int rc = gmem_ram_map(bytes, arch_small_page_ram(bytes), &vm->ram);

	if (rc < 0)
		return vm_error(err, -rc, "mem %llu MiB: cannot map guest RAM: %s",
				(unsigned long long)(bytes >> 20), strerror(-rc));
	vm->ram_size = bytes;
	if (vm->restore_mem_fd >= 0) {
		char why[256];

		rc = memfile_map(vm->ram, bytes, vm->restore_mem_fd, why, sizeof(why));
		if (rc < 0)
			return vm_error(err, -rc, "memory file %s", why);
		vm->ram_maps_file = true;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *host = (uint8_t *)vm->ram + offset;

		rc = gmem_add_region(&vm->mem, ranges[i].start, host, ranges[i].size);
		if (rc == 0)
			rc = kvm_set_memory_region(vm->vm_fd, i, ranges[i].start, ranges[i].size, host, flags);
		if (rc < 0)
			return vm_error(err, -rc, "mem %llu MiB: cannot give guest RAM to KVM: %s",
					(unsigned long long)(bytes >> 20), strerror(-rc));
		offset += ranges[i].size;
	}
	/* Memslot i is region i: vm_dirty.c pairs KVM's log of each slot with kiln's own. */
	if (track_dirty && (rc = gmem_dirty_start(&vm->mem)) < 0)
		return vm_error(err, -rc, "mem %llu MiB: no room for the dirty page bitmaps",
				(unsigned long long)(bytes >> 20));
	return 0;
}

static int create_devices(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
{
	int rc = arch_create_devices(vm, cfg, err);

	return rc < 0 ? rc : vm_create_virtio(vm, cfg, err);
}

/* A read-only private mapping of a whole file; *size 0 and NULL for an empty file. */
static int map_file(const char *what, const char *path, const uint8_t **data, size_t *size,
		    struct kiln_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vm_error(err, errno, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return vm_error(err, EINVAL, "%s %s: not a regular, non-empty file", what, path);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int mmap_errno = errno;
	close(fd);
	if (p == MAP_FAILED)
		return vm_error(err, mmap_errno, "%s %s: %s", what, path, strerror(mmap_errno));
	*data = p;
	*size = (size_t)st.st_size;
	return 0;
}

/* The command line the guest gets: cfg's, plus the virtio devices when asked for. */
static int guest_cmdline(const struct vm *vm, const struct kiln_config *cfg, char *out, size_t outlen,
			 struct kiln_error *err)
{
	char devices[VM_MAX_VIRTIO * 48];
	int n;

	if (!cfg->virtio_cmdline)
		devices[0] = '\0';
	else if (vm_virtio_cmdline(vm, devices, sizeof(devices)) < 0)
		return vm_error(err, E2BIG, "the virtio devices do not fit on the command line");
	n = snprintf(out, outlen, "%s%s", cfg->cmdline ? cfg->cmdline : "", devices);
	if (n < 0 || (size_t)n >= outlen)
		return vm_error(err, E2BIG, "kernel command line of %d bytes: at most %zu fit", n, outlen - 1);
	return 0;
}

/* The kernel and initrd files, mapped before anything else so that a bad path is the first error. */
struct guest_files {
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd;
	size_t initrd_size;
};

static int map_guest_files(const struct kiln_config *cfg, struct guest_files *files, struct kiln_error *err)
{
	int rc = map_file("kernel", cfg->kernel_path, &files->kernel, &files->kernel_size, err);

	if (rc == 0 && cfg->initrd_path)
		rc = map_file("initrd", cfg->initrd_path, &files->initrd, &files->initrd_size, err);
	return rc;
}

static void unmap_guest_files(struct guest_files *files)
{
	if (files->kernel)
		munmap((void *)files->kernel, files->kernel_size);
	if (files->initrd)
		munmap((void *)files->initrd, files->initrd_size);
}

static int load_guest(struct vm *vm, const struct kiln_config *cfg, const struct guest_files *files,
		      struct kiln_error *err)
{
	char cmdline[KILN_MAX_CMDLINE];
	const struct arch_guest guest = {
		.kernel_path = cfg->kernel_path,
		.kernel = files->kernel,
		.kernel_size = files->kernel_size,
		.initrd = files->initrd,
		.initrd_size = files->initrd_size,
		.cmdline = cmdline,
	};
	int rc = guest_cmdline(vm, cfg, cmdline, sizeof(cmdline), err);

	return rc < 0 ? rc : arch_load_guest(vm, &guest, err);
}

/* boot: the boot vCPU starts at the loaded kernel (not on a restore: the snapshot sets every register). */
static int create_vcpus(struct vm *vm, bool boot, struct kiln_error *err)
{
	int run_size = kvm_vcpu_mmap_size(vm->kvm_fd);

	if (run_size < 0)
		return vm_error(err, -run_size, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(-run_size));
	vm->vcpus = calloc(vm->nvcpus, sizeof(*vm->vcpus));
	if (vm->vcpus == NULL)
		return vm_error(err, ENOMEM, "out of memory for %u vCPUs", vm->nvcpus);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		int rc = vcpu_create(&vm->vcpus[i], vm, i, (size_t)run_size);

		if (rc < 0)
			return vm_error(err, -rc, "vCPU %u: %s", i, strerror(-rc));
		rc = arch_vcpu_init(vm, i, boot && i == 0, err);
		if (rc < 0)
			return rc;
	}
	return arch_vcpus_created(vm, err);
}

/* UART input, when the UART is the console. */
static int watch_console_input(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
{
	int rc;

	if (cfg->console_in_fd < 0 || cfg->console != KILN_CONSOLE_SERIAL)
		return 0;
	rc = serial_input_start(&vm->serial_input, &vm->serial, &vm->io, cfg->console_in_fd);
	return rc < 0 ? vm_error(err, -rc, "watching console input: %s", strerror(-rc)) : 0;
}

int vm_build(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
{
	struct guest_files files = { 0 };
	int rc;

	vm->nvcpus = cfg->vcpus;
	bus_init(&vm->pio, "pio", 0xff);
	bus_init(&vm->mmio, "mmio", 0x00);
	rc = vm->restore_mem_fd >= 0 ? 0 : map_guest_files(cfg, &files, err);
	if (rc == 0)
		rc = open_kvm(vm, err);
	if (rc == 0)
		rc = check_vcpu_limit(vm, cfg->vcpus, err);
	if (rc == 0)
		rc = arch_create_vm(vm, err);
	if (rc == 0)
		rc = create_ram(vm, cfg->mem_bytes, cfg->track_dirty_pages, err);
	if (rc == 0)
		rc = arch_create_irqchip(vm, err);
	if (rc == 0) {
		rc = io_loop_init(&vm->io);
		if (rc < 0)
			vm_error(err, -rc, "creating the I/O loop: %s", strerror(-rc));
	}
	if (rc == 0)
		rc = create_devices(vm, cfg, err);
	/* A restored guest's memory already holds its kernel, tables and everything since. */
	if (rc == 0 && vm->restore_mem_fd < 0)
		rc = load_guest(vm, cfg, &files, err);
	unmap_guest_files(&files);
	if (rc == 0)
		rc = create_vcpus(vm, vm->restore_mem_fd < 0, err);
	if (rc == 0)
		rc = watch_console_input(vm, cfg, err);
	return rc;
}

void vm_teardown(struct vm *vm)
{
	io_loop_destroy(&vm->io);
	vm_destroy_virtio(vm);
	if (vm->vcpus) {
		for (unsigned int i = 0; i < vm->nvcpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
	}
	serial_input_stop(&vm->serial_input);
	serial_destroy(&vm->serial);
	arch_teardown(vm);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	gmem_dirty_stop(&vm->mem);
	if (vm->ram)
		gmem_ram_unmap(vm->ram, vm->ram_size);
	if (vm->vm_fd >= 0 && vm->release_detached) {
		int rc = vm_release_detached(vm->vm_fd);

		if (rc < 0)
			log_debug("vm", "KVM's teardown stays in this process: %s", strerror(-rc));
	} else if (vm->vm_fd >= 0) {
		close(vm->vm_fd);
	}
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}
