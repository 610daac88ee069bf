/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a machine must provide: one implementation per architecture, src/arch/ARCH/machine.c (the
 * Makefile compiles src/arch/$(ARCH)/ only). The generic code (vm_build.c, vm_virtio.c, vm_pause.c,
 * vm_control.c, vcpu/exit.c, snapshot/) calls these and nothing else of the architecture's: nothing
 * outside src/arch/ asks which one it is built for.
 *
 * Unless said otherwise each returns 0, or -errno with err filled in (vm_error).
 */
#ifndef KILN_ARCH_ARCH_H
#define KILN_ARCH_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct kiln_config;
struct kiln_error;
struct kiln_restore;
struct snap_reader;
struct snap_writer;
struct vm;

/* Building a VM, in this order (vm_build.c). */

/* Checks what the machine needs of /dev/kvm (vm->kvm_fd) beyond the generic capabilities. */
int arch_check_kvm(struct vm *vm, struct kiln_error *err) MUST_CHECK;
/* KVM_CREATE_VM (vm->vm_fd) and what the VM needs before its memory; allocates vm->arch. */
int arch_create_vm(struct vm *vm, struct kiln_error *err) MUST_CHECK;

/* Guest RAM as at most ARCH_MAX_RAM_RANGES ranges of guest-physical memory, in order. */
#define ARCH_MAX_RAM_RANGES 2
struct arch_ram_range {
	gpa_t start;
	uint64_t size;
};
/* Where bytes of RAM go; returns how many ranges it filled. */
unsigned int arch_ram_ranges(uint64_t bytes, struct arch_ram_range out[ARCH_MAX_RAM_RANGES]);
/* The first bytes of RAM to back with small pages (gmem_ram_map's small_bytes): 0 for none. */
uint64_t arch_small_page_ram(uint64_t bytes);

/* The in-kernel interrupt controller, once the memory slots exist; vm->irqchip routes GSIs to it. */
int arch_create_irqchip(struct vm *vm, struct kiln_error *err) MUST_CHECK;
/* The console UART, the debug device and the platform's other devices (not the virtio ones). */
int arch_create_devices(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err) MUST_CHECK;
/* Virtio device number index (0..VM_MAX_VIRTIO-1): its MMIO window (4 KiB) and GSI. */
void arch_virtio_place(unsigned int index, gpa_t *base, uint32_t *gsi);
/* A write to the eventfd fd raises gsi (KVM_IRQFD), now or once the irqchip can take it; -errno. */
int arch_add_irqfd(struct vm *vm, uint32_t gsi, int fd) MUST_CHECK;

/* The guest's files, mapped by vm_build.c, and its command line. */
struct arch_guest {
	const char *kernel_path; /* for errors */
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd; /* NULL without one */
	size_t initrd_size;
	const char *cmdline;
};
/* Loads the kernel, initrd and boot tables into RAM, and keeps the boot vCPU's entry in vm->arch. */
int arch_load_guest(struct vm *vm, const struct arch_guest *guest, struct kiln_error *err) MUST_CHECK;
/* Sets up vCPU id (created by vcpu_create); boot: give the boot vCPU its entry (not on a restore). */
int arch_vcpu_init(struct vm *vm, unsigned int id, bool boot, struct kiln_error *err) MUST_CHECK;
/* Once every vCPU exists: what the interrupt controller needs them for. */
int arch_vcpus_created(struct vm *vm, struct kiln_error *err) MUST_CHECK;
/* Frees what arch_create_vm and the devices of arch_create_devices hold (not the fds). */
void arch_teardown(struct vm *vm);

/* A running VM. */

/* The vCPU's registers in one line for a crash report (always terminated). */
void arch_describe_vcpu(int vcpu_fd, char *out, size_t outlen);
/* Ctrl-Alt-Del through the platform's keyboard: 0, -EAGAIN (not listening yet) or -ENOTSUP. */
int arch_send_ctrl_alt_del(struct vm *vm) MUST_CHECK;
/* With every vCPU parked: saves the guest's clock for the pause; restores it on resume (-errno). */
int arch_pause_clock(struct vm *vm) MUST_CHECK;
int arch_resume_clock(struct vm *vm) MUST_CHECK;

/* Snapshots (snapshot/): -ENOTSUP with err filled in where the machine has none. */

/* The machine's name in a state file, as uname -m says it: a restore refuses another's. */
extern const char arch_machine_name[];
/* Whether a snapshot can be taken at all; a one-line why in err otherwise. */
int arch_snapshot_supported(struct kiln_error *err) MUST_CHECK;
/* The vCPU sections a state file holds. */
unsigned int arch_snapshot_vcpus(const struct snap_reader *r);
/* The platform devices and the interrupt controller and clock, after the configuration section. */
int arch_snapshot_save_machine(struct vm *vm, struct snap_writer *w, struct kiln_error *err) MUST_CHECK;
/* Each vCPU's section, after the virtio devices'. */
int arch_snapshot_save_vcpus(struct vm *vm, struct snap_writer *w, struct kiln_error *err) MUST_CHECK;
/* Into a VM built for the restore: the machine, its vCPUs and the platform devices (path for errors). */
int arch_snapshot_load(struct vm *vm, const struct snap_reader *r, const struct kiln_restore *rs,
		       const char *path, struct kiln_error *err) MUST_CHECK;
/* Once every device is loaded: what a clone must change so that it is no twin of its origin. */
int arch_snapshot_restored(struct vm *vm, struct kiln_error *err) MUST_CHECK;

#endif
