/* SPDX-License-Identifier: Apache-2.0 */
/* tests/abi: kiln 0.1's kiln.h as released, kept unchanged: programs built against it must keep working (mk/abi.mk). */
/*
 * kiln.h — the embedding API of kiln, a KVM virtual machine monitor.
 *
 * A program fills a struct kiln_config, creates a VM from it, starts it, waits for it to end and
 * destroys it. Nothing here exposes <linux/kvm.h> or kiln's internals: handles are opaque.
 * Every function that can fail returns 0 or a negative errno and, where it takes a struct
 * kiln_error, leaves one line there that names the bad value.
 *
 * How the ABI grows (the rule of every release with soname libkiln.so.0). A program built against
 * this header keeps working, without being rebuilt, with any later libkiln.so.0; a program built
 * against a later header works with this library as long as it uses nothing this one lacks.
 * - The structs that may grow, struct kiln_config, struct kiln_restore and struct kiln_exit, begin
 *   with `size_t size`: the size of the struct the program was built with. It comes from sizeof in
 *   the program (kiln_config_init, kiln_restore_init and kiln_vm_wait are macros that pass it);
 *   a program that cannot use the macros (another language) passes it to the _sized functions.
 *   A later release adds fields only at the end of these structs, and a field's zero means the
 *   behaviour from before the field existed.
 * - Input (kiln_config, kiln_restore), as Linux's extensible syscalls (clone3, openat2) do: a
 *   smaller struct, from an older header, gets the library's defaults for the fields it lacks; a
 *   larger one, from a newer header, is accepted if every byte past the end of this library's
 *   struct is zero, and refused with -E2BIG and one line in kiln_error if not (the program set a
 *   field this library does not have). A size below this release's, or above 4096, is -EINVAL.
 *   Start every input struct with its _init macro: it sets size and zeroes the fields the library
 *   does not know.
 * - `reserved` bytes (explicit: the structs have no padding at their end) must be zero, as
 *   _init leaves them; a later release may give them a meaning without changing the size, so a
 *   non-zero one is -E2BIG too.
 * - Output (kiln_exit): the library writes no more than the program's size, min(program's size,
 *   library's size) bytes, and sets size to that; a program built against a newer header reads a
 *   field of a struct the library wrote (kiln_exit, kiln_vm_config(), kiln_snapshot_config(),
 *   whose size is the library's) only where KILN_HAS_FIELD says it is there.
 * - The structs kept in arrays or nested (kiln_disk, kiln_net, kiln_vsock, kiln_net_override,
 *   kiln_disk_override) and kiln_error never change, nor do the KILN_MAX_* array lengths: more per
 *   disk or NIC comes as a new array at the end of the containing struct, indexed alike.
 * - Enum values are never renumbered; new ones are added at the end, and a library refuses a value
 *   it does not know with -EINVAL. A function never changes its parameters or meaning: a new
 *   behaviour is a new function, exported under a new version node (KILN_0.2 after KILN_0.1).
 * `make check` compares the built library with the committed ABI baseline (abi/libkiln.so.0.abi)
 * and fails on a change that breaks these rules.
 *
 * Threads, signals and lifetimes. libkiln has no lock a program must take and no global state it
 * must serialize: calls on different VMs (or snapshots) may run at the same time from any threads
 * (tests/integration/test_threads.c runs two VMs from two threads). Per function:
 * - Any thread, at once with any other call: kiln_config_init, kiln_config_validate, kiln_disk_id,
 *   kiln_restore_init, kiln_snapshot_merge, kiln_host_warning (its string is static), and
 *   kiln_vm_create, kiln_vm_restore, kiln_snapshot_open (each makes a new object).
 * - One VM's functions (kiln_vm_*): one thread at a time, any thread (not only its creator's), with
 *   these exceptions, which any thread may call while another is inside a call on the same VM
 *   (kiln_vm_wait, say): kiln_vm_stop, kiln_vm_get_state and kiln_vm_exit_fd. kiln_vm_destroy (or
 *   kiln_vm_destroy_before_exit) is the last call on a VM: no other may be running or follow.
 * - A snapshot handle is read-only once open: kiln_vm_restore_from and kiln_snapshot_config from
 *   any threads at once; kiln_snapshot_close once they are done (the VMs made stay valid).
 * - Async-signal-safe: kiln_vm_stop only (atomics, pthread_kill and write), on a VM whose
 *   kiln_vm_destroy has not begun. Everything else may allocate or lock.
 * - Pointers handed out: kiln_vm_config's is valid until kiln_vm_destroy (kiln_vm_update_disk
 *   changes a path in it: not while another thread reads it), kiln_snapshot_config's until
 *   kiln_snapshot_close; kiln_vm_exit_fd's fd until kiln_vm_destroy.
 * - fork(): a VM belongs to the process that made it; a child must not call anything on its copy
 *   of the parent's VMs, kiln_vm_destroy included (see kiln_snapshot_open for snapshots).
 * What kiln does to the whole process, whichever VM does it:
 * - every kiln_vm_create and kiln_vm_restore installs a SIGUSR1 handler that only returns: vCPU
 *   threads are kicked out of KVM_RUN with SIGUSR1 (they unblock it for themselves). A program
 *   must not use SIGUSR1: its handler is replaced by each new VM;
 * - each of kiln's threads installs a SIGSYS handler (SA_RESETHAND) when it loads its seccomp
 *   filter, which names a forbidden syscall before the process ends; it replaces the program's;
 * - the first VM raises the soft RLIMIT_NOFILE to the hard limit (see kiln_vm_create);
 * - warnings go to stderr, one line each ("kiln: SUBSYSTEM: ...").
 */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_API __attribute__((visibility("default")))

#define KILN_VERSION "0.1.0"

/* Limits the configuration is checked against. */
#define KILN_MAX_CMDLINE 2048 /* x86 COMMAND_LINE_SIZE of the guest kernel */
#define KILN_MAX_DISKS 8
#define KILN_MAX_SERIAL 20 /* virtio-blk GET_ID: 20 bytes */

struct kiln_disk {
	const char *path;
	bool read_only;
	const char *serial; /* NULL: none; at most KILN_MAX_SERIAL bytes */
};

/* Room for a disk's id (kiln_disk_id): a serial, or "driveN". */
#define KILN_DISK_ID_SIZE (KILN_MAX_SERIAL + 1)

#define KILN_MAX_NETS 4
#define KILN_MAX_NET_ID 63 /* bytes of a NIC's id */

struct kiln_net {
	const char *id;     /* NULL: "netN", N its index in nets[]; else 1..KILN_MAX_NET_ID printable bytes,
			       no space or '=', and no other NIC's. A snapshot keeps it: restores name NICs by it */
	const char *tap;    /* host tap device name (created beforehand, e.g. `ip tuntap add`); one NIC each */
	uint8_t mac[6];     /* unicast (mac[0] even), and no other NIC's */
	bool mac_set;       /* false: a stable locally administered MAC derived from the tap name */
};

/* A socket path (sun_path: 107 bytes) with room left for "_4294967295": guest connects go to PATH_PORT. */
#define KILN_MAX_VSOCK_UDS 96

struct kiln_vsock {
	uint32_t guest_cid; /* 0: no vsock device; else 3 .. 0xfffffffe */
	const char *uds_path; /* host side: Firecracker's Unix socket model; at most KILN_MAX_VSOCK_UDS bytes */
};

enum kiln_console {
	KILN_CONSOLE_SERIAL, /* the 16550 UART, ttyS0 */
	KILN_CONSOLE_VIRTIO, /* virtio-console, hvc0; the UART stays, unconnected */
};

struct kiln_config {
	size_t size;             /* sizeof this struct where the program was built: kiln_config_init */
	const char *kernel_path; /* bzImage, or an ELF vmlinux with a PVH note */
	const char *initrd_path; /* optional */
	const char *cmdline;     /* the guest kernel command line, complete */
	unsigned int vcpus;      /* 1 .. the KVM limit */
	uint64_t mem_bytes;      /* guest RAM, a multiple of 4 KiB */
	int console_in_fd;       /* console input (-1: none) */
	int console_out_fd;      /* console output (-1: discard); never blocks kiln: what a stalled
				    reader leaves no room for (128 KiB queued) is dropped and counted,
				    and the last output is written by kiln_vm_destroy. kiln writes a
				    private non-blocking reopening of it, or (a socket) MSG_DONTWAIT;
				    that reopening stays open until kiln_vm_destroy, so a reader sees
				    the end of a pipe only after it */
	enum kiln_console console;
	struct kiln_disk disks[KILN_MAX_DISKS]; /* virtio-blk, in this order */
	unsigned int ndisks;
	struct kiln_net nets[KILN_MAX_NETS]; /* virtio-net on tap devices, in this order */
	unsigned int nnets;
	struct kiln_vsock vsock;
	bool rng;                /* virtio-rng fed from getrandom() */
	bool virtio_cmdline;     /* also name the virtio devices on the kernel command line */
	bool track_dirty_pages;  /* record which pages of guest RAM are written (KVM's dirty log for
				    the vCPUs', kiln's own bitmap for its devices'), so that a snapshot
				    may be a Diff (KILN_SNAPSHOT_DIFF); costs the guest a fault on the
				    first write to each page after a snapshot */
	uint8_t reserved[5];     /* zero */
};

/* The reasons a VM ends, from kiln_vm_wait(). */
enum kiln_exit_reason {
	KILN_EXIT_STATUS = 1,   /* the guest reported its exit status (kiln's debug port) */
	KILN_EXIT_RESET,        /* the guest reset the machine (i8042, ACPI reset) */
	KILN_EXIT_POWEROFF,     /* the guest powered off through ACPI */
	KILN_EXIT_PANIC,        /* the guest kernel reported a panic (pvpanic) */
	KILN_EXIT_CRASH,        /* triple fault, or KVM could not run the guest */
	KILN_EXIT_STOPPED,      /* kiln_vm_stop() */
	KILN_EXIT_ERROR,        /* kiln failed while running the guest */
};

struct kiln_exit {
	size_t size;             /* the bytes kiln_vm_wait wrote: min(the program's sizeof, the library's) */
	enum kiln_exit_reason reason;
	bool status_reported;    /* the guest wrote a status to the debug port */
	int guest_status;        /* that status, 0..255 */
	uint64_t boot_ready_ns;  /* CLOCK_MONOTONIC of the guest's boot-ready marker, 0 if none */
	uint64_t first_run_ns;   /* CLOCK_MONOTONIC of the first KVM_RUN */
	uint64_t setup_cpu_ns;   /* process CPU time spent before the first KVM_RUN */
	uint64_t exit_ns;        /* CLOCK_MONOTONIC when the VM ended */
	char detail[256];        /* one line for CRASH and ERROR, empty otherwise */
};

enum kiln_vm_state {
	KILN_VM_NOT_STARTED,
	KILN_VM_RUNNING,
	KILN_VM_PAUSED,
	KILN_VM_STOPPED, /* ended; kiln_vm_wait() tells how */
};

struct kiln_error {
	char msg[256];
};

struct kiln_vm;

/*
 * Whether a struct the library wrote or handed out (kiln_exit; kiln_vm_config()'s and
 * kiln_snapshot_config()'s kiln_config, whose size is the library's) has field: false when the
 * library is older than the header the program was built with and lacks it.
 */
#define KILN_HAS_FIELD(s, field) (offsetof(__typeof__(*(s)), field) + sizeof((s)->field) <= (s)->size)

/*
 * Defaults: 1 vCPU, 512 MiB, no initrd, the UART on fds 0 and 1; size set to the program's
 * sizeof(*cfg), every field this library does not know zeroed. kiln_config_init_sized(cfg, size)
 * is the same for a caller that cannot use the macro; it writes no more than size bytes.
 */
KILN_API void kiln_config_init_sized(struct kiln_config *cfg, size_t size);
#define kiln_config_init(cfg) kiln_config_init_sized((cfg), sizeof(*(cfg)))

/* Checks cfg without touching KVM; on failure fills err and returns -EINVAL (or -errno). */
KILN_API int kiln_config_validate(const struct kiln_config *cfg, struct kiln_error *err);

/*
 * The id of disk i of cfg (i < cfg->ndisks), by which a restore's disk_overrides name it and
 * Firecracker's API (GET /vm/config, PATCH /drives) calls it: its serial when that is a Firecracker
 * id (letters, digits and '_') that no earlier disk goes by, else the first "driveN", N counting up
 * from i, that no earlier disk goes by. Returns the id: the disk's serial, or buf holding it.
 */
KILN_API const char *kiln_disk_id(const struct kiln_config *cfg, unsigned int i, char buf[KILN_DISK_ID_SIZE]);

/*
 * Builds the VM (memory, vCPUs, devices, guest loaded) but does not run it. The first VM made in a
 * process (here or by kiln_vm_restore) raises the soft RLIMIT_NOFILE to the hard limit (so fds
 * above 1023 may appear: an embedder must not pass them to select()). A vsock device's connections, a host fd each, are bounded by
 * what the soft limit leaves once the VM is built, less 128 fds kept for kiln and the embedder (and
 * at most 1024); VMs in one process share the limit.
 */
KILN_API int kiln_vm_create(const struct kiln_config *cfg, struct kiln_vm **vm, struct kiln_error *err);

/*
 * Starts the I/O thread and every vCPU thread, each under its own seccomp allowlist (a syscall
 * outside it kills the process with SIGSYS). The calling thread is not filtered, now or later:
 * it belongs to the embedding program, whose work kiln cannot list. When a thread cannot be
 * started, the VM is stopped (KILN_EXIT_ERROR) with the threads it already had, and the error is
 * returned: kiln_vm_destroy joins those threads and frees the VM.
 */
KILN_API int kiln_vm_start(struct kiln_vm *vm, struct kiln_error *err);

/*
 * Blocks until the VM ends and describes how, writing at most size bytes of exit_info (the macro
 * passes the program's sizeof) and setting exit_info->size to what it wrote. -EINVAL if the VM
 * was not started or size is below this release's struct kiln_exit.
 */
KILN_API int kiln_vm_wait_sized(struct kiln_vm *vm, struct kiln_exit *exit_info, size_t size);
#define kiln_vm_wait(vm, exit_info) kiln_vm_wait_sized((vm), (exit_info), sizeof(*(exit_info)))

/* Asks a running VM to end (reason KILN_EXIT_STOPPED); safe from any thread or a signal handler. */
KILN_API void kiln_vm_stop(struct kiln_vm *vm);

/*
 * Stops every vCPU in a known state (outside KVM_RUN) and saves the guest's kvmclock; returns once
 * all are parked. -EINVAL unless the VM is running.
 */
KILN_API int kiln_vm_pause(struct kiln_vm *vm);

/* Restores the kvmclock saved at pause, so guest time continues from there, and runs the vCPUs. */
KILN_API int kiln_vm_resume(struct kiln_vm *vm);

KILN_API enum kiln_vm_state kiln_vm_get_state(struct kiln_vm *vm);

/*
 * The configuration the VM was built from, its strings owned by the VM: valid until
 * kiln_vm_destroy(), and kiln_vm_update_disk() changes a disk's path in it. A restored VM's is the
 * snapshot's machine with the restore's overrides and console, and no kernel, initrd or command
 * line (the snapshot has no use for them).
 */
KILN_API const struct kiln_config *kiln_vm_config(struct kiln_vm *vm);

/*
 * A file descriptor (an eventfd) that becomes readable once the VM has stopped, for any reason: the
 * guest ended, kiln_vm_stop(), or an error. An event loop polls it (POLLIN) beside its own fds
 * instead of polling kiln_vm_get_state(): once it is readable the state is KILN_VM_STOPPED and
 * kiln_vm_wait() only waits for the vCPU threads to leave the guest. It stays readable; do not read
 * it (that would clear it) or close it: the VM owns it and kiln_vm_destroy() closes it. Valid from
 * kiln_vm_create(), whether or not the VM is ever started.
 */
KILN_API int kiln_vm_exit_fd(struct kiln_vm *vm);

/*
 * Presses Ctrl-Alt-Del on the VM's i8042 keyboard: a Linux guest's init (kiln's, or any that set
 * reboot(RB_DISABLE_CAD)) gets SIGINT and reboots cleanly. -EINVAL unless running; -EAGAIN while
 * the guest's keyboard driver has not enabled the keyboard yet (early boot) — try again later.
 */
KILN_API int kiln_vm_send_ctrl_alt_del(struct kiln_vm *vm);

/*
 * Points disk `index` (the order of cfg.disks) at another host file, keeping its read-only flag;
 * the guest is told the capacity changed. On failure the old file stays and err says why.
 */
KILN_API int kiln_vm_update_disk(struct kiln_vm *vm, unsigned int index, const char *path,
				 struct kiln_error *err);

/*
 * Writes one JSON object and a newline to fd: a timestamp, vCPU exits by reason, and per device
 * (named "virtio-blk0", "virtio-net0", "virtio-rng", ...) its kicks, requests, bytes to and from
 * the guest, errors and bytes dropped (console output a stalled reader left no room for); for the
 * UART ("serial") the bytes the guest transmitted and those dropped. The line is whole whatever the number of devices: short writes are
 * continued, and it stays below PIPE_BUF, so a non-blocking pipe takes it whole or fails with
 * -EAGAIN having taken nothing.
 */
KILN_API int kiln_vm_write_metrics(struct kiln_vm *vm, int fd);

/*
 * Snapshots. A paused VM is written to two files: the state file (the machine, every vCPU and
 * device, checksummed; a few KiB per vCPU) and the memory file (guest RAM, sparse: pages that are
 * zero are holes). Both are written to a temporary name and renamed into place when complete.
 * -EINVAL unless the VM is paused; the VM stays paused.
 */
KILN_API int kiln_vm_snapshot(struct kiln_vm *vm, const char *state_path, const char *mem_path,
			      struct kiln_error *err);

/*
 * Flags of kiln_vm_snapshot_flags. KILN_SNAPSHOT_DIFF: a Diff snapshot, for a VM built with
 * track_dirty_pages (else -EINVAL). Its memory file has the guest RAM's size but holds only the
 * pages written since the VM's previous snapshot (Full or Diff), or since it was built or
 * restored if it has none: each as data (zero pages too), every other page a hole. It is a layer
 * to merge onto the memory file it follows (kiln_snapshot_merge); the state file is whole.
 */
#define KILN_SNAPSHOT_DIFF (1u << 0)

/*
 * kiln_vm_snapshot with flags (0: Full, as kiln_vm_snapshot); unknown flags are -EINVAL. Any
 * snapshot of a VM that tracks dirty pages starts the next Diff's count of written pages afresh.
 */
KILN_API int kiln_vm_snapshot_flags(struct kiln_vm *vm, const char *state_path, const char *mem_path,
				    unsigned int flags, struct kiln_error *err);

/*
 * Merges a Diff snapshot's memory file onto the memory file it follows (a Full snapshot's, or one
 * merged already), in place: every data extent of diff_mem (SEEK_DATA to SEEK_HOLE) is copied over
 * base_mem at its offset; its holes leave base_mem as it was. base_mem then holds the Diff
 * snapshot's memory, to restore with the Diff's state file; a chain is merged oldest first. Both
 * must have the same size. Never merge into a file that a VM maps (a restored VM maps its memory
 * file copy-on-write, so pages it has not copied yet would change under it): merge into a copy.
 */
KILN_API int kiln_snapshot_merge(const char *base_mem_path, const char *diff_mem_path, struct kiln_error *err);

/* kiln_restore.track_dirty_pages */
enum kiln_track_dirty {
	KILN_TRACK_DIRTY_SAVED, /* as the snapshot's machine did */
	KILN_TRACK_DIRTY_ON,
	KILN_TRACK_DIRTY_OFF,
};

/* A NIC of a snapshot moved to another tap; its MAC stays the one the guest knows. */
struct kiln_net_override {
	const char *id;  /* the NIC's id in the snapshot (kiln_net.id, "netN" when it had none) */
	const char *tap;
};

/*
 * A disk of a snapshot given another host file, e.g. each clone its own copy: the file must have
 * the size the disk had; its read-only flag stays the snapshot's.
 */
struct kiln_disk_override {
	const char *id;  /* the disk's id in the snapshot's machine: kiln_disk_id() */
	const char *path;
};

struct kiln_restore {
	size_t size;                   /* sizeof this struct where the program was built: kiln_restore_init */
	const char *state_path;
	const char *mem_path;          /* mapped copy-on-write: it must not change while a VM uses it */
	int console_in_fd;             /* as in kiln_config (-1: none) */
	int console_out_fd;
	struct kiln_net_override net_overrides[KILN_MAX_NETS]; /* the NICs not listed keep their taps */
	unsigned int n_net_overrides;
	struct kiln_disk_override disk_overrides[KILN_MAX_DISKS]; /* the disks not listed keep their files */
	unsigned int n_disk_overrides;
	const char *vsock_uds_path;    /* NULL: the snapshot's */
	enum kiln_track_dirty track_dirty_pages; /* kiln_config.track_dirty_pages of the restored VM */
	bool paused;                   /* kiln_vm_start() leaves the guest paused until kiln_vm_resume() */
	bool clock_realtime;           /* kvmclock moves on by the wall-clock time since the snapshot */
	uint8_t reserved[2];           /* zero */
};

/*
 * Defaults: console on fds 0 and 1, the snapshot's devices and dirty page tracking, the guest
 * runs once started; size as kiln_config_init sets it.
 */
KILN_API void kiln_restore_init_sized(struct kiln_restore *rs, size_t size);
#define kiln_restore_init(rs) kiln_restore_init_sized((rs), sizeof(*(rs)))

/*
 * Builds a VM from a snapshot, ready for kiln_vm_start(): the same machine (vCPUs, RAM, devices
 * and their host sides by name, checked: a disk must have kept its size, a tap must exist), its
 * RAM the memory file. Each override must name a NIC or disk of the snapshot, and each one once.
 * Both files are input from strangers: anything malformed or not matching this host is refused
 * with one line in err, and nothing is left behind.
 */
KILN_API int kiln_vm_restore(const struct kiln_restore *rs, struct kiln_vm **vm, struct kiln_error *err);

/*
 * Many VMs from one snapshot (clones). kiln_snapshot_open reads and checks the state file and opens
 * the memory file once; each kiln_vm_restore_from then builds a VM from it as kiln_vm_restore does
 * (rs's state_path and mem_path are not read), mapping the memory file MAP_PRIVATE: no VM copies
 * it, pages a VM only reads stay shared in the host's page cache, and what one writes is its own.
 * kiln_vm_restore is open, restore_from, close. The handle is read-only once open: threads may
 * restore from it at once, and after fork() a child may restore from its copy (its VM is the
 * child's: a KVM VM belongs to the process that created it). Closing it does not affect the VMs
 * made from it.
 */
struct kiln_snapshot;

KILN_API int kiln_snapshot_open(const char *state_path, const char *mem_path, struct kiln_snapshot **snap,
				struct kiln_error *err);

/* The snapshot's machine (its host sides as saved, no console: fds -1); valid until closed. */
KILN_API const struct kiln_config *kiln_snapshot_config(const struct kiln_snapshot *snap);

KILN_API int kiln_vm_restore_from(const struct kiln_snapshot *snap, const struct kiln_restore *rs,
				  struct kiln_vm **vm, struct kiln_error *err);

/* NULL is allowed. */
KILN_API void kiln_snapshot_close(struct kiln_snapshot *snap);

/* Stops the VM if it runs and frees everything. NULL is allowed. */
KILN_API void kiln_vm_destroy(struct kiln_vm *vm);

/*
 * kiln_vm_destroy for a process that exits next, as the kiln command does: the same, except that
 * KVM's own teardown of the VM (10-20 ms, mostly the kernel waiting for RCU grace periods) runs in
 * a short-lived child process, so that neither this call nor the process's exit, and so neither a
 * parent's wait() for it, waits for that. The child holds no fd but the VM's and ends by itself;
 * it is this process's child until then (a zombie until reaped or this process exits, so not for
 * a process that reaps any child, waitpid(-1)). Without the child, the same as kiln_vm_destroy.
 */
KILN_API void kiln_vm_destroy_before_exit(struct kiln_vm *vm);

/* One line about the host's /dev/kvm worth telling a user (e.g. PVM), or NULL. */
KILN_API const char *kiln_host_warning(void);

#ifdef __cplusplus
}
#endif
#endif /* KILN_KILN_H */
