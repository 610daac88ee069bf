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

#include "arch/x86/acpi.h"
#include "arch/x86/boot.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "arch/x86/vcpu_init.h"
#include "devices/debug_port.h"
#include "devices/pvpanic.h"
#include "error.h"
#include "kvm/kvm.h"
#include "log.h"
#include "snapshot/memfile.h"
#include "vm.h"
#include "vm_release.h"

#define KVM_API_VERSION_EXPECTED 12

static int open_kvm(struct vm *vm, struct kiln_error *err)
{
	static const struct { long cap; const char *name; } required[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
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
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (kvm_check_extension(vm->kvm_fd, required[i].cap) <= 0)
			return vm_error(err, ENOTSUP, "/dev/kvm: lacks %s", required[i].name);
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

static int kvm_chip_set_level(void *opaque, uint32_t gsi, int level)
{
	struct vm *vm = opaque;

	return kvm_irq_line(vm->vm_fd, gsi, level);
}

static const struct irq_chip_ops kvm_chip_ops = { .set_level = kvm_chip_set_level };

static int create_vm(struct vm *vm, struct kiln_error *err)
{
	int rc;

	vm->vm_fd = kvm_create_vm(vm->kvm_fd);
	if (vm->vm_fd < 0)
		return vm_error(err, -vm->vm_fd, "KVM_CREATE_VM: %s", strerror(-vm->vm_fd));
	/* KVM needs three pages for its TSS and one for the real-mode identity map, in the hole. */
	rc = kvm_set_tss_addr(vm->vm_fd, X86_TSS_ADDR);
	if (rc == 0)
		rc = kvm_set_identity_map_addr(vm->vm_fd, X86_IDENTITY_MAP_ADDR);
	if (rc < 0)
		return vm_error(err, -rc, "setting up the VM in KVM: %s", strerror(-rc));
	rc = kvm_supported_cpuid(vm->kvm_fd, &vm->cpuid);
	if (rc < 0)
		return vm_error(err, -rc, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-rc));
	if (kvm_check_extension(vm->kvm_fd, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		x86_cpuid_enable_tsc_deadline(vm->cpuid);
	return 0;
}

/*
 * The in-kernel IOAPIC and PIC pair, created after the memslots: KVM_SET_USER_MEMORY_REGION waits
 * for an SRCU grace period once the irqchip's readers exist (4-7 ms measured), and ~0.05 ms before.
 *
 * No in-kernel PIT (KVM_CREATE_PIT2), as in cloud-hypervisor and QEMU microvm's pit=off: freeing it
 * at the VM's exit waits ~12.7 ms (its worker thread, its I/O bus devices, two SRCU grace periods)
 * and creating it ~1.3 ms, half of a tiny guest's life. Linux needs none on this machine: the FADT
 * is hardware-reduced (acpi.c), so Linux installs no PIT or PIC timer (acpi_generic_reduced_hw_init:
 * timer_init is a no-op, legacy_pic the null one, so no IO-APIC check_timer); it takes the TSC's
 * frequency from kvmclock (kvm_get_tsc_khz, X86_FEATURE_TSC_KNOWN_FREQ) rather than calibrating it
 * against the PIT, and times its LAPIC timer with the TSC-deadline mode or, without it, by polling
 * the known TSC (calibrate_APIC_clock). Ports 0x40-0x43 and 0x61 are then unclaimed: reads give 0xff.
 */
static int create_irqchip(struct vm *vm, struct kiln_error *err)
{
	int rc = kvm_create_irqchip(vm->vm_fd);

	if (rc < 0)
		return vm_error(err, -rc, "creating the interrupt controllers in KVM: %s", strerror(-rc));
	vm->irqchip = (struct irq_chip){ .ops = &kvm_chip_ops, .opaque = vm };
	return 0;
}

/*
 * One anonymous mapping, split into the RAM ranges of the memory map; untouched pages cost nothing.
 * The mapping starts 2 MiB-aligned and so do the ranges and their offsets into it (0, and 4 GiB at
 * offset 3 GiB), so each memslot can be backed by huge pages (gmem.h), but for the low RAM below
 * X86_SMALL_PAGE_RAM_END (layout.h).
 */
static int create_ram(struct vm *vm, uint64_t bytes, bool track_dirty, struct kiln_error *err)
{
	struct x86_ram_range ranges[2];
	unsigned int n = x86_ram_ranges(bytes, ranges);
	uint32_t flags = track_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	uint64_t offset = 0;
	int rc = gmem_ram_map(bytes, bytes < X86_SMALL_PAGE_RAM_END ? 0 : X86_SMALL_PAGE_RAM_END, &vm->ram);

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
	struct irq_line com1_irq = { .chip = &vm->irqchip, .gsi = X86_IRQ_COM1 };
	struct irq_line kbd_irq = { .chip = &vm->irqchip, .gsi = I8042_IRQ_KEYBOARD };
	struct irq_line ged_irq = { .chip = &vm->irqchip, .gsi = X86_GED_GSI };
	bool uart_is_console = cfg->console == KILN_CONSOLE_SERIAL;
	int rc = serial_init(&vm->serial, &vm->pio, X86_PORT_COM1, com1_irq,
			     uart_is_console ? cfg->console_out_fd : -1, &vm->io);

	if (rc == 0)
		rc = i8042_init(&vm->i8042, &vm->pio, kbd_irq, &vm->events);
	if (rc == 0)
		rc = debug_port_init(&vm->pio, X86_PORT_DEBUG, &vm->events);
	if (rc == 0)
		rc = pvpanic_init(&vm->pio, X86_PORT_PVPANIC, &vm->events);
	if (rc == 0)
		rc = acpi_pm_init(&vm->acpi_pm, &vm->pio, X86_PORT_ACPI_SLEEP_CONTROL,
				  X86_PORT_ACPI_SLEEP_STATUS, ACPI_S5_SLP_TYP, &vm->events);
	if (rc < 0)
		return vm_error(err, -rc, "registering devices: %s", strerror(-rc));
	vmgenid_init(&vm->vmgenid, &vm->mem, X86_VMGENID_ADDR, ged_irq);
	return vm_create_virtio(vm, cfg, err);
}

_Static_assert(X86_VIRTIO_GSI_BASE + VM_MAX_VIRTIO <= X86_GED_GSI && X86_GED_GSI < X86_IOAPIC_NUM_PINS,
	       "the GED's GSI is an IOAPIC pin of its own");

static int write_acpi(struct vm *vm, gpa_t *rsdp, struct kiln_error *err)
{
	struct acpi_virtio_mmio virtio[VM_MAX_VIRTIO];

	for (unsigned int i = 0; i < vm->nvirtio; i++)
		virtio[i] = (struct acpi_virtio_mmio){ .base = vm->virtio[i].base,
						       .size = X86_VIRTIO_MMIO_SIZE,
						       .gsi = vm->virtio[i].gsi };
	struct acpi_machine machine = {
		.vcpus = vm->nvcpus,
		.ioapic_addr = X86_IOAPIC_ADDR,
		.lapic_addr = X86_LAPIC_ADDR,
		.uart_port = X86_PORT_COM1,
		.uart_irq = X86_IRQ_COM1,
		.kbd_data_port = X86_PORT_I8042_DATA,
		.kbd_cmd_port = X86_PORT_I8042_CMD,
		.kbd_irq = I8042_IRQ_KEYBOARD,
		.sleep_control_port = X86_PORT_ACPI_SLEEP_CONTROL,
		.sleep_status_port = X86_PORT_ACPI_SLEEP_STATUS,
		.pvpanic_port = X86_PORT_PVPANIC,
		.virtio = virtio,
		.nvirtio = vm->nvirtio,
		.vmgenid_addr = X86_VMGENID_ADDR,
		.ged_gsi = X86_GED_GSI,
	};
	void *area = gmem_ptr(&vm->mem, X86_ACPI_ADDR, X86_ACPI_SIZE);
	int rc = area ? acpi_build(&machine, area, X86_ACPI_SIZE, X86_ACPI_ADDR, rsdp) : -ENOSPC;

	gmem_mark_dirty(&vm->mem, X86_ACPI_ADDR, X86_ACPI_SIZE);
	return rc < 0 ? vm_error(err, -rc, "building the ACPI tables: %s", strerror(-rc)) : 0;
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
		      struct x86_boot_cpu *boot, struct kiln_error *err)
{
	char cmdline[KILN_MAX_CMDLINE];
	struct x86_boot_input in = {
		.kernel = files->kernel,
		.kernel_size = files->kernel_size,
		.initrd = files->initrd,
		.initrd_size = files->initrd_size,
		.cmdline = cmdline,
		.ram_bytes = vm->ram_size,
	};
	struct x86_entry entry;
	char why[200] = "";
	int rc = guest_cmdline(vm, cfg, cmdline, sizeof(cmdline), err);

	if (rc == 0)
		rc = write_acpi(vm, &in.rsdp_gpa, err);
	if (rc == 0 && (rc = vmgenid_generate(&vm->vmgenid)) < 0)
		vm_error(err, -rc, "the VM generation ID: %s", strerror(-rc));
	if (rc == 0) {
		rc = x86_boot_load(&vm->mem, &in, &entry, why, sizeof(why));
		if (rc < 0)
			vm_error(err, -rc, "kernel %s: %s", cfg->kernel_path, why);
	}
	if (rc == 0) {
		*boot = (struct x86_boot_cpu){ .long_mode = entry.mode == X86_ENTRY_LONG64,
					       .ip = entry.ip, .boot_info = entry.boot_info };
		rc = x86_write_boot_tables(&vm->mem, boot->long_mode);
		if (rc < 0)
			vm_error(err, -rc, "writing the boot page tables: %s", strerror(-rc));
	}
	return rc;
}

static int create_vcpus(struct vm *vm, const struct x86_boot_cpu *boot, struct kiln_error *err)
{
	int run_size = kvm_vcpu_mmap_size(vm->kvm_fd);

	if (run_size < 0)
		return vm_error(err, -run_size, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(-run_size));
	vm->vcpus = calloc(vm->nvcpus, sizeof(*vm->vcpus));
	if (vm->vcpus == NULL)
		return vm_error(err, ENOMEM, "out of memory for %u vCPUs", vm->nvcpus);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		int rc = vcpu_create(&vm->vcpus[i], vm, i, (size_t)run_size);

		if (rc == 0)
			rc = x86_vcpu_init(vm->vcpus[i].fd, vm->cpuid, i, vm->nvcpus, i == 0 ? boot : NULL);
		if (rc < 0)
			return vm_error(err, -rc, "vCPU %u: %s", i, strerror(-rc));
	}
	return 0;
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
	struct x86_boot_cpu boot = { 0 };
	int rc;

	struct guest_files files = { 0 };

	vm->nvcpus = cfg->vcpus;
	bus_init(&vm->pio, "pio", 0xff);
	bus_init(&vm->mmio, "mmio", 0x00);
	rc = vm->restore_mem_fd >= 0 ? 0 : map_guest_files(cfg, &files, err);
	if (rc == 0)
		rc = open_kvm(vm, err);
	if (rc == 0)
		rc = check_vcpu_limit(vm, cfg->vcpus, err);
	if (rc == 0)
		rc = create_vm(vm, err);
	if (rc == 0)
		rc = create_ram(vm, cfg->mem_bytes, cfg->track_dirty_pages, err);
	if (rc == 0)
		rc = create_irqchip(vm, err);
	if (rc == 0) {
		rc = io_loop_init(&vm->io);
		if (rc < 0)
			vm_error(err, -rc, "creating the I/O loop: %s", strerror(-rc));
	}
	if (rc == 0)
		rc = create_devices(vm, cfg, err);
	/* A restored guest's memory already holds its kernel, tables and everything since. */
	if (rc == 0 && vm->restore_mem_fd < 0)
		rc = load_guest(vm, cfg, &files, &boot, err);
	unmap_guest_files(&files);
	if (rc == 0)
		rc = create_vcpus(vm, vm->restore_mem_fd >= 0 ? NULL : &boot, err);
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
	i8042_destroy(&vm->i8042);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	gmem_dirty_stop(&vm->mem);
	if (vm->ram)
		gmem_ram_unmap(vm->ram, vm->ram_size);
	free(vm->cpuid);
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
