/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct vm owns everything one virtual machine needs: the KVM fds, guest RAM, the buses and
 * devices, the vCPU threads and the I/O thread. There are no globals: two VMs in one process work.
 */
#ifndef KILN_VM_H
#define KILN_VM_H

#include <kiln/kiln.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bus/bus.h"
#include "devices/acpi_pm.h"
#include "devices/i8042.h"
#include "devices/machine_events.h"
#include "devices/serial.h"
#include "devices/serial_input.h"
#include "devices/vmgenid.h"
#include "io/loop.h"
#include "irq/irq.h"
#include "mem/gmem.h"
#include "vcpu/vcpu.h"
#include "virtio/mmio.h"

#define VM_MAX_VIRTIO (KILN_MAX_DISKS + KILN_MAX_NETS + 3) /* disks, nets, console, rng, vsock */

/*
 * File descriptors kept for kiln once a VM is built, which no guest can make it use: the API's
 * connections (16) and its metrics, log and drive files, a disk swapped by kiln_vm_update_disk, a
 * host vsock client accepted only to be refused, and room for an embedder's own.
 */
#define VM_FD_RESERVE 128

struct arch_vm; /* the machine's own state (src/arch/ARCH/machine.c) */
struct virtio_vsock;

/* One virtio device: its backend, the generic view of it, and its MMIO transport. */
struct vm_virtio {
	struct virtio_mmio transport;
	struct virtio_dev *dev;
	void *backend;
	void (*destroy)(void *backend);
	gpa_t base;
	uint32_t gsi;
};

struct vm {
	struct kiln_config cfg;   /* what the VM was built from, its strings owned (vm_config.c) */
	int kvm_fd;
	int vm_fd;
	struct arch_vm *arch;
	void *ram;
	uint64_t ram_size;
	struct gmem mem;
	struct bus pio;
	struct bus mmio;
	struct irq_chip irqchip;
	struct machine_events events;

	struct serial serial;
	struct i8042 i8042;
	struct acpi_pm acpi_pm;
	struct serial_input serial_input; /* kiln's stdin into the UART, when it is the console */
	struct vmgenid vmgenid;           /* a fresh ID at each boot and restore */

	struct vm_virtio virtio[VM_MAX_VIRTIO];
	unsigned int nvirtio;
	struct virtio_blk *disks[KILN_MAX_DISKS]; /* the virtio-blk backends, in cfg.disks order */
	unsigned int ndisks;
	struct virtio_vsock *vsock; /* NULL without one */

	struct io_loop io;
	struct vcpu *vcpus;
	unsigned int nvcpus;
	atomic_bool started; /* atomic: kiln_vm_get_state may read it from another thread (kiln.h) */
	bool release_detached; /* vm_teardown leaves KVM's teardown to a child (kiln_vm_destroy_before_exit) */
	int restore_mem_fd; /* >= 0 while a restore builds the VM: RAM comes from this file (memfile_open) */
	bool ram_maps_file; /* RAM is a memory file's private mapping, not anonymous memory */

	/* Pause: vCPUs park outside KVM_RUN while pause_requested (vm_pause.c). */
	pthread_mutex_t park_lock;
	pthread_cond_t park_cond;
	atomic_bool pause_requested;
	unsigned int parked_vcpus;

	/* How the VM ended: the first stop request wins (0 while running). */
	atomic_int exit_reason;
	int exit_fd; /* eventfd, written once when exit_reason is set (kiln_vm_exit_fd) */
	atomic_int guest_status; /* -1 until the guest reports one */
	atomic_ullong boot_ready_ns;
	atomic_ullong first_run_ns;
	atomic_ullong setup_cpu_ns;
	char exit_detail[256];
};

/*
 * Builds a VM from a checked cfg (kiln_vm_create); with restore_mem_fd >= 0 (-1 for a boot), for a
 * restore: guest RAM is that memory file (memfile_open), mapped copy-on-write, and no kernel is
 * loaded (snapshot/restore.c then loads the state); the fd stays the caller's. vm_destroy undoes
 * it before the VM ran.
 */
int vm_create(const struct kiln_config *cfg, int restore_mem_fd, struct vm **out,
	      struct kiln_error *err) MUST_CHECK;
void vm_destroy(struct vm *vm);
/* A KVM capability a machine needs, and its name for the error. */
struct vm_kvm_cap {
	long cap;
	const char *name;
};
/* 0 if /dev/kvm (vm->kvm_fd) has every one of caps[0..n-1]; else -ENOTSUP naming the first missing. */
int vm_require_kvm_caps(const struct vm *vm, const struct vm_kvm_cap *caps, size_t n,
			struct kiln_error *err) MUST_CHECK;

/* A vCPU thread parks here while a pause is requested; returns on resume or stop. */
void vm_park_vcpu(struct vm *vm);

/* Ends the VM for reason; async-signal-safe when detail is NULL. */
void vm_request_stop(struct vm *vm, enum kiln_exit_reason reason, const char *detail);

/* The virtio devices of cfg on their MMIO transports (vm_virtio.c). */
int vm_create_virtio(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err) MUST_CHECK;
void vm_destroy_virtio(struct vm *vm);
/*
 * Once the VM is built: bounds the vsock connections (a host fd each) to what the soft fd limit
 * leaves after the fds open now and VM_FD_RESERVE more (vm_virtio.c).
 */
void vm_limit_vsock(struct vm *vm);
/* "virtio_mmio.device=4K@0xADDR:GSI" for each device, for kernels without ACPI discovery. */
int vm_virtio_cmdline(const struct vm *vm, char *out, size_t outlen) MUST_CHECK;

/*
 * Dirty pages (vm_dirty.c), for a snapshot taken while nothing writes guest RAM (vCPUs parked, the
 * I/O thread held): ORs into bits (gmem_dirty_words(ram_size) words, a bit per page of the memory
 * file, that is of vm->ram) every page written since the last take, KVM's log and kiln's own,
 * and starts both afresh. On failure bits holds what was taken so far. give_back returns taken
 * pages (of a snapshot that failed) to kiln's bitmap, so the next take has them again.
 */
int vm_dirty_take(struct vm *vm, uint64_t *bits, struct kiln_error *err) MUST_CHECK;
void vm_dirty_give_back(struct vm *vm, const uint64_t *bits);

/* Building and tearing down (vm_build.c). */
int vm_build(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err) MUST_CHECK;
void vm_teardown(struct vm *vm);

#endif
