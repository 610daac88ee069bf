/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arm64 machine behind arch/arch.h: vCPUs with PSCI 0.2 in KVM, the in-kernel GICv3 (no ITS:
 * see arch_create_irqchip) with the architected timer, the 16550 UART and the debug device on the
 * MMIO bus, a Linux Image booted with a device tree (Documentation/arch/arm64/booting.rst).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/arm64/fdt.h"
#include "arch/arm64/image.h"
#include "arch/arm64/kvm_arm64.h"
#include "arch/arm64/layout.h"
#include "arch/arm64/snapshot.h"
#include "devices/debug_port.h"
#include "error.h"
#include "kvm/kvm.h"
#include "vm.h"

/* What the arm64 machine keeps beside struct vm. */
struct arch_vm {
	int gic_fd; /* the vgic-v3 device */
	bool gic_ready; /* KVM_DEV_ARM_VGIC_CTRL_INIT done: irqfds can be added */
	/* irqfds asked for before, added once it is (KVM refuses them until then) */
	struct { uint32_t gsi; int fd; } pending_irqfds[VM_MAX_VIRTIO];
	unsigned int npending_irqfds;
	uint64_t entry;   /* the kernel's first instruction (arch_load_guest) */
	uint64_t fdt_gpa; /* the device tree, in x0 at entry */
	uint64_t paused_counter; /* the guest's virtual counter at the last pause (arch_pause_clock) */
};

/* KVM_REG_ARM_CORE register ids of struct kvm_regs' fields (Documentation/virt/kvm/api.rst 4.68). */
#define ARM64_CORE_REG(field) \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(field))
/* PSTATE at entry: EL1h, D, A, I and F masked (booting.rst: "All forms of interrupts must be masked"). */
#define ARM64_PSTATE_EL1H_DAIF 0x3c5ull

int arch_check_kvm(struct vm *vm, struct kiln_error *err)
{
	static const struct vm_kvm_cap required[] = {
		{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
		{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
		{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
		{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
		{ KVM_CAP_ARM_NISV_TO_USER, "KVM_CAP_ARM_NISV_TO_USER" }, /* Linux 5.5: arch_create_vm */
	};

	return vm_require_kvm_caps(vm, required, ARRAY_SIZE(required), err);
}

/*
 * KVM_CREATE_VM's type 0 gives a 40-bit guest-physical space (KVM_CAP_ARM_VM_IPA_SIZE's default):
 * room for the device area, RAM from 2 GiB and the largest RAM kiln accepts.
 *
 * An access to an address outside RAM whose data abort has no valid syndrome (a load/store pair,
 * one with writeback, SIMD registers: the Arm ARM's ESR_ELx ISS for a Data Abort, ISV 0) cannot be
 * emulated. Without KVM_CAP_ARM_NISV_TO_USER, KVM_RUN fails with ENOSYS and no address; with it,
 * the vCPU exits with KVM_EXIT_ARM_NISV and the address (api.rst), which vcpu/exit.c reports.
 */
int arch_create_vm(struct vm *vm, struct kiln_error *err)
{
	int rc;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (vm->arch == NULL)
		return vm_error(err, ENOMEM, "out of memory");
	vm->arch->gic_fd = -1;
	vm->vm_fd = kvm_create_vm(vm->kvm_fd);
	if (vm->vm_fd < 0)
		return vm_error(err, -vm->vm_fd, "KVM_CREATE_VM: %s", strerror(-vm->vm_fd));
	rc = kvm_enable_vm_cap(vm->vm_fd, KVM_CAP_ARM_NISV_TO_USER);
	if (rc < 0)
		return vm_error(err, -rc, "KVM_ENABLE_CAP KVM_CAP_ARM_NISV_TO_USER: %s", strerror(-rc));
	return 0;
}

/* One range of RAM from ARM64_RAM_BASE, above the device area. */
unsigned int arch_ram_ranges(uint64_t bytes, struct arch_ram_range out[ARCH_MAX_RAM_RANGES])
{
	out[0] = (struct arch_ram_range){ .start = ARM64_RAM_BASE, .size = bytes };
	return 1;
}

/* The kernel runs from near RAM's start and the DTB sits at its top: huge pages throughout. */
uint64_t arch_small_page_ram(uint64_t bytes)
{
	(void)bytes;
	return 0;
}

/* KVM_IRQ_LINE's irq on arm64: the type in bits 24-27, the INTID below (api.rst, KVM_IRQ_LINE). */
static int gic_set_level(void *opaque, uint32_t gsi, int level)
{
	struct vm *vm = opaque;
	uint32_t irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (gsi + ARM64_SPI_INTID_BASE);

	return kvm_irq_line(vm->vm_fd, irq, level);
}

static const struct irq_chip_ops gic_ops = { .set_level = gic_set_level };

static int gic_attr(int fd, uint32_t group, uint64_t attr, const void *value, const char *what,
		    struct kiln_error *err)
{
	int rc = kvm_set_device_attr(fd, group, attr, value);

	return rc < 0 ? vm_error(err, -rc, "the GICv3 in KVM: %s: %s", what, strerror(-rc)) : 0;
}

/*
 * The vgic-v3 (api.rst and Documentation/virt/kvm/devices/arm-vgic-v3.rst): its distributor and
 * redistributor addresses and its interrupt count now; KVM_DEV_ARM_VGIC_CTRL_INIT once every vCPU
 * exists (arch_vcpus_created), as KVM sizes the redistributors by them.
 *
 * No ITS: it translates MSIs, and virtio-mmio devices raise wired SPIs. One in the tree made the
 * guest set up LPI tables and its command queue at boot for nothing, and a snapshot would have to
 * save its tables into guest RAM and restore them in the order arm-vgic-its.rst gives; it comes
 * back with a transport that has MSIs (virtio-pci).
 */
int arch_create_irqchip(struct vm *vm, struct kiln_error *err)
{
	uint64_t dist = ARM64_GICD_ADDR, redist = ARM64_GICR_ADDR;
	uint32_t nr_irqs = ARM64_GIC_NR_IRQS;
	int fd = kvm_create_device(vm->vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3, 0);
	int rc;

	if (fd < 0)
		return vm_error(err, -fd, "creating the GICv3 in KVM: %s", strerror(-fd));
	vm->arch->gic_fd = fd;
	rc = gic_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist, "distributor", err);
	if (rc == 0)
		rc = gic_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist,
			      "redistributors", err);
	if (rc == 0)
		rc = gic_attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs, "interrupt count", err);
	if (rc < 0)
		return rc;
	vm->irqchip = (struct irq_chip){ .ops = &gic_ops, .opaque = vm };
	return 0;
}

/*
 * The virtio transports ask for their irqfds when they are created, before the vCPUs; KVM takes an
 * irqfd on arm64 only once the vgic is initialised, which needs every vCPU (arm-vgic-v3.rst).
 */
int arch_add_irqfd(struct vm *vm, uint32_t gsi, int fd)
{
	struct arch_vm *a = vm->arch;

	if (a->gic_ready)
		return kvm_add_irqfd(vm->vm_fd, gsi, fd);
	if (a->npending_irqfds == ARRAY_SIZE(a->pending_irqfds))
		return -ENOSPC;
	a->pending_irqfds[a->npending_irqfds].gsi = gsi;
	a->pending_irqfds[a->npending_irqfds].fd = fd;
	a->npending_irqfds++;
	return 0;
}

int arch_vcpus_created(struct vm *vm, struct kiln_error *err)
{
	struct arch_vm *a = vm->arch;
	int rc = gic_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL, "init", err);

	if (rc < 0)
		return rc;
	a->gic_ready = true;
	for (unsigned int i = 0; i < a->npending_irqfds; i++) {
		rc = kvm_add_irqfd(vm->vm_fd, a->pending_irqfds[i].gsi, a->pending_irqfds[i].fd);
		if (rc < 0)
			return vm_error(err, -rc, "KVM_IRQFD for GSI %u: %s", a->pending_irqfds[i].gsi,
					strerror(-rc));
	}
	a->npending_irqfds = 0;
	return 0;
}

/* The UART and the debug device are byte registers on the MMIO bus; there is no PIO bus here. */
int arch_create_devices(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
{
	struct irq_line uart_irq = { .chip = &vm->irqchip, .gsi = ARM64_UART_SPI };
	bool uart_is_console = cfg->console == KILN_CONSOLE_SERIAL;
	int rc = serial_init(&vm->serial, &vm->mmio, ARM64_UART_ADDR, uart_irq,
			     uart_is_console ? cfg->console_out_fd : -1, &vm->io);

	if (rc == 0)
		rc = debug_port_init(&vm->mmio, ARM64_DEBUG_ADDR, &vm->events);
	return rc < 0 ? vm_error(err, -rc, "registering devices: %s", strerror(-rc)) : 0;
}

_Static_assert(ARM64_VIRTIO_SPI_BASE + VM_MAX_VIRTIO + ARM64_SPI_INTID_BASE <= ARM64_GIC_NR_IRQS,
	       "an SPI per virtio device within the vgic's interrupts");

void arch_virtio_place(unsigned int index, gpa_t *base, uint32_t *gsi)
{
	*base = ARM64_VIRTIO_MMIO_BASE + index * ARM64_VIRTIO_MMIO_SIZE;
	*gsi = ARM64_VIRTIO_SPI_BASE + index;
}

/*
 * Where the DTB goes: the top of RAM, within one 2 MiB block (booting.rst: 8-byte aligned, and the
 * kernel maps it with blocks of up to 2 MiB).
 */
static uint64_t fdt_place(uint64_t ram_size)
{
	uint64_t top = ALIGN_DOWN(ARM64_RAM_BASE + ram_size, MiB(2));

	return top - ARM64_FDT_MAX_SIZE;
}

static int write_fdt(struct vm *vm, const char *cmdline, uint64_t initrd_start, uint64_t initrd_end,
		     struct kiln_error *err)
{
	struct arm64_fdt_virtio virtio[VM_MAX_VIRTIO];

	for (unsigned int i = 0; i < vm->nvirtio; i++)
		virtio[i] = (struct arm64_fdt_virtio){ .base = vm->virtio[i].base, .size = ARM64_VIRTIO_MMIO_SIZE,
						       .spi = vm->virtio[i].gsi };
	const struct arm64_fdt_machine m = {
		.ram_base = ARM64_RAM_BASE,
		.ram_size = vm->ram_size,
		.ncpus = vm->nvcpus,
		.gicd_base = ARM64_GICD_ADDR,
		.gicd_size = ARM64_GICD_SIZE,
		.gicr_base = ARM64_GICR_ADDR,
		.gicr_size = vm->nvcpus * ARM64_GICR_SIZE_PER_CPU,
		.uart_base = ARM64_UART_ADDR,
		.uart_size = ARM64_UART_SIZE,
		.uart_spi = ARM64_UART_SPI,
		.uart_clock_hz = ARM64_UART_CLOCK_HZ,
		.debug_base = ARM64_DEBUG_ADDR,
		.debug_size = ARM64_DEBUG_SIZE,
		.virtio = virtio,
		.nvirtio = vm->nvirtio,
		.bootargs = cmdline,
		.initrd_start = initrd_start,
		.initrd_end = initrd_end,
	};
	uint64_t gpa = fdt_place(vm->ram_size);
	void *blob = gmem_ptr(&vm->mem, gpa, ARM64_FDT_MAX_SIZE);
	char why[200] = "";
	int rc = blob ? arm64_fdt_build(&m, blob, ARM64_FDT_MAX_SIZE, why, sizeof(why)) : -ENOSPC;

	if (rc < 0)
		return vm_error(err, -rc, "the device tree: %s", blob ? why : "no room at the top of RAM");
	gmem_mark_dirty(&vm->mem, gpa, ARM64_FDT_MAX_SIZE);
	vm->arch->fdt_gpa = gpa;
	return 0;
}

/* Copies len bytes of data to gpa, which the caller checked lies in RAM. */
static int copy_to_guest(struct vm *vm, uint64_t gpa, const uint8_t *data, size_t len)
{
	void *dst = gmem_ptr(&vm->mem, gpa, len);

	if (dst == NULL)
		return -ENOSPC;
	memcpy(dst, data, len);
	gmem_mark_dirty(&vm->mem, gpa, len);
	return 0;
}

/*
 * The Image at its placement (image.c: 2 MiB aligned + text_offset), the initrd page-aligned just
 * below the DTB, the DTB at the top: the initrd must end above the kernel's image_size (its BSS).
 */
int arch_load_guest(struct vm *vm, const struct arch_guest *guest, struct kiln_error *err)
{
	struct arm64_image im;
	uint64_t load, initrd_start = 0, initrd_end = 0, fdt_gpa = fdt_place(vm->ram_size);
	char why[200] = "";
	int rc = arm64_image_parse(guest->kernel, guest->kernel_size, &im, why, sizeof(why));

	if (rc == 0)
		rc = arm64_image_place(&im, ARM64_RAM_BASE, vm->ram_size, &load, why, sizeof(why));
	if (rc < 0)
		return vm_error(err, -rc, "kernel %s: %s", guest->kernel_path, why);
	if (load + im.image_size > fdt_gpa)
		return vm_error(err, E2BIG, "kernel %s: %llu MiB of RAM leave no room for the device tree",
				guest->kernel_path, (unsigned long long)(vm->ram_size >> 20));
	if (guest->initrd) {
		initrd_end = fdt_gpa;
		if (guest->initrd_size > initrd_end - (load + im.image_size))
			return vm_error(err, E2BIG, "initrd of %zu bytes: does not fit between the kernel and "
					"the top of %llu MiB of RAM", guest->initrd_size,
					(unsigned long long)(vm->ram_size >> 20));
		initrd_start = ALIGN_DOWN(initrd_end - guest->initrd_size, KiB(4));
		if (initrd_start < load + im.image_size)
			return vm_error(err, E2BIG, "initrd of %zu bytes: does not fit below the device tree",
					guest->initrd_size);
		initrd_end = initrd_start + guest->initrd_size;
	}
	rc = copy_to_guest(vm, load, guest->kernel, guest->kernel_size);
	if (rc == 0 && guest->initrd)
		rc = copy_to_guest(vm, initrd_start, guest->initrd, guest->initrd_size);
	if (rc < 0)
		return vm_error(err, -rc, "loading the guest: %s", strerror(-rc));
	vm->arch->entry = load;
	return write_fdt(vm, guest->cmdline, initrd_start, initrd_end, err);
}

/*
 * Every vCPU: the host's preferred target with PSCI 0.2 (KVM answers the guest's PSCI calls: CPU_ON
 * starts a secondary, SYSTEM_OFF and SYSTEM_RESET exit with KVM_EXIT_SYSTEM_EVENT). The secondaries
 * start powered off, waiting for CPU_ON. The boot vCPU gets booting.rst's entry: PC at the Image,
 * x0 the DTB, x1-x3 zero (KVM's reset), EL1h with DAIF masked.
 */
int arch_vcpu_init(struct vm *vm, unsigned int id, bool boot, struct kiln_error *err)
{
	struct kvm_vcpu_init init;
	int fd = vm->vcpus[id].fd;
	int rc = kvm_arm_preferred_target(vm->vm_fd, &init);

	if (rc < 0)
		return vm_error(err, -rc, "KVM_ARM_PREFERRED_TARGET: %s", strerror(-rc));
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (id > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	rc = kvm_arm_vcpu_init(fd, &init);
	if (rc < 0)
		return vm_error(err, -rc, "vCPU %u: KVM_ARM_VCPU_INIT: %s", id, strerror(-rc));
	if (!boot)
		return 0;
	rc = kvm_set_one_reg(fd, ARM64_CORE_REG(regs.pstate), ARM64_PSTATE_EL1H_DAIF);
	if (rc == 0)
		rc = kvm_set_one_reg(fd, ARM64_CORE_REG(regs.regs[0]), vm->arch->fdt_gpa);
	if (rc == 0)
		rc = kvm_set_one_reg(fd, ARM64_CORE_REG(regs.pc), vm->arch->entry);
	return rc < 0 ? vm_error(err, -rc, "vCPU %u: setting its boot registers: %s", id, strerror(-rc)) : 0;
}

void arch_teardown(struct vm *vm)
{
	if (vm->arch == NULL)
		return;
	if (vm->arch->gic_fd >= 0)
		close(vm->arch->gic_fd);
	free(vm->arch);
	vm->arch = NULL;
}

void arch_describe_vcpu(int vcpu_fd, char *out, size_t outlen)
{
	uint64_t pc = 0, pstate = 0, sp = 0, sp_el1 = 0, elr_el1 = 0;
	int rc = kvm_get_one_reg(vcpu_fd, ARM64_CORE_REG(regs.pc), &pc);

	if (rc == 0)
		rc = kvm_get_one_reg(vcpu_fd, ARM64_CORE_REG(regs.pstate), &pstate);
	if (rc == 0)
		rc = kvm_get_one_reg(vcpu_fd, ARM64_CORE_REG(regs.sp), &sp);
	if (rc == 0)
		rc = kvm_get_one_reg(vcpu_fd, ARM64_CORE_REG(sp_el1), &sp_el1);
	if (rc == 0)
		rc = kvm_get_one_reg(vcpu_fd, ARM64_CORE_REG(elr_el1), &elr_el1);
	if (rc < 0)
		snprintf(out, outlen, "KVM_GET_ONE_REG failed: %s", strerror(-rc));
	else
		snprintf(out, outlen, "pc=%#llx pstate=%#llx sp_el0=%#llx sp_el1=%#llx elr_el1=%#llx",
			 (unsigned long long)pc, (unsigned long long)pstate, (unsigned long long)sp,
			 (unsigned long long)sp_el1, (unsigned long long)elr_el1);
}

/* No keyboard controller on this machine. */
int arch_send_ctrl_alt_del(struct vm *vm)
{
	(void)vm;
	return -ENOTSUP;
}

/*
 * The guest's clock is the architected virtual counter, which runs on while the vCPUs are parked: a
 * pause keeps its value and resume writes it back, so the guest sees no time pass, as x86's kvmclock
 * (README, "The guest's clock"). A write of KVM_REG_ARM_TIMER_CNT to one vCPU sets the VM-wide
 * offset, CNTVOFF, of every vCPU (api.rst, KVM_ARM_SET_COUNTER_OFFSET: the legacy interface).
 */
int arch_pause_clock(struct vm *vm)
{
	return kvm_get_one_reg(vm->vcpus[0].fd, KVM_REG_ARM_TIMER_CNT, &vm->arch->paused_counter);
}

int arch_resume_clock(struct vm *vm)
{
	return kvm_set_one_reg(vm->vcpus[0].fd, KVM_REG_ARM_TIMER_CNT, vm->arch->paused_counter);
}

const char arch_machine_name[] = "aarch64";

/*
 * Snapshots: the sections of snapshot.h. The VM is paused (arch_pause_clock kept the counter), so
 * the vCPUs are out of KVM_RUN, as KVM's vgic and ONE_REG accesses require (-EBUSY otherwise).
 */
int arch_snapshot_supported(struct kiln_error *err)
{
	(void)err;
	return 0;
}

unsigned int arch_snapshot_vcpus(const struct snap_reader *r)
{
	return snap_count(r, ARM64_SNAP_TAG_VCPU);
}

/* Each vCPU's fd, calloc'd, for the vgic's per-vCPU registers. */
static int *vcpu_fds(const struct vm *vm)
{
	int *fds = calloc(vm->nvcpus, sizeof(*fds));

	for (unsigned int i = 0; fds && i < vm->nvcpus; i++)
		fds[i] = vm->vcpus[i].fd;
	return fds;
}

/* The UART is saved by snapshot.c; the debug device has no state. */
int arch_snapshot_save_machine(struct vm *vm, struct snap_writer *w, struct kiln_error *err)
{
	int *fds = vcpu_fds(vm);
	int rc = fds ? arm64_gic_save(vm->arch->gic_fd, fds, vm->nvcpus, w) : -ENOMEM;

	free(fds);
	return rc < 0 ? vm_error(err, -rc, "saving the GICv3: %s", strerror(-rc)) : 0;
}

int arch_snapshot_save_vcpus(struct vm *vm, struct snap_writer *w, struct kiln_error *err)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		int rc = arm64_vcpu_save(vm->vcpus[i].fd, i, vm->arch->paused_counter, w);

		if (rc < 0)
			return vm_error(err, -rc, "saving vCPU %u: %s", i, strerror(-rc));
	}
	return 0;
}

/*
 * The vCPUs first (their MPIDRs name the redistributors), then the vgic, initialised by vm_create
 * as at boot; the counter the guest will see is what a resume gives back (rs->paused).
 */
int arch_snapshot_load(struct vm *vm, const struct snap_reader *r, const struct kiln_restore *rs,
		       const char *path, struct kiln_error *err)
{
	char why[256];
	int *fds;
	int rc;

	if (rs->clock_realtime)
		return vm_error(err, ENOTSUP, "snapshot %s: clock_realtime is not supported on arm64 yet", path);
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		if ((rc = arm64_vcpu_load(vm->vcpus[i].fd, i, r, why, sizeof(why))) < 0)
			return vm_error(err, -rc, "snapshot %s: vCPU %u: %s", path, i, why);
	if ((fds = vcpu_fds(vm)) == NULL)
		return vm_error(err, ENOMEM, "out of memory");
	rc = arm64_gic_load(vm->arch->gic_fd, fds, vm->nvcpus, r, why, sizeof(why));
	free(fds);
	if (rc < 0)
		return vm_error(err, -rc, "snapshot %s: %s", path, why);
	rc = kvm_get_one_reg(vm->vcpus[0].fd, KVM_REG_ARM_TIMER_CNT, &vm->arch->paused_counter);
	return rc < 0 ? vm_error(err, -rc, "snapshot %s: the virtual counter: %s", path, strerror(-rc)) : 0;
}

/* No VM generation ID on this machine (no ACPI): a clone has nothing to renew. */
int arch_snapshot_restored(struct vm *vm, struct kiln_error *err)
{
	(void)vm;
	(void)err;
	return 0;
}
