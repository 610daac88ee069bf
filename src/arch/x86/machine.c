/* SPDX-License-Identifier: Apache-2.0 */
/* The x86 microVM behind arch/arch.h: KVM's TSS and IOAPIC/PIC, PIO devices, ACPI, the boot protocols. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/x86/acpi.h"
#include "arch/x86/boot.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/kvm_x86.h"
#include "arch/x86/layout.h"
#include "arch/x86/machine_snapshot.h"
#include "arch/x86/regs.h"
#include "arch/x86/vcpu_init.h"
#include "arch/x86/vcpu_snapshot.h"
#include "arch/x86/vcpu_state.h"
#include "devices/debug_port.h"
#include "devices/pvpanic.h"
#include "error.h"
#include "kvm/kvm.h"
#include "vm.h"

/* What the x86 machine keeps beside struct vm. */
struct arch_vm {
	struct kvm_cpuid2 *cpuid;         /* KVM_GET_SUPPORTED_CPUID, patched per vCPU */
	struct x86_boot_cpu boot;         /* the boot vCPU's entry (arch_load_guest) */
	struct kvm_clock_data paused_clock;
	uint64_t paused_realtime_ns;      /* the host's wall clock when paused_clock was read */
};

int arch_check_kvm(struct vm *vm, struct kiln_error *err)
{
	static const struct vm_kvm_cap required[] = {
		{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	};

	return vm_require_kvm_caps(vm, required, ARRAY_SIZE(required), err);
}

int arch_create_vm(struct vm *vm, struct kiln_error *err)
{
	int rc;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (vm->arch == NULL)
		return vm_error(err, ENOMEM, "out of memory");
	vm->vm_fd = kvm_create_vm(vm->kvm_fd);
	if (vm->vm_fd < 0)
		return vm_error(err, -vm->vm_fd, "KVM_CREATE_VM: %s", strerror(-vm->vm_fd));
	/* KVM needs three pages for its TSS and one for the real-mode identity map, in the hole. */
	rc = kvm_set_tss_addr(vm->vm_fd, X86_TSS_ADDR);
	if (rc == 0)
		rc = kvm_set_identity_map_addr(vm->vm_fd, X86_IDENTITY_MAP_ADDR);
	if (rc < 0)
		return vm_error(err, -rc, "setting up the VM in KVM: %s", strerror(-rc));
	rc = kvm_supported_cpuid(vm->kvm_fd, &vm->arch->cpuid);
	if (rc < 0)
		return vm_error(err, -rc, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-rc));
	if (kvm_check_extension(vm->kvm_fd, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		x86_cpuid_enable_tsc_deadline(vm->arch->cpuid);
	return 0;
}

_Static_assert(ARCH_MAX_RAM_RANGES == 2, "x86_ram_ranges fills at most two");

unsigned int arch_ram_ranges(uint64_t bytes, struct arch_ram_range out[ARCH_MAX_RAM_RANGES])
{
	struct x86_ram_range ranges[2];
	unsigned int n = x86_ram_ranges(bytes, ranges);

	for (unsigned int i = 0; i < n; i++)
		out[i] = (struct arch_ram_range){ .start = ranges[i].start, .size = ranges[i].size };
	return n;
}

/* The low RAM below X86_SMALL_PAGE_RAM_END (layout.h) gets small pages; the rest huge ones. */
uint64_t arch_small_page_ram(uint64_t bytes)
{
	return bytes < X86_SMALL_PAGE_RAM_END ? 0 : X86_SMALL_PAGE_RAM_END;
}

static int kvm_chip_set_level(void *opaque, uint32_t gsi, int level)
{
	struct vm *vm = opaque;

	return kvm_irq_line(vm->vm_fd, gsi, level);
}

static const struct irq_chip_ops kvm_chip_ops = { .set_level = kvm_chip_set_level };

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
int arch_create_irqchip(struct vm *vm, struct kiln_error *err)
{
	int rc = kvm_create_irqchip(vm->vm_fd);

	if (rc < 0)
		return vm_error(err, -rc, "creating the interrupt controllers in KVM: %s", strerror(-rc));
	vm->irqchip = (struct irq_chip){ .ops = &kvm_chip_ops, .opaque = vm };
	return 0;
}

int arch_create_devices(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
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
	return 0;
}

_Static_assert(X86_VIRTIO_GSI_BASE + VM_MAX_VIRTIO <= X86_GED_GSI && X86_GED_GSI < X86_IOAPIC_NUM_PINS,
	       "a GSI per virtio device, and the GED's GSI an IOAPIC pin of its own");

void arch_virtio_place(unsigned int index, gpa_t *base, uint32_t *gsi)
{
	*base = X86_VIRTIO_MMIO_BASE + index * X86_VIRTIO_MMIO_SIZE;
	*gsi = X86_VIRTIO_GSI_BASE + index;
}

int arch_add_irqfd(struct vm *vm, uint32_t gsi, int fd)
{
	return kvm_add_irqfd(vm->vm_fd, gsi, fd);
}

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

int arch_load_guest(struct vm *vm, const struct arch_guest *guest, struct kiln_error *err)
{
	struct x86_boot_input in = {
		.kernel = guest->kernel,
		.kernel_size = guest->kernel_size,
		.initrd = guest->initrd,
		.initrd_size = guest->initrd_size,
		.cmdline = guest->cmdline,
		.ram_bytes = vm->ram_size,
	};
	struct x86_boot_cpu *boot = &vm->arch->boot;
	struct x86_entry entry;
	char why[200] = "";
	int rc = write_acpi(vm, &in.rsdp_gpa, err);

	if (rc == 0 && (rc = vmgenid_generate(&vm->vmgenid)) < 0)
		vm_error(err, -rc, "the VM generation ID: %s", strerror(-rc));
	if (rc == 0) {
		rc = x86_boot_load(&vm->mem, &in, &entry, why, sizeof(why));
		if (rc < 0)
			vm_error(err, -rc, "kernel %s: %s", guest->kernel_path, why);
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

int arch_vcpu_init(struct vm *vm, unsigned int id, bool boot, struct kiln_error *err)
{
	int rc = x86_vcpu_init(vm->vcpus[id].fd, vm->arch->cpuid, id, vm->nvcpus, boot ? &vm->arch->boot : NULL);

	return rc < 0 ? vm_error(err, -rc, "vCPU %u: %s", id, strerror(-rc)) : 0;
}

/* The IOAPIC and PIC need nothing of the vCPUs; each LAPIC comes with its vCPU. */
int arch_vcpus_created(struct vm *vm, struct kiln_error *err)
{
	(void)vm;
	(void)err;
	return 0;
}

void arch_teardown(struct vm *vm)
{
	i8042_destroy(&vm->i8042);
	if (vm->arch)
		free(vm->arch->cpuid);
	free(vm->arch);
}

void arch_describe_vcpu(int vcpu_fd, char *out, size_t outlen)
{
	x86_describe_vcpu(vcpu_fd, out, outlen);
}

int arch_send_ctrl_alt_del(struct vm *vm)
{
	return i8042_send_ctrl_alt_del(&vm->i8042);
}

int arch_pause_clock(struct vm *vm)
{
	int rc = kvm_get_clock(vm->vm_fd, &vm->arch->paused_clock);

	vm->arch->paused_realtime_ns = realtime_ns_now();
	return rc < 0 ? rc : 0;
}

int arch_resume_clock(struct vm *vm)
{
	int rc = kvm_set_clock(vm->vm_fd, &vm->arch->paused_clock);

	return rc < 0 ? rc : 0;
}

const char arch_machine_name[] = "x86_64";

int arch_snapshot_supported(struct kiln_error *err)
{
	(void)err;
	return 0;
}

unsigned int arch_snapshot_vcpus(const struct snap_reader *r)
{
	return snap_count(r, X86_SNAP_TAG_VCPU);
}

int arch_snapshot_save_machine(struct vm *vm, struct snap_writer *w, struct kiln_error *err)
{
	int rc;

	i8042_save(&vm->i8042, w);
	rc = x86_machine_save(vm->vm_fd, &vm->arch->paused_clock, vm->arch->paused_realtime_ns, w);
	if (rc < 0)
		return vm_error(err, -rc, "saving the machine's interrupt controllers and clock: %s",
				strerror(-rc));
	return 0;
}

int arch_snapshot_save_vcpus(struct vm *vm, struct snap_writer *w, struct kiln_error *err)
{
	struct x86_msr_set msrs;
	int rc = x86_msr_set_init(&msrs, vm->kvm_fd);

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

int arch_snapshot_load(struct vm *vm, const struct snap_reader *r, const struct kiln_restore *rs,
		       const char *path, struct kiln_error *err)
{
	struct x86_msr_set msrs;
	char why[256];
	int rc = x86_machine_load(vm->vm_fd, r, rs->clock_realtime, &vm->arch->paused_clock, why, sizeof(why));

	if (rc < 0)
		return vm_error(err, -rc, "snapshot %s: %s", path, why);
	vm->arch->paused_realtime_ns = realtime_ns_now(); /* the wall clock paired with the kvmclock just set */
	rc = x86_msr_set_init(&msrs, vm->kvm_fd);
	if (rc < 0)
		return vm_error(err, -rc, "KVM_GET_MSR_INDEX_LIST: %s", strerror(-rc));
	for (unsigned int i = 0; i < vm->nvcpus && rc == 0; i++) {
		rc = x86_vcpu_load(vm->vcpus[i].fd, i, &msrs, r, why, sizeof(why));
		if (rc < 0)
			vm_error(err, -rc, "snapshot %s: vCPU %u: %s", path, i, why);
	}
	x86_msr_set_free(&msrs);
	if (rc == 0 && (rc = i8042_load(&vm->i8042, r, why, sizeof(why))) < 0)
		vm_error(err, -rc, "snapshot %s: %s", path, why);
	return rc;
}

/* A clone must not be a twin: a new VM generation ID, and the guest told (devices/vmgenid.h). */
int arch_snapshot_restored(struct vm *vm, struct kiln_error *err)
{
	int rc = vmgenid_renew(&vm->vmgenid);

	return rc < 0 ? vm_error(err, -rc, "the VM generation ID: %s", strerror(-rc)) : 0;
}
