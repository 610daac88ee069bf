/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Restoring a snapshot (kiln_vm_restore_from, of a snapshot kiln_snapshot_open read and checked):
 * apply the restore's overrides to the snapshot's machine, build it through the same vm_create as
 * a boot (RAM the memory file mapped copy-on-write, no kernel loaded), then load the machine's and
 * each vCPU's state into it. Any failure destroys what was built.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"
#include "arch/arch.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "snapshot/open.h"
#include "virtio/mmio_snapshot.h"
#include "virtio/net.h"
#include "vm.h"

static void restore_defaults(struct kiln_restore *rs)
{
	*rs = (struct kiln_restore){
		.size = sizeof(*rs), .console_in_fd = STDIN_FILENO, .console_out_fd = STDOUT_FILENO
	};
}

void kiln_restore_init_sized(struct kiln_restore *rs, size_t size)
{
	struct kiln_restore defaults;

	restore_defaults(&defaults);
	abi_init(rs, size, &defaults, sizeof(defaults));
}

/* The program's kiln_restore as this library's (kiln.h: how the ABI grows). */
static int restore_import(struct kiln_restore *dst, const struct kiln_restore *src, struct kiln_error *err)
{
	int rc;

	restore_defaults(dst);
	rc = abi_copy_in(dst, sizeof(*dst), src, ABI_RESTORE_SIZE_0_1, "kiln_restore", err);
	if (rc == 0)
		rc = abi_check_reserved(dst->reserved, sizeof(dst->reserved), "kiln_restore", err);
	return rc;
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

/* The snapshot's disk with this id (kiln_disk_id), or -1. */
static int restore_find_disk(const struct kiln_config *cfg, const char *id)
{
	char buf[KILN_DISK_ID_SIZE];

	for (unsigned int i = 0; i < cfg->ndisks; i++)
		if (strcmp(kiln_disk_id(cfg, i, buf), id) == 0)
			return (int)i;
	return -1;
}

/* Each override gives its disk another file; restore_config checks its size, and the read-only flag stays. */
static int restore_disk_overrides(const struct kiln_restore *rs, struct kiln_config *cfg, struct kiln_error *err)
{
	bool moved[KILN_MAX_DISKS] = { false };

	if (rs->n_disk_overrides > KILN_MAX_DISKS)
		return vm_error(err, EINVAL, "%u disk overrides: a VM has at most %d disks", rs->n_disk_overrides,
				KILN_MAX_DISKS);
	for (unsigned int k = 0; k < rs->n_disk_overrides; k++) {
		const struct kiln_disk_override *o = &rs->disk_overrides[k];

		if (o->id == NULL || o->path == NULL || o->path[0] == '\0')
			return vm_error(err, EINVAL, "disk override %u: no disk id or no path", k);
		int i = restore_find_disk(cfg, o->id);
		if (i < 0)
			return vm_error(err, EINVAL, "disk override %s: the snapshot has no disk with that id", o->id);
		if (moved[i])
			return vm_error(err, EINVAL, "disk override %s: that disk is given a file twice", o->id);
		moved[i] = true;
		cfg->disks[i].path = o->path;
	}
	return 0;
}

/* The snapshot's machine with the caller's overrides, checked like any configuration. */
static int restore_config(const struct kiln_snapshot *snap, const struct kiln_restore *rs, struct kiln_config *cfg,
			  struct kiln_error *err)
{
	int rc;

	*cfg = snap->cfg; /* its strings stay the snapshot's: vm_create copies what it keeps */
	cfg->console_in_fd = rs->console_in_fd;
	cfg->console_out_fd = rs->console_out_fd;
	rc = restore_net_overrides(rs, cfg, err);
	if (rc == 0)
		rc = restore_disk_overrides(rs, cfg, err);
	if (rc < 0)
		return rc;
	if (rs->vsock_uds_path && cfg->vsock.guest_cid == 0)
		return vm_error(err, EINVAL, "vsock override %s: the snapshot has no vsock device",
				rs->vsock_uds_path);
	if (rs->vsock_uds_path)
		cfg->vsock.uds_path = rs->vsock_uds_path;
	if ((unsigned int)rs->track_dirty_pages > KILN_TRACK_DIRTY_OFF)
		return vm_error(err, EINVAL, "track_dirty_pages %d: not a kiln_track_dirty value",
				(int)rs->track_dirty_pages);
	if (rs->track_dirty_pages != KILN_TRACK_DIRTY_SAVED)
		cfg->track_dirty_pages = rs->track_dirty_pages == KILN_TRACK_DIRTY_ON;
	rc = config_validate_machine(cfg, err);
	for (unsigned int i = 0; rc == 0 && i < cfg->ndisks; i++) {
		struct stat st;

		if (stat(cfg->disks[i].path, &st) < 0)
			rc = vm_error(err, errno, "disk %s: %s", cfg->disks[i].path, strerror(errno));
		else if ((uint64_t)st.st_size != snap->store.disk_sizes[i])
			rc = vm_error(err, EINVAL, "disk %s: %llu bytes, the snapshot's guest had %llu",
				      cfg->disks[i].path, (unsigned long long)st.st_size,
				      (unsigned long long)snap->store.disk_sizes[i]);
	}
	return rc;
}

static int load_state(struct vm *vm, const struct kiln_snapshot *snap, const struct kiln_restore *rs,
		      struct kiln_error *err)
{
	const struct snap_reader *r = &snap->reader;
	const char *path = snap->state_path;
	char why[256];
	int rc = arch_snapshot_load(vm, r, rs, path, err);

	if (rc == 0 && (rc = serial_load(&vm->serial, r, why, sizeof(why))) < 0)
		vm_error(err, -rc, "snapshot %s: %s", path, why);
	for (unsigned int i = 0; i < vm->nvirtio && rc == 0; i++) {
		rc = virtio_mmio_load(&vm->virtio[i].transport, r, i, why, sizeof(why));
		if (rc < 0)
			vm_error(err, -rc, "snapshot %s: %s", path, why);
	}
	for (unsigned int i = 0; i < vm->nvirtio && rc == 0; i++)
		virtio_mmio_kick_all(&vm->virtio[i].transport);
	return rc == 0 ? arch_snapshot_restored(vm, err) : rc;
}

int kiln_vm_restore_from(const struct kiln_snapshot *snap, const struct kiln_restore *program_rs,
			 struct kiln_vm **out, struct kiln_error *err)
{
	struct kiln_restore own, *rs = &own;
	struct kiln_config cfg;
	struct vm *vm = NULL;
	uint64_t t0 = now_ns();
	int rc = restore_import(&own, program_rs, err);

	if (rc == 0)
		rc = restore_config(snap, rs, &cfg, err);

	if (rc == 0)
		rc = vm_create(&cfg, snap->mem_fd, &vm, err);
	if (rc == 0)
		rc = load_state(vm, snap, rs, err);
	if (rc < 0) {
		if (vm)
			vm_destroy(vm);
		return rc;
	}
	atomic_store(&vm->pause_requested, rs->paused);
	*out = (struct kiln_vm *)vm;
	log_info("snapshot", "%s restored in %llu us", snap->state_path, (unsigned long long)((now_ns() - t0) / 1000));
	return 0;
}

int kiln_vm_restore(const struct kiln_restore *program_rs, struct kiln_vm **out, struct kiln_error *err)
{
	struct kiln_restore rs;
	struct kiln_snapshot *snap;
	int rc = restore_import(&rs, program_rs, err);

	if (rc == 0)
		rc = kiln_snapshot_open(rs.state_path, rs.mem_path, &snap, err);
	if (rc < 0)
		return rc;
	rc = kiln_vm_restore_from(snap, &rs, out, err);
	kiln_snapshot_close(snap);
	return rc;
}
