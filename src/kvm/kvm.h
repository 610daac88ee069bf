/* SPDX-License-Identifier: Apache-2.0 */
/*
 * With src/arch/ARCH/kvm_ARCH.c (the ioctls only one architecture has), the only place that calls
 * ioctl() on /dev/kvm, VM and vCPU file descriptors. Each wrapper returns 0 (or a non-negative value
 * the ioctl defines) or -errno. Unit tests link tests/fakes/fake_kvm.c in place of both.
 */
#ifndef KILN_KVM_KVM_H
#define KILN_KVM_KVM_H

#include <linux/kvm.h>
#include <stdint.h>

#include "util.h"

/* System: /dev/kvm. */
int kvm_open_system(void) MUST_CHECK; /* the fd, or -errno */
int kvm_api_version(int kvm_fd) MUST_CHECK;
int kvm_check_extension(int fd, long cap); /* > 0 if present, 0 if not */
int kvm_vcpu_mmap_size(int kvm_fd) MUST_CHECK;

/* VM. */
int kvm_create_vm(int kvm_fd) MUST_CHECK;
int kvm_create_irqchip(int vm_fd) MUST_CHECK;
/* flags: KVM_MEM_LOG_DIRTY_PAGES or 0. */
int kvm_set_memory_region(int vm_fd, uint32_t slot, gpa_t gpa, uint64_t size, void *host,
			  uint32_t flags) MUST_CHECK;
/*
 * KVM_GET_DIRTY_LOG: the pages of memslot `slot` the vCPUs wrote since the last call, a bit each
 * into bitmap (one per 4 KiB page, 64-bit words, zero-padded to a whole word); KVM clears its log.
 */
int kvm_get_dirty_log(int vm_fd, uint32_t slot, uint64_t *bitmap) MUST_CHECK;
int kvm_irq_line(int vm_fd, uint32_t gsi, int level) MUST_CHECK;
int kvm_create_vcpu(int vm_fd, unsigned int id) MUST_CHECK;
int kvm_get_clock(int vm_fd, struct kvm_clock_data *clock) MUST_CHECK;
int kvm_set_clock(int vm_fd, const struct kvm_clock_data *clock) MUST_CHECK;
/* A guest write of datamatch (len bytes) at the MMIO address addr signals fd, with no vCPU exit. */
int kvm_add_ioeventfd(int vm_fd, uint64_t addr, uint32_t len, uint64_t datamatch, int fd) MUST_CHECK;
/* A write to fd raises the GSI. */
int kvm_add_irqfd(int vm_fd, uint32_t gsi, int fd) MUST_CHECK;

/* vCPU. */
int kvm_run(int vcpu_fd); /* -EINTR when kicked */

#endif
