/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Restoring a snapshot (kiln_vm_restore): read and check the state file, build the machine it
 * describes through the same vm_create as a boot (RAM from the memory file, no kernel loaded),
 * then load the machine's and each vCPU's state into it. Any failure destroys what was built.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/machine_snapshot.h"
#include "arch/x86/vcpu_snapshot.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "snapshot/config_section.h"
#include "snapshot/snap_file.h"
#include "virtio/mmio_snapshot.h"
#include "virtio/net.h"
#include "vm.h"

void kiln_restore_init(struct kiln_restore *rs)
{
	*rs = (struct kiln_restore){ .console_in_fd = STDIN_FILENO, .console_out_fd = STDOUT_FILENO };
}

/* The snapshot's NIC with this id, or -1. */
static int restore_find_net(const struct kiln_config *cfg, const char *id)
{
	char buf[CONFIG_NET_ID_SIZE];

	for (unsigned int i = 0; i < cfg->nnets; i++)
		if (strcmp(config_net_id(cfg, i, buf), id) == 0)
			return (int)i;
	return -1;
}

/*
 * Each override moves its NIC to another tap. A NIC made without a MAC had the one derived from
 * its tap's name (virtio_net_default_mac): it keeps that one, which the guest knows it by.
 */
static int restore_net_overrides(const struct kiln_restore *rs, struct kiln_config *cfg, struct kiln_error *err)
{
	bool moved[KILN_MAX_NETS] = { false };

	if (rs->n_net_overrides > KILN_MAX_NETS)
		return vm_error(err, EINVAL, "%u network overrides: a VM has at most %d NICs", rs->n_net_overrides,
				KILN_MAX_NETS);
	for (unsigned int k = 0; k < rs->n_net_overrides; k++) {
		const struct kiln_net_override *o = &rs->net_overrides[k];

		if (o->id == NULL || o->tap == NULL)
			return vm_error(err, EINVAL, "network override %u: no NIC id or no tap", k);
		int i = restore_find_net(cfg, o->id);
		if (i < 0)
			return vm_error(err, EINVAL, "network override %s: the snapshot has no NIC with that id", o->id);
		if (moved[i])
			return vm_error(err, EINVAL, "network override %s: that NIC is given a tap twice", o->id);
		moved[i] = true;
		if (!cfg->nets[i].mac_set)
			virtio_net_default_mac(cfg->nets[i].tap, cfg->nets[i].mac);
		cfg->nets[i].mac_set = true;
		cfg->nets[i].tap = o->tap;
	}
	return 0;
}

/* The snapshot's machine with the caller's overrides, checked like any configuration. */
static int restore_config(const struct kiln_restore *rs, const struct snap_reader *r, struct kiln_config *cfg,
			  struct snap_config_store *store, struct kiln_error *err)
{
	char why[256];
	int rc = snap_config_get(r, cfg, store, why, sizeof(why));

	if (rc < 0)
		return vm_error(err, -rc, "snapshot %s: %s", rs->state_path, why);
	cfg->console_in_fd = rs->console_in_fd;
	cfg->console_out_fd = rs->console_out_fd;
	rc = restore_net_overrides(rs, cfg, err);
	if (rc < 0)
		return rc;
	if (rs->vsock_uds_path && cfg->vsock.guest_cid == 0)
		return vm_error(err, EINVAL, "vsock override %s: the snapshot has no vsock device",
				rs->vsock_uds_path);
	if (rs->vsock_uds_path)
		cfg->vsock.uds_path = rs->vsock_uds_path;
	rc = config_validate_machine(cfg, err);
	for (unsigned int i = 0; rc == 0 && i < cfg->ndisks; i++) {
		struct stat st;

		if (stat(cfg->disks[i].path, &st) < 0)
			rc = vm_error(err, errno, "disk %s: %s", cfg->disks[i].path, strerror(errno));
		else if ((uint64_t)st.st_size != store->disk_sizes[i])
			rc = vm_error(err, EINVAL, "disk %s: %llu bytes, the snapshot's guest had %llu",
				      cfg->disks[i].path, (unsigned long long)st.st_size,
				      (unsigned long long)store->disk_sizes[i]);
	}
	return rc;
}

static int load_state(struct vm *vm, const struct kiln_restore *rs, const struct snap_reader *r,
		      struct kiln_error *err)
{
	struct x86_msr_set msrs;
	char why[256];
	int rc = x86_machine_load(vm->vm_fd, r, rs->clock_realtime, &vm->paused_clock, why, sizeof(why));

	vm->paused_realtime_ns = realtime_ns_now();

	if (rc < 0)
		return vm_error(err, -rc, "snapshot %s: %s", rs->state_path, why);
	rc = x86_msr_set_init(&msrs, vm->kvm_fd);
	if (rc < 0)
		return vm_error(err, -rc, "KVM_GET_MSR_INDEX_LIST: %s", strerror(-rc));
	for (unsigned int i = 0; i < vm->nvcpus && rc == 0; i++) {
		rc = x86_vcpu_load(vm->vcpus[i].fd, i, &msrs, r, why, sizeof(why));
		if (rc < 0)
			vm_error(err, -rc, "snapshot %s: vCPU %u: %s", rs->state_path, i, why);
	}
	x86_msr_set_free(&msrs);
	if (rc == 0 && (rc = i8042_load(&vm->i8042, r, why, sizeof(why))) < 0)
		vm_error(err, -rc, "snapshot %s: %s", rs->state_path, why);
	if (rc == 0 && (rc = serial_load(&vm->serial, r, why, sizeof(why))) < 0)
		vm_error(err, -rc, "snapshot %s: %s", rs->state_path, why);
	for (unsigned int i = 0; i < vm->nvirtio && rc == 0; i++) {
		rc = virtio_mmio_load(&vm->virtio[i].transport, r, i, why, sizeof(why));
		if (rc < 0)
			vm_error(err, -rc, "snapshot %s: %s", rs->state_path, why);
	}
	for (unsigned int i = 0; i < vm->nvirtio && rc == 0; i++)
		virtio_mmio_kick_all(&vm->virtio[i].transport);
	/* A clone must not be a twin: a new VM generation ID, and the guest told (devices/vmgenid.h). */
	if (rc == 0 && (rc = vmgenid_renew(&vm->vmgenid)) < 0)
		vm_error(err, -rc, "the VM generation ID: %s", strerror(-rc));
	return rc;
}

int kiln_vm_restore(const struct kiln_restore *rs, struct kiln_vm **out, struct kiln_error *err)
{
	struct snap_config_store *store = calloc(1, sizeof(*store));
	struct snap_reader r = { 0 };
	struct kiln_config cfg;
	struct vm *vm = NULL;
	char why[256];
	uint64_t t0 = now_ns();
	int rc;

	if (store == NULL)
		return vm_error(err, ENOMEM, "out of memory");
	if (rs->state_path == NULL || rs->mem_path == NULL) {
		rc = vm_error(err, EINVAL, "a restore needs a state file and a memory file");
		goto out_store;
	}
	rc = snap_reader_open(&r, rs->state_path, why, sizeof(why));
	if (rc < 0) {
		vm_error(err, -rc, "snapshot %s: %s", rs->state_path, why);
		goto out_store;
	}
	if (snap_count(&r, X86_SNAP_TAG_VCPU) == 0 || snap_count(&r, SNAP_TAG_CONFIG) != 1) {
		rc = vm_error(err, EBADMSG, "snapshot %s: not a kiln VM snapshot (no vCPUs or no machine)",
			      rs->state_path);
		goto out_reader;
	}
	rc = restore_config(rs, &r, &cfg, store, err);
	if (rc == 0 && snap_count(&r, X86_SNAP_TAG_VCPU) != cfg.vcpus)
		rc = vm_error(err, EBADMSG, "snapshot %s: %u vCPUs configured, %u saved", rs->state_path,
			      cfg.vcpus, snap_count(&r, X86_SNAP_TAG_VCPU));
	if (rc == 0)
		rc = vm_create(&cfg, rs->mem_path, &vm, err);
	if (rc == 0)
		rc = load_state(vm, rs, &r, err);
	if (rc < 0 && vm) {
		vm_destroy(vm);
		vm = NULL;
	}
	if (rc == 0) {
		atomic_store(&vm->pause_requested, rs->paused);
		*out = (struct kiln_vm *)vm;
		log_info("snapshot", "%s restored in %llu us", rs->state_path,
			 (unsigned long long)((now_ns() - t0) / 1000));
	}
out_reader:
	snap_reader_close(&r);
out_store:
	free(store);
	return rc;
}
