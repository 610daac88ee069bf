/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control plane's VM side: the configuration built up by requests (or a config file), the VM
 * it starts, and every action applied to them, answered as Firecracker answers. It runs on the
 * main thread only (the API thread hands it actions), so it needs no locks; it reaches the VM only
 * through kiln.h.
 */
#ifndef KILN_API_VMM_H
#define KILN_API_VMM_H

#include <kiln/kiln.h>
#include <stdint.h>

#include "api/action.h"
#include "api/json.h"

#define API_APP_NAME "kiln"
#define API_DEFAULT_MEM_MIB 128 /* Firecracker's default, as GET /machine-config reports before a PUT */
#define API_METRICS_PERIOD_NS (60ull * 1000000000ull) /* Firecracker flushes metrics every 60 s */

/*
 * The VM as configured so far. Drives keep the root device first (the order the guest sees). The
 * counts and flags come first, together on one page, and the path buffers after them: clearing a
 * spec (vmm.c: spec_clear) then touches that page alone.
 */
struct api_spec {
	bool has_boot;
	struct api_machine machine;
	unsigned int ndrives;
	unsigned int nnets;
	bool has_vsock;
	bool entropy;
	struct api_boot_source boot;
	struct api_drive drives[KILN_MAX_DISKS];
	struct api_net nets[KILN_MAX_NETS];
	struct api_vsock vsock;
};

struct api_vmm_options {
	const char *id;                /* the instance id GET / reports */
	const char *default_boot_args; /* the kernel command line when boot_args is not given */
	int console_in_fd;             /* the guest console, as kiln_config has it */
	int console_out_fd;
};

struct api_vmm {
	struct api_vmm_options opt;
	bool has_logger;
	int metrics_fd; /* -1 until PUT /metrics */
	uint64_t metrics_flushed_ns;
	bool configured;    /* a boot-specific resource was configured: no snapshot may be loaded */
	struct kiln_vm *vm; /* NULL until InstanceStart (or a boot or restore below) */
	/*
	 * From here on, each member is written before it is read (logger once has_logger is set,
	 * metrics once metrics_fd is open, the rest when the VM is built), so api_vmm_init leaves their
	 * pages untouched.
	 */
	struct api_logger logger;
	struct api_metrics metrics;
	/* What the VM was built from: cfg points into spec, cmdline and serials. */
	struct kiln_config cfg;
	char cmdline[KILN_MAX_CMDLINE + 128];
	char serials[KILN_MAX_DISKS][KILN_MAX_SERIAL + 1];
	/*
	 * Last: 48 KiB each, mostly path buffers. Only what their counts and flags say is in use is
	 * ever read, and only that is zeroed and copied (vmm.c: spec_clear, spec_copy), so that the pages
	 * of an unused drive or boot source cost the process nothing.
	 */
	struct api_spec spec;
	struct api_spec next; /* scratch: a change is tried here and kept only if it validates */
};

void api_vmm_init(struct api_vmm *v, const struct api_vmm_options *opt);

/* Applies one action and fills the reply (free it with api_reply_free). */
void api_vmm_apply(struct api_vmm *v, const struct api_action *a, struct api_reply *r);

/*
 * VMs served without InstanceStart (vmm_snapshot.c): built from cfg and started (`kiln run
 * --api-sock`), or restored from a snapshot and started, paused if rs->paused (`kiln restore`,
 * PUT /snapshot/load). On success the API serves the VM as after InstanceStart, and GET
 * /vm/config describes it from kiln_vm_config(); on failure err has one line and nothing is left.
 */
int api_vmm_boot(struct api_vmm *v, const struct kiln_config *cfg, struct kiln_error *err) MUST_CHECK;
int api_vmm_restore(struct api_vmm *v, const struct kiln_restore *rs, struct kiln_error *err) MUST_CHECK;
/* The same from a snapshot opened once (`kiln restore`: one or many clones of it). */
int api_vmm_restore_from(struct api_vmm *v, const struct kiln_snapshot *snap, const struct kiln_restore *rs,
			 struct kiln_error *err) MUST_CHECK;

/* PUT /snapshot/create on a started VM, PUT /snapshot/load on a fresh process (vmm_snapshot.c). */
void api_vmm_snapshot_create(struct api_vmm *v, const struct api_snapshot_create *c, struct api_reply *r);
void api_vmm_snapshot_load(struct api_vmm *v, const struct api_snapshot_load *l, struct api_reply *r);

/* Flushes metrics when API_METRICS_PERIOD_NS has passed since the last flush (a running VM only). */
void api_vmm_tick(struct api_vmm *v, uint64_t now);

/* How long the main loop may sleep before api_vmm_tick has work: milliseconds, or -1 for no limit. */
int api_vmm_tick_timeout_ms(const struct api_vmm *v, uint64_t now);

/* Flushes metrics a last time, destroys the VM if there is one, closes the metrics file. */
void api_vmm_destroy(struct api_vmm *v);
/* The same in a process that exits next: the VM goes with kiln_vm_destroy_before_exit. */
void api_vmm_destroy_before_exit(struct api_vmm *v);

/* GET /, GET /version, GET /machine-config and GET /vm/config (describe.c). */
struct json_object *api_describe_instance(const struct api_vmm *v);
struct json_object *api_describe_version(void);
struct json_object *api_describe_machine(const struct api_spec *s);
struct json_object *api_describe_vm_config(const struct api_vmm *v);

#endif
