/* SPDX-License-Identifier: Apache-2.0 */
#include "api/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define NOT_BEFORE_BOOT "The requested operation is not supported before starting the microVM."
#define NOT_AFTER_BOOT "The requested operation is not supported after starting the microVM."

/* No boot source, drive, NIC or vsock: what the counts and flags say, the buffers left as they are. */
static void spec_clear(struct api_spec *s)
{
	s->has_boot = false;
	s->machine = (struct api_machine){ .vcpus = 1, .mem_mib = API_DEFAULT_MEM_MIB };
	s->ndrives = 0;
	s->nnets = 0;
	s->has_vsock = false;
	s->entropy = false;
}

/* *d = *s for what is in use: the boot source, drives, NICs and vsock that s has. */
static void spec_copy(struct api_spec *d, const struct api_spec *s)
{
	if (s->has_boot)
		d->boot = s->boot;
	d->has_boot = s->has_boot;
	d->machine = s->machine;
	memcpy(d->drives, s->drives, s->ndrives * sizeof(s->drives[0]));
	d->ndrives = s->ndrives;
	memcpy(d->nets, s->nets, s->nnets * sizeof(s->nets[0]));
	d->nnets = s->nnets;
	if (s->has_vsock)
		d->vsock = s->vsock;
	d->has_vsock = s->has_vsock;
	d->entropy = s->entropy;
}

void api_vmm_init(struct api_vmm *v, const struct api_vmm_options *opt)
{
	memset(v, 0, offsetof(struct api_vmm, logger));
	v->opt = *opt;
	spec_clear(&v->spec);
	spec_clear(&v->next);
	v->metrics_fd = -1;
}

/*
 * Opens the logger's or metrics' file (appending; created 0600 if missing, as Firecracker creates
 * it) or FIFO. A FIFO is opened read-write and non-blocking, as Firecracker does: it always has a
 * reader, so the open neither fails nor blocks for want of one, and a full FIFO fails the write of
 * a whole line (lines below PIPE_BUF are written whole or not at all).
 */
static int open_output(const char *path, char *err, size_t errlen)
{
	struct stat st;
	bool exists = stat(path, &st) == 0;
	int fd;

	if (!exists && errno != ENOENT)
		return fail_einval(err, errlen, "%s: %s", path, strerror(errno));
	if (!exists)
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	else if (S_ISFIFO(st.st_mode))
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	else if (S_ISREG(st.st_mode))
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	else
		return fail_einval(err, errlen, "%s: not a file or a FIFO", path);
	if (fd < 0)
		return fail_einval(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

/* Firecracker opens the kernel, initrd and drive files when they are configured: so does kiln. */
static int check_file(const char *what, const char *path, int flags, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return fail_einval(err, errlen, "%s %s: %s", what, path, strerror(errno));
	int rc = fstat(fd, &st);
	close(fd);
	if (rc == 0 && S_ISDIR(st.st_mode))
		return fail_einval(err, errlen, "%s %s: %s", what, path, strerror(EISDIR));
	return 0;
}

/* The kernel command line of s: boot_args (or the default), and the root device, as Firecracker adds it. */
static void spec_cmdline(const struct api_vmm *v, const struct api_spec *s, char *out, size_t outlen)
{
	const char *base = s->has_boot && s->boot.has_boot_args ? s->boot.boot_args : v->opt.default_boot_args;
	const struct api_drive *root = s->ndrives && s->drives[0].root ? &s->drives[0] : NULL;

	if (root == NULL)
		snprintf(out, outlen, "%s", base);
	else if (root->partuuid[0])
		snprintf(out, outlen, "%s root=PARTUUID=%s %s", base, root->partuuid, root->read_only ? "ro" : "rw");
	else
		snprintf(out, outlen, "%s root=/dev/vda %s", base, root->read_only ? "ro" : "rw");
}

/* The kiln_config of s; it points into s, cmdline and serials, which must outlive it. */
static void spec_config(const struct api_vmm *v, const struct api_spec *s, struct kiln_config *cfg, char *cmdline,
			size_t cmdlen, char serials[][KILN_MAX_SERIAL + 1])
{
	kiln_config_init(cfg);
	cfg->kernel_path = s->has_boot ? s->boot.kernel : NULL;
	cfg->initrd_path = s->has_boot && s->boot.initrd[0] ? s->boot.initrd : NULL;
	spec_cmdline(v, s, cmdline, cmdlen);
	cfg->cmdline = cmdline;
	cfg->vcpus = s->machine.vcpus;
	cfg->mem_bytes = s->machine.mem_mib << 20;
	cfg->track_dirty_pages = s->machine.track_dirty_pages;
	cfg->console_in_fd = v->opt.console_in_fd;
	cfg->console_out_fd = v->opt.console_out_fd;
	for (unsigned int i = 0; i < s->ndrives; i++) {
		/*
		 * The drive id (its first 20 bytes) is the disk's serial (virtio-blk GET_ID), so a guest
		 * finds it as /dev/disk/by-id/virtio-ID. Firecracker serves an id made of the backing
		 * file's device and inode numbers instead.
		 */
		snprintf(serials[i], KILN_MAX_SERIAL + 1, "%s", s->drives[i].id);
		cfg->disks[i] = (struct kiln_disk){ .path = s->drives[i].path, .read_only = s->drives[i].read_only,
						    .serial = serials[i] };
	}
	cfg->ndisks = s->ndrives;
	for (unsigned int i = 0; i < s->nnets; i++) {
		cfg->nets[i] = (struct kiln_net){ .id = s->nets[i].id, .tap = s->nets[i].tap,
						  .mac_set = s->nets[i].mac_set };
		memcpy(cfg->nets[i].mac, s->nets[i].mac, sizeof(cfg->nets[i].mac));
	}
	cfg->nnets = s->nnets;
	if (s->has_vsock)
		cfg->vsock = (struct kiln_vsock){ .guest_cid = s->vsock.guest_cid, .uds_path = s->vsock.uds_path };
	cfg->rng = s->entropy;
}

/*
 * Checks a configuration that is still being built with the one validator, kiln_config_validate.
 * A kernel may come later: until then a stand-in path lets every other check run.
 */
static int check_spec(struct api_vmm *v, const struct api_spec *s, char *err, size_t errlen)
{
	struct kiln_config cfg;
	struct kiln_error kerr = { "" };
	char cmdline[sizeof(v->cmdline)];
	char serials[KILN_MAX_DISKS][KILN_MAX_SERIAL + 1];

	spec_config(v, s, &cfg, cmdline, sizeof(cmdline), serials);
	if (cfg.kernel_path == NULL)
		cfg.kernel_path = "(not configured yet)";
	if (kiln_config_validate(&cfg, &kerr) < 0)
		return fail_einval(err, errlen, "%s", kerr.msg);
	return 0;
}

static int set_boot(struct api_spec *s, const struct api_boot_source *b, char *err, size_t errlen)
{
	int rc = check_file("kernel_image_path", b->kernel, O_RDONLY, err, errlen);

	if (rc == 0 && b->initrd[0])
		rc = check_file("initrd_path", b->initrd, O_RDONLY, err, errlen);
	s->boot = *b;
	s->has_boot = true;
	return rc;
}

static void set_machine(struct api_spec *s, const struct api_machine *m)
{
	if (m->vcpus)
		s->machine.vcpus = m->vcpus;
	if (m->mem_mib)
		s->machine.mem_mib = m->mem_mib;
	if (m->track_dirty_set)
		s->machine.track_dirty_pages = m->track_dirty_pages;
}

static int find_drive(const struct api_spec *s, const char *id)
{
	for (unsigned int i = 0; i < s->ndrives; i++)
		if (strcmp(s->drives[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* Inserts or replaces d, keeping the root device first. */
static int set_drive(struct api_spec *s, const struct api_drive *d, char *err, size_t errlen)
{
	int i = find_drive(s, d->id);
	int rc = check_file("path_on_host", d->path, d->read_only ? O_RDONLY : O_RDWR, err, errlen);

	if (rc < 0)
		return rc;
	if (d->root && s->ndrives && s->drives[0].root && strcmp(s->drives[0].id, d->id) != 0)
		return fail_einval(err, errlen, "A root block device already exists!");
	if (i < 0 && s->ndrives == KILN_MAX_DISKS)
		return fail_einval(err, errlen, "drive %s: kiln takes at most %d drives", d->id,
				   KILN_MAX_DISKS);
	if (i < 0)
		i = (int)s->ndrives++;
	s->drives[i] = *d;
	if (d->root && i > 0) { /* move it to the front, the others keep their order */
		memmove(&s->drives[1], &s->drives[0], (size_t)i * sizeof(s->drives[0]));
		s->drives[0] = *d;
	}
	return 0;
}

/* Adds n, or replaces the interface with its id; kiln_config_validate refuses a tap or MAC used twice. */
static int set_net(struct api_spec *s, const struct api_net *n, char *err, size_t errlen)
{
	unsigned int slot = s->nnets;

	for (unsigned int i = 0; i < s->nnets; i++)
		if (strcmp(s->nets[i].id, n->id) == 0)
			slot = i;
	if (slot == KILN_MAX_NETS)
		return fail_einval(err, errlen, "interface %s: kiln takes at most %d network interfaces", n->id,
				   KILN_MAX_NETS);
	if (slot == s->nnets)
		s->nnets++;
	s->nets[slot] = *n;
	return 0;
}

static void set_vsock(struct api_spec *s, const struct api_vsock *vs)
{
	s->vsock = *vs;
	s->has_vsock = true;
}

/* Applies a configuration change to a copy of the spec; keeps the copy only if it validates. */
static void apply_change(struct api_vmm *v, const struct api_action *a, struct api_reply *r)
{
	static const char *const prefixes[] = {
		[API_PUT_BOOT_SOURCE] = "Boot source error", [API_PUT_MACHINE] = "Machine config error",
		[API_PATCH_MACHINE] = "Machine config error", [API_PUT_DRIVE] = "Drive config error",
		[API_PUT_NET] = "Network config error", [API_PUT_VSOCK] = "Vsock config error",
		[API_PUT_ENTROPY] = "Entropy device error",
	};
	char err[API_ERR_LEN] = "";
	int rc = 0;

	/* As in Firecracker, even a refused change makes the process unfit for a snapshot load. */
	v->configured = true;
	spec_copy(&v->next, &v->spec);
	if (a->kind == API_PUT_BOOT_SOURCE)
		rc = set_boot(&v->next, &a->boot, err, sizeof(err));
	else if (a->kind == API_PUT_MACHINE || a->kind == API_PATCH_MACHINE)
		set_machine(&v->next, &a->machine);
	else if (a->kind == API_PUT_DRIVE)
		rc = set_drive(&v->next, &a->drive, err, sizeof(err));
	else if (a->kind == API_PUT_NET)
		rc = set_net(&v->next, &a->net, err, sizeof(err));
	else if (a->kind == API_PUT_VSOCK)
		set_vsock(&v->next, &a->vsock);
	else
		v->next.entropy = true;
	if (rc == 0)
		rc = check_spec(v, &v->next, err, sizeof(err));
	if (rc < 0) {
		api_reply_fault(r, "%s: %s", prefixes[a->kind], err);
		return;
	}
	spec_copy(&v->spec, &v->next);
	api_reply_ok(r);
}

static void set_logger(struct api_vmm *v, const struct api_logger *l, struct api_reply *r)
{
	char err[API_ERR_LEN];

	if (l->path[0]) {
		int fd = open_output(l->path, err, sizeof(err));
		if (fd < 0) {
			api_reply_fault(r, "Logger error: log_path %s", err);
			return;
		}
		/* kiln logs on stderr: the log file becomes stderr. */
		int rc = dup2(fd, STDERR_FILENO) < 0 ? -errno : 0;
		close(fd);
		if (rc < 0) {
			api_reply_fault(r, "Logger error: log_path %s: %s", l->path, strerror(-rc));
			return;
		}
	}
	if (l->level >= 0)
		log_set_level((enum log_level)l->level);
	v->logger = *l;
	v->has_logger = true;
	api_reply_ok(r);
}

static void set_metrics(struct api_vmm *v, const struct api_metrics *m, struct api_reply *r)
{
	char err[API_ERR_LEN];

	if (v->metrics_fd >= 0) {
		api_reply_fault(r, "Metrics error: Reinitialization of metrics not allowed.");
		return;
	}
	v->metrics_fd = open_output(m->path, err, sizeof(err));
	if (v->metrics_fd < 0) {
		api_reply_fault(r, "Metrics error: metrics_path %s", err);
		return;
	}
	v->metrics = *m;
	api_reply_ok(r);
}

static void start(struct api_vmm *v, struct api_reply *r)
{
	struct kiln_error err = { "" };
	struct kiln_vm *vm;

	spec_config(v, &v->spec, &v->cfg, v->cmdline, sizeof(v->cmdline), v->serials);
	if (kiln_vm_create(&v->cfg, &vm, &err) < 0) {
		api_reply_fault(r, "Start microvm error: %s", err.msg);
		return;
	}
	if (kiln_vm_start(vm, &err) < 0) {
		kiln_vm_destroy(vm);
		api_reply_fault(r, "Start microvm error: %s", err.msg);
		return;
	}
	v->vm = vm;
	v->metrics_flushed_ns = now_ns();
	api_reply_ok(r);
}

static void set_vm_state(struct api_vmm *v, bool pause, struct api_reply *r)
{
	enum kiln_vm_state want = pause ? KILN_VM_PAUSED : KILN_VM_RUNNING;

	/* Pausing a paused VM (or resuming a running one) succeeds and changes nothing. */
	if (kiln_vm_get_state(v->vm) == want) {
		api_reply_ok(r);
		return;
	}
	int rc = pause ? kiln_vm_pause(v->vm) : kiln_vm_resume(v->vm);
	if (rc < 0)
		api_reply_fault(r, "Internal VMM error: %s the microVM: %s", pause ? "pausing" : "resuming",
				strerror(-rc));
	else
		api_reply_ok(r);
}

static void update_drive(struct api_vmm *v, const struct api_drive_update *u, struct api_reply *r)
{
	struct kiln_error err = { "" };
	int i = find_drive(&v->spec, u->id);

	if (i < 0) {
		api_reply_fault(r, "Drive config error: Invalid block device ID: %s", u->id);
		return;
	}
	if (u->path[0] && kiln_vm_update_disk(v->vm, (unsigned int)i, u->path, &err) < 0) {
		api_reply_fault(r, "Drive config error: %s", err.msg);
		return;
	}
	if (u->path[0])
		memcpy(v->spec.drives[i].path, u->path, sizeof(u->path));
	api_reply_ok(r);
}

static void flush_metrics(struct api_vmm *v, struct api_reply *r)
{
	if (v->metrics_fd < 0) {
		api_reply_fault(r, "Metrics error: metrics are not configured (PUT /metrics first).");
		return;
	}
	int rc = kiln_vm_write_metrics(v->vm, v->metrics_fd);
	v->metrics_flushed_ns = now_ns();
	if (rc < 0)
		api_reply_fault(r, "Metrics error: writing to %s: %s", v->metrics.path, strerror(-rc));
	else
		api_reply_ok(r);
}

static void ctrl_alt_del(struct api_vmm *v, struct api_reply *r)
{
	int rc = kiln_vm_send_ctrl_alt_del(v->vm);

	if (rc == -EAGAIN)
		api_reply_fault(r, "Internal VMM error: Ctrl-Alt-Del not sent: the guest's i8042 keyboard "
				   "driver is not listening, or has not read the keys sent before.");
	else if (rc < 0)
		api_reply_fault(r, "Internal VMM error: sending Ctrl-Alt-Del: %s", strerror(-rc));
	else
		api_reply_ok(r);
}

static void apply_get(struct api_vmm *v, enum api_kind kind, struct api_reply *r)
{
	if (kind == API_GET_INFO)
		api_reply_object(r, api_describe_instance(v));
	else if (kind == API_GET_VERSION)
		api_reply_object(r, api_describe_version());
	else if (kind == API_GET_MACHINE)
		api_reply_object(r, api_describe_machine(&v->spec));
	else
		api_reply_object(r, api_describe_vm_config(v));
}

static void apply_pre_boot(struct api_vmm *v, const struct api_action *a, struct api_reply *r)
{
	switch (a->kind) {
	case API_PUT_LOGGER:
		set_logger(v, &a->logger, r);
		return;
	case API_PUT_METRICS:
		set_metrics(v, &a->metrics, r);
		return;
	case API_INSTANCE_START:
		start(v, r);
		return;
	case API_SNAPSHOT_LOAD:
		api_vmm_snapshot_load(v, &a->snap_load, r);
		return;
	case API_SNAPSHOT_CREATE:
	case API_PATCH_VM:
	case API_PATCH_DRIVE:
	case API_SEND_CTRL_ALT_DEL:
	case API_FLUSH_METRICS:
		api_reply_fault(r, NOT_BEFORE_BOOT);
		return;
	default:
		apply_change(v, a, r);
		return;
	}
}

static void apply_post_boot(struct api_vmm *v, const struct api_action *a, struct api_reply *r)
{
	switch (a->kind) {
	case API_PATCH_VM:
		set_vm_state(v, a->pause, r);
		return;
	case API_PATCH_DRIVE:
		update_drive(v, &a->drive_update, r);
		return;
	case API_SEND_CTRL_ALT_DEL:
		ctrl_alt_del(v, r);
		return;
	case API_FLUSH_METRICS:
		flush_metrics(v, r);
		return;
	case API_SNAPSHOT_CREATE:
		api_vmm_snapshot_create(v, &a->snap_create, r);
		return;
	default:
		api_reply_fault(r, NOT_AFTER_BOOT);
		return;
	}
}

void api_vmm_apply(struct api_vmm *v, const struct api_action *a, struct api_reply *r)
{
	/* The main loop notices soon and exits; until then nothing is served from a dead VM. */
	if (v->vm && kiln_vm_get_state(v->vm) == KILN_VM_STOPPED)
		api_reply_fault(r, "The microVM has stopped; kiln is exiting.");
	else if (a->kind <= API_GET_VM_CONFIG)
		apply_get(v, a->kind, r);
	else if (v->vm == NULL)
		apply_pre_boot(v, a, r);
	else
		apply_post_boot(v, a, r);
}

void api_vmm_tick(struct api_vmm *v, uint64_t now)
{
	if (v->vm == NULL || v->metrics_fd < 0 || now - v->metrics_flushed_ns < API_METRICS_PERIOD_NS)
		return;
	v->metrics_flushed_ns = now;
	if (kiln_vm_write_metrics(v->vm, v->metrics_fd) < 0)
		log_warn("api", "metrics: writing to %s failed", v->metrics.path);
}

int api_vmm_tick_timeout_ms(const struct api_vmm *v, uint64_t now)
{
	if (v->vm == NULL || v->metrics_fd < 0)
		return -1;
	uint64_t due = v->metrics_flushed_ns + API_METRICS_PERIOD_NS;
	/* Rounded up: woken a little early, api_vmm_tick would find nothing due and sleep again. */
	return now >= due ? 0 : (int)((due - now + 999999) / 1000000);
}

static void vmm_destroy(struct api_vmm *v, void (*destroy_vm)(struct kiln_vm *))
{
	if (v->vm && v->metrics_fd >= 0 && kiln_vm_write_metrics(v->vm, v->metrics_fd) < 0)
		log_warn("api", "metrics: the last flush to %s failed", v->metrics.path);
	destroy_vm(v->vm);
	v->vm = NULL;
	if (v->metrics_fd >= 0)
		close(v->metrics_fd);
	v->metrics_fd = -1;
}

void api_vmm_destroy(struct api_vmm *v)
{
	vmm_destroy(v, kiln_vm_destroy);
}

void api_vmm_destroy_before_exit(struct api_vmm *v)
{
	vmm_destroy(v, kiln_vm_destroy_before_exit);
}
