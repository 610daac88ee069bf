/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What one API request (or one object of a config file) asks for, parsed and type-checked but not
 * yet applied: the currency between the HTTP side (route.c), the JSON-to-config step (parse.c) and
 * the VM side (vmm.c). Plain fixed-size structs: copying one copies everything, nothing to free.
 */
#ifndef KILN_API_ACTION_H
#define KILN_API_ACTION_H

#include <kiln/kiln.h>
#include <stdbool.h>
#include <stdint.h>

#define API_PATH_MAX 4096 /* PATH_MAX */
#define API_ID_MAX 64     /* drive and interface ids, tap names, the instance id */
#define API_MAX_VCPUS 32  /* firecracker.yaml: MachineConfiguration.vcpu_count maximum */

enum api_kind {
	/* The GETs come first: vmm.c tells them apart by kind <= API_GET_VM_CONFIG. */
	API_GET_INFO,
	API_GET_VERSION,
	API_GET_MACHINE,
	API_GET_VM_CONFIG,
	API_PUT_BOOT_SOURCE,
	API_PUT_MACHINE,
	API_PATCH_MACHINE,
	API_PUT_DRIVE,
	API_PATCH_DRIVE,
	API_PUT_NET,
	API_PUT_VSOCK,
	API_PUT_ENTROPY,
	API_PUT_LOGGER,
	API_PUT_METRICS,
	API_PATCH_VM,
	API_INSTANCE_START,
	API_SEND_CTRL_ALT_DEL,
	API_FLUSH_METRICS,
	API_SNAPSHOT_CREATE,
	API_SNAPSHOT_LOAD,
};

struct api_boot_source {
	char kernel[API_PATH_MAX];
	char initrd[API_PATH_MAX];        /* "" when none */
	char boot_args[KILN_MAX_CMDLINE]; /* valid when has_boot_args */
	bool has_boot_args;
};

/* PUT replaces them all; PATCH leaves a 0 unchanged, and track_dirty_pages unless set. */
struct api_machine {
	unsigned int vcpus;
	uint64_t mem_mib;
	bool track_dirty_pages;
	bool track_dirty_set; /* track_dirty_pages is to be applied (always with PUT) */
};

struct api_drive {
	char id[API_ID_MAX];
	char path[API_PATH_MAX];
	char partuuid[API_ID_MAX]; /* "" when none; used only by the root device */
	bool root;
	bool read_only;
};

/* PATCH /drives/{id}: a new backing file ("" leaves it). */
struct api_drive_update {
	char id[API_ID_MAX];
	char path[API_PATH_MAX];
};

struct api_net {
	char id[API_ID_MAX];
	char tap[API_ID_MAX];
	uint8_t mac[6];
	bool mac_set;
};

struct api_vsock {
	uint32_t guest_cid;
	char uds_path[API_PATH_MAX];
};

struct api_logger {
	char path[API_PATH_MAX]; /* "" keeps stderr */
	int level;               /* enum log_level, or -1 to keep the current one */
};

struct api_metrics {
	char path[API_PATH_MAX];
};

/* PUT /snapshot/create (SnapshotCreateParams). */
struct api_snapshot_create {
	char state_path[API_PATH_MAX]; /* snapshot_path */
	char mem_path[API_PATH_MAX];   /* mem_file_path */
	bool diff;                     /* snapshot_type "Diff" */
};

/* One of PUT /snapshot/load's network_overrides (NetworkOverride). */
struct api_net_override {
	char id[API_ID_MAX];  /* iface_id */
	char tap[API_ID_MAX]; /* host_dev_name */
};

/* PUT /snapshot/load (SnapshotLoadParams), with the memory file from mem_backend or mem_file_path. */
struct api_snapshot_load {
	char state_path[API_PATH_MAX];
	char mem_path[API_PATH_MAX];
	bool resume;                                   /* resume_vm */
	struct api_net_override nets[KILN_MAX_NETS];   /* network_overrides */
	unsigned int nnets;
	char vsock_uds[API_PATH_MAX];                  /* vsock_override.uds_path, "" when none */
	bool clock_realtime;
	enum kiln_track_dirty track_dirty;             /* track_dirty_pages (or enable_diff_snapshots) */
};

struct api_action {
	enum api_kind kind;
	union {
		struct api_boot_source boot;
		struct api_machine machine;
		struct api_drive drive;
		struct api_drive_update drive_update;
		struct api_net net;
		struct api_vsock vsock;
		struct api_logger logger;
		struct api_metrics metrics;
		struct api_snapshot_create snap_create;
		struct api_snapshot_load snap_load;
		bool pause; /* PATCH /vm: Paused (true) or Resumed (false) */
	};
};

#endif
