/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pages of guest RAM written since the last take, for a Diff snapshot: KVM's dirty log of each
 * memslot (the vCPUs' writes; KVM also logs its own, such as kvmclock updates) ORed with kiln's
 * own bitmap of the same region (what devices and the loader wrote from userspace, which KVM does
 * not see). KVM_GET_DIRTY_LOG: Documentation/virt/kvm/api.rst §4.8; without
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled it clears the log and write-protects the pages again
 * in the same call, so each write lands in exactly one take.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kvm/kvm.h"
#include "vm.h"

/* Region i's first word in a bitmap of the memory file (vm->ram), or -EINVAL if not word-aligned. */
static int64_t region_word(const struct vm *vm, unsigned int i)
{
	uint64_t page = (uint64_t)(vm->mem.regions[i].host - (uint8_t *)vm->ram) / GMEM_PAGE_SIZE;

	/* create_ram places regions at 2 MiB offsets: whole words of 64 pages. */
	return page % 64 ? -EINVAL : (int64_t)(page / 64);
}

int vm_dirty_take(struct vm *vm, uint64_t *bits, struct kiln_error *err)
{
	if (!vm->mem.tracking)
		return vm_error(err, EINVAL, "the VM does not track dirty pages");
	for (unsigned int i = 0; i < vm->mem.nregions; i++) {
		uint64_t words = gmem_dirty_words(vm->mem.regions[i].size);
		int64_t at = region_word(vm, i);
		uint64_t *log = calloc(words, sizeof(*log));
		int rc = at < 0 ? (int)at : log ? kvm_get_dirty_log(vm->vm_fd, i, log) : -ENOMEM;

		for (uint64_t w = 0; rc == 0 && w < words; w++)
			bits[at + (int64_t)w] |= log[w];
		free(log);
		if (rc < 0)
			return vm_error(err, -rc, "KVM_GET_DIRTY_LOG of memory slot %u: %s", i, strerror(-rc));
		gmem_dirty_take(&vm->mem, i, bits + at);
	}
	return 0;
}

void vm_dirty_give_back(struct vm *vm, const uint64_t *bits)
{
	for (unsigned int i = 0; i < vm->mem.nregions; i++) {
		int64_t at = region_word(vm, i);

		if (at >= 0)
			gmem_dirty_give_back(&vm->mem, i, bits + at);
	}
}
