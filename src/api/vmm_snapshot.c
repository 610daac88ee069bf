/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMs the API serves without an InstanceStart — one booted from a whole kiln_config (`kiln run
 * --api-sock`) and one restored from a snapshot (`kiln restore`, PUT /snapshot/load) — and the two
 * snapshot routes, answered as Firecracker answers them. Like vmm.c, main thread only, kiln.h only.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/vmm.h"

#define LOAD_ERROR "Load microVM snapshot error: "
#define RESTORE_ERROR LOAD_ERROR "Failed to restore from snapshot: "

/*
 * The spec of a VM built from a kiln_config rather than by requests. A restored VM has no boot
 * source (Firecracker's GET /vm/config leaves it out too); a NIC without an id in the kiln_config
 * (one of `kiln run --net`) is "netN" by position, as kiln.h names it.
 */
static void spec_from_config(struct api_spec *s, const struct kiln_config *cfg)
{
	memset(s, 0, offsetof(struct api_spec, boot)); /* the counts and flags: api_spec's buffers after */
	if (cfg->kernel_path) {
		s->has_boot = true;
		snprintf(s->boot.kernel, sizeof(s->boot.kernel), "%s", cfg->kernel_path);
		snprintf(s->boot.initrd, sizeof(s->boot.initrd), "%s", cfg->initrd_path ? cfg->initrd_path : "");
		s->boot.has_boot_args = cfg->cmdline != NULL;
		snprintf(s->boot.boot_args, sizeof(s->boot.boot_args), "%s", cfg->cmdline ? cfg->cmdline : "");
	}
	s->machine = (struct api_machine){ .vcpus = cfg->vcpus, .mem_mib = cfg->mem_bytes >> 20,
					   .track_dirty_pages = cfg->track_dirty_pages };
	for (unsigned int i = 0; i < cfg->ndisks && i < KILN_MAX_DISKS; i++) {
		struct api_drive *d = &s->drives[i];
		char id[KILN_DISK_ID_SIZE];

		*d = (struct api_drive){ .read_only = cfg->disks[i].read_only };
		/* An API-made VM's serials are its drive ids; libkiln names the others. */
		snprintf(d->id, sizeof(d->id), "%s", kiln_disk_id(cfg, i, id));
		snprintf(d->path, sizeof(d->path), "%s", cfg->disks[i].path);
		s->ndrives = i + 1;
	}
	for (unsigned int i = 0; i < cfg->nnets && i < KILN_MAX_NETS; i++) {
		struct api_net *n = &s->nets[i];

		*n = (struct api_net){ .mac_set = cfg->nets[i].mac_set };
		if (cfg->nets[i].id)
			snprintf(n->id, sizeof(n->id), "%s", cfg->nets[i].id);
		else
			snprintf(n->id, sizeof(n->id), "net%u", i);
		snprintf(n->tap, sizeof(n->tap), "%s", cfg->nets[i].tap);
		memcpy(n->mac, cfg->nets[i].mac, sizeof(n->mac));
	}
	s->nnets = cfg->nnets < KILN_MAX_NETS ? cfg->nnets : KILN_MAX_NETS;
	s->has_vsock = cfg->vsock.guest_cid != 0;
	if (s->has_vsock) {
		s->vsock.guest_cid = cfg->vsock.guest_cid;
		snprintf(s->vsock.uds_path, sizeof(s->vsock.uds_path), "%s", cfg->vsock.uds_path);
	}
	s->entropy = cfg->rng;
}

/* Starts vm (created or restored, not started) and serves it; destroys it if it cannot start. */
static int serve_vm(struct api_vmm *v, struct kiln_vm *vm, struct kiln_error *err)
{
	int rc = kiln_vm_start(vm, err);

	if (rc < 0) {
		kiln_vm_destroy(vm);
		return rc;
	}
	v->vm = vm;
	v->metrics_flushed_ns = now_ns();
	spec_from_config(&v->spec, kiln_vm_config(vm));
	return 0;
}

int api_vmm_boot(struct api_vmm *v, const struct kiln_config *cfg, struct kiln_error *err)
{
	struct kiln_vm *vm;
	int rc = kiln_vm_create(cfg, &vm, err);

	return rc < 0 ? rc : serve_vm(v, vm, err);
}

int api_vmm_restore(struct api_vmm *v, const struct kiln_restore *rs, struct kiln_error *err)
{
	struct kiln_vm *vm;
	int rc = kiln_vm_restore(rs, &vm, err);

	return rc < 0 ? rc : serve_vm(v, vm, err);
}

int api_vmm_restore_from(struct api_vmm *v, const struct kiln_snapshot *snap, const struct kiln_restore *rs,
			 struct kiln_error *err)
{
	struct kiln_vm *vm;
	int rc = kiln_vm_restore_from(snap, rs, &vm, err);

	return rc < 0 ? rc : serve_vm(v, vm, err);
}

void api_vmm_snapshot_create(struct api_vmm *v, const struct api_snapshot_create *c, struct api_reply *r)
{
	struct kiln_error err = { "" };

	/* Firecracker's checks in its order: the snapshot type, then the VM's state. */
	if (c->diff && !kiln_vm_config(v->vm)->track_dirty_pages) {
		api_reply_fault(r, "The requested operation is not supported: Diff snapshots are not allowed on "
				   "uVMs with dirty page tracking disabled (track_dirty_pages in /machine-config "
				   "or /snapshot/load).");
		return;
	}
	if (kiln_vm_get_state(v->vm) != KILN_VM_PAUSED) {
		api_reply_fault(r, "Create snapshot error: Cannot save the microVM state: Operation not allowed: "
				   "save/restore unavailable while running (pause it first: PATCH /vm "
				   "{\"state\": \"Paused\"}).");
		return;
	}
	if (kiln_vm_snapshot_flags(v->vm, c->state_path, c->mem_path, c->diff ? KILN_SNAPSHOT_DIFF : 0, &err) < 0)
		api_reply_fault(r, "Create snapshot error: %s", err.msg);
	else
		api_reply_ok(r);
}

/*
 * Unlike Firecracker, which ends its process after a failed load, kiln stays fresh: a failed
 * kiln_vm_restore leaves nothing behind, so the client may load another snapshot or boot.
 */
void api_vmm_snapshot_load(struct api_vmm *v, const struct api_snapshot_load *l, struct api_reply *r)
{
	struct kiln_error err = { "" };
	struct kiln_restore rs;

	if (v->configured) {
		api_reply_fault(r, LOAD_ERROR "Loading a microVM snapshot not allowed after configuring "
				   "boot-specific resources.");
		return;
	}
	kiln_restore_init(&rs);
	/* network_overrides name NICs by iface_id, which the snapshot keeps (kiln_net.id). */
	for (unsigned int i = 0; i < l->nnets && i < KILN_MAX_NETS; i++)
		rs.net_overrides[i] = (struct kiln_net_override){ .id = l->nets[i].id, .tap = l->nets[i].tap };
	rs.n_net_overrides = l->nnets;
	rs.state_path = l->state_path;
	rs.mem_path = l->mem_path;
	rs.console_in_fd = v->opt.console_in_fd;
	rs.console_out_fd = v->opt.console_out_fd;
	rs.vsock_uds_path = l->vsock_uds[0] ? l->vsock_uds : NULL;
	rs.paused = !l->resume;
	rs.track_dirty_pages = l->track_dirty;
	rs.clock_realtime = l->clock_realtime;
	if (api_vmm_restore(v, &rs, &err) < 0)
		api_reply_fault(r, RESTORE_ERROR "%s", err.msg);
	else
		api_reply_ok(r);
}
