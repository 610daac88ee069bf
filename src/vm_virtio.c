/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM's virtio devices: each backend on a virtio-mmio transport, a 4 KiB window in the MMIO
 * hole and a GSI of its own, kicks through ioeventfds and interrupts through irqfds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "error.h"
#include "fd_limit.h"
#include "kvm/kvm.h"
#include "log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "vm.h"

static int host_add_ioeventfd(void *opaque, uint64_t addr, uint64_t datamatch, int fd)
{
	struct vm *vm = opaque;

	return kvm_add_ioeventfd(vm->vm_fd, addr, 4, datamatch, fd);
}

static int host_add_irqfd(void *opaque, uint32_t gsi, int fd)
{
	struct vm *vm = opaque;

	return arch_add_irqfd(vm, gsi, fd);
}

static void destroy_blk(void *backend)
{
	virtio_blk_destroy(backend);
}

static void destroy_console(void *backend)
{
	virtio_console_destroy(backend);
}

static void destroy_rng(void *backend)
{
	virtio_rng_destroy(backend);
}

static void destroy_net(void *backend)
{
	virtio_net_destroy(backend);
}

static void destroy_vsock(void *backend)
{
	virtio_vsock_destroy(backend);
}

/* Gives the next window and GSI to dev and wires its transport. */
static int attach(struct vm *vm, struct virtio_dev *dev, void *backend, void (*destroy)(void *),
		  struct kiln_error *err)
{
	const struct virtio_mmio_host host = {
		.add_ioeventfd = host_add_ioeventfd, .add_irqfd = host_add_irqfd, .opaque = vm
	};
	if (vm->nvirtio == VM_MAX_VIRTIO) {
		destroy(backend);
		return vm_error(err, ENOSPC, "too many virtio devices (at most %d)", VM_MAX_VIRTIO);
	}
	struct vm_virtio *v = &vm->virtio[vm->nvirtio];

	v->dev = dev;
	v->backend = backend;
	v->destroy = destroy;
	arch_virtio_place(vm->nvirtio, &v->base, &v->gsi);
	vm->nvirtio++;
	int rc = virtio_mmio_init(&v->transport, dev, &vm->mmio, v->base, v->gsi, &vm->mem, &vm->io, &host);
	return rc < 0 ? vm_error(err, -rc, "%s: cannot wire its transport: %s", dev->name, strerror(-rc)) : 0;
}

static int create_disks(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
{
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		struct virtio_blk *blk;
		int rc = virtio_blk_create(&cfg->disks[i], i, &blk, err->msg, sizeof(err->msg));

		if (rc < 0)
			return rc;
		rc = attach(vm, virtio_blk_dev(blk), blk, destroy_blk, err);
		if (rc < 0)
			return rc;
		vm->disks[vm->ndisks++] = blk;
	}
	return 0;
}

static int create_nics(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
{
	for (unsigned int i = 0; i < cfg->nnets; i++) {
		struct virtio_net *net;
		int rc = virtio_net_create(&cfg->nets[i], i, &net, err->msg, sizeof(err->msg));

		if (rc < 0)
			return rc;
		rc = attach(vm, virtio_net_dev(net), net, destroy_net, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int create_vsock(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
{
	struct virtio_vsock *vsock;
	int rc;

	if (cfg->vsock.guest_cid == 0)
		return 0;
	rc = virtio_vsock_create(&cfg->vsock, &vsock, err->msg, sizeof(err->msg));
	if (rc < 0)
		return rc;
	rc = attach(vm, virtio_vsock_dev(vsock), vsock, destroy_vsock, err);
	if (rc == 0)
		vm->vsock = vsock;
	return rc;
}

void vm_limit_vsock(struct vm *vm)
{
	if (vm->vsock == NULL)
		return;
	/* Counting the open fds reads /proc/self/fd: a VM without vsock skips it. */
	int64_t soft = fd_limit_soft(), open = fd_limit_count_open();

	if (soft < 0) {
		log_warn("vsock", "cannot read the fd limit: %s", strerror((int)-soft));
		return;
	}
	if (open < 0) {
		/* Without /proc the reserve alone stands for kiln's fds. */
		log_warn("vsock", "cannot count the open fds (%s)", strerror((int)-open));
		open = 0;
	}
	uint64_t spare = fd_limit_spare((uint64_t)soft, (uint64_t)open, VM_FD_RESERVE);
	unsigned int max = virtio_vsock_limit_conns(vm->vsock, spare);

	if (max == 0)
		log_warn("vsock", "the fd limit (%lld, %lld open) leaves no room: every connection is refused",
			 (long long)soft, (long long)open);
	else
		log_info("vsock", "at most %u connections (fd limit %lld, %lld open, %d kept for kiln)", max,
			 (long long)soft, (long long)open, VM_FD_RESERVE);
}

int vm_create_virtio(struct vm *vm, const struct kiln_config *cfg, struct kiln_error *err)
{
	int rc = create_disks(vm, cfg, err);

	if (rc == 0)
		rc = create_nics(vm, cfg, err);
	if (rc == 0)
		rc = create_vsock(vm, cfg, err);
	if (rc == 0 && cfg->console == KILN_CONSOLE_VIRTIO) {
		struct virtio_console *console;

		rc = virtio_console_create(cfg->console_in_fd, cfg->console_out_fd, &console);
		if (rc < 0)
			return vm_error(err, -rc, "virtio-console: %s", strerror(-rc));
		rc = attach(vm, virtio_console_dev(console), console, destroy_console, err);
	}
	if (rc == 0 && cfg->rng) {
		struct virtio_rng *rng;

		rc = virtio_rng_create(&rng);
		if (rc < 0)
			return vm_error(err, -rc, "virtio-rng: %s", strerror(-rc));
		rc = attach(vm, virtio_rng_dev(rng), rng, destroy_rng, err);
	}
	return rc;
}

/* Called once the I/O thread has stopped: no device work runs any more. */
void vm_destroy_virtio(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nvirtio; i++) {
		struct vm_virtio *v = &vm->virtio[i];

		virtio_mmio_destroy(&v->transport);
		v->destroy(v->backend);
	}
	vm->nvirtio = 0;
}

int vm_virtio_cmdline(const struct vm *vm, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < vm->nvirtio; i++) {
		int n = snprintf(out + len, outlen - len, " virtio_mmio.device=4K@%#llx:%u",
				 (unsigned long long)vm->virtio[i].base, vm->virtio[i].gsi);
		if (n < 0 || (size_t)n >= outlen - len)
			return -E2BIG;
		len += (size_t)n;
	}
	return 0;
}
