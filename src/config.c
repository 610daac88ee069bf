/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration's defaults and its one validator, shared by the CLI and every other front end. */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "abi.h"
#include "config.h"
#include "error.h"
#include "util.h"

#define MIN_MEM MiB(8)
#define PAGE_SIZE_X86 KiB(4)

static void config_defaults(struct kiln_config *cfg)
{
	*cfg = (struct kiln_config){
		.size = sizeof(*cfg),
		.vcpus = 1,
		.mem_bytes = MiB(512),
		.console_in_fd = STDIN_FILENO,
		.console_out_fd = STDOUT_FILENO,
	};
}

void kiln_config_init_sized(struct kiln_config *cfg, size_t size)
{
	struct kiln_config defaults;

	config_defaults(&defaults);
	abi_init(cfg, size, &defaults, sizeof(defaults));
}

int config_import(struct kiln_config *dst, const struct kiln_config *src, struct kiln_error *err)
{
	int rc;

	config_defaults(dst);
	rc = abi_copy_in(dst, sizeof(*dst), src, ABI_CONFIG_SIZE_0_1, "kiln_config", err);
	if (rc == 0)
		rc = abi_check_reserved(dst->reserved, sizeof(dst->reserved), "kiln_config", err);
	return rc;
}

static uint64_t host_ram_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return UINT64_MAX;
	return (uint64_t)si.totalram * si.mem_unit;
}

static int validate_disks(const struct kiln_config *cfg, struct kiln_error *err)
{
	if (cfg->ndisks > KILN_MAX_DISKS)
		return vm_error(err, EINVAL, "%u disks: at most %d", cfg->ndisks, KILN_MAX_DISKS);
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		const struct kiln_disk *d = &cfg->disks[i];

		if (d->path == NULL || d->path[0] == '\0')
			return vm_error(err, EINVAL, "disk %u: no path", i);
		if (d->serial && strlen(d->serial) > KILN_MAX_SERIAL)
			return vm_error(err, EINVAL, "disk %s: serial '%s' is longer than %d bytes", d->path,
					d->serial, KILN_MAX_SERIAL);
	}
	return 0;
}

/* Firecracker's resource ids (its drive_id): non-empty, letters, digits and '_' only. */
static bool is_drive_id(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0 || len > KILN_MAX_SERIAL)
		return false;
	for (size_t k = 0; k < len; k++)
		if (!isalnum((unsigned char)s[k]) && s[k] != '_')
			return false;
	return true;
}

static bool disk_id_taken(char ids[][KILN_DISK_ID_SIZE], unsigned int n, const char *id)
{
	for (unsigned int j = 0; j < n; j++)
		if (strcmp(ids[j], id) == 0)
			return true;
	return false;
}

/* Each disk's id depends on the ones before it: they are worked out in order, up to disk i. */
const char *kiln_disk_id(const struct kiln_config *cfg, unsigned int i, char buf[KILN_DISK_ID_SIZE])
{
	char ids[KILN_MAX_DISKS][KILN_DISK_ID_SIZE];

	for (unsigned int j = 0; j <= i && j < KILN_MAX_DISKS; j++) {
		const char *serial = cfg->disks[j].serial;

		if (is_drive_id(serial) && !disk_id_taken(ids, j, serial)) {
			snprintf(ids[j], sizeof(ids[j]), "%s", serial);
			continue;
		}
		/* At most j ids are taken: one of drive<j> .. drive<2j> is free. */
		for (unsigned int n = j;; n++) {
			snprintf(ids[j], sizeof(ids[j]), "drive%u", n);
			if (!disk_id_taken(ids, j, ids[j]))
				break;
		}
	}
	if (i >= KILN_MAX_DISKS) {
		snprintf(buf, KILN_DISK_ID_SIZE, "drive%u", i);
		return buf;
	}
	if (cfg->disks[i].serial && strcmp(ids[i], cfg->disks[i].serial) == 0)
		return cfg->disks[i].serial;
	snprintf(buf, KILN_DISK_ID_SIZE, "%s", ids[i]);
	return buf;
}

#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

const char *config_net_id(const struct kiln_config *cfg, unsigned int i, char buf[CONFIG_NET_ID_SIZE])
{
	if (cfg->nets[i].id)
		return cfg->nets[i].id;
	snprintf(buf, CONFIG_NET_ID_SIZE, "net%u", i);
	return buf;
}

/*
 * An id names a NIC in logs, messages and `kiln restore --net-tap ID=TAP`: printable ASCII without
 * spaces (one word in a line) or '=' (the flag's separator).
 */
static int validate_net_id(const char *id, unsigned int i, struct kiln_error *err)
{
	size_t len = strlen(id);

	if (len == 0 || len > KILN_MAX_NET_ID)
		return vm_error(err, EINVAL, "net %u: its id is empty or longer than %d bytes", i, KILN_MAX_NET_ID);
	for (size_t k = 0; k < len; k++) {
		unsigned char ch = (unsigned char)id[k];

		if (ch <= ' ' || ch > '~' || ch == '=')
			return vm_error(err, EINVAL, "net %u: its id holds byte %#x at %zu: an id is printable "
					"ASCII without spaces or '='", i, ch, k);
	}
	return 0;
}

/*
 * NIC i against the ones before it: two NICs on one tap, or with one MAC, would fight over frames;
 * two with one id could not be told apart.
 */
static int validate_net_unique(const struct kiln_config *cfg, unsigned int i, struct kiln_error *err)
{
	const struct kiln_net *n = &cfg->nets[i];
	char id_buf[CONFIG_NET_ID_SIZE], other_buf[CONFIG_NET_ID_SIZE];
	const char *id = config_net_id(cfg, i, id_buf);

	for (unsigned int j = 0; j < i; j++) {
		const struct kiln_net *o = &cfg->nets[j];

		if (strcmp(config_net_id(cfg, j, other_buf), id) == 0)
			return vm_error(err, EINVAL, "net %u: id %s is already net %u's", i, id, j);
		if (strcmp(o->tap, n->tap) == 0)
			return vm_error(err, EINVAL, "net %u: tap %s is already in use by net %u", i, n->tap, j);
		if (n->mac_set && o->mac_set && memcmp(o->mac, n->mac, sizeof(n->mac)) == 0)
			return vm_error(err, EINVAL, "net %u: guest MAC " MAC_FMT " is already in use by net %u", i,
					MAC_ARGS(n->mac), j);
	}
	return 0;
}

static int validate_nets(const struct kiln_config *cfg, struct kiln_error *err)
{
	if (cfg->nnets > KILN_MAX_NETS)
		return vm_error(err, EINVAL, "%u NICs: at most %d", cfg->nnets, KILN_MAX_NETS);
	for (unsigned int i = 0; i < cfg->nnets; i++) {
		const struct kiln_net *n = &cfg->nets[i];

		if (n->tap == NULL || n->tap[0] == '\0' || strlen(n->tap) >= IFNAMSIZ)
			return vm_error(err, EINVAL, "net %u: tap name '%s' is empty or longer than %d bytes", i,
					n->tap ? n->tap : "", IFNAMSIZ - 1);
		/* IEEE 802: the first octet's lowest bit (I/G) marks a group address; a NIC needs its own. */
		if (n->mac_set && (n->mac[0] & 1))
			return vm_error(err, EINVAL, "net %u: guest MAC " MAC_FMT " is a multicast address "
					"(the first octet is odd); a NIC needs a unicast one", i, MAC_ARGS(n->mac));
		int rc = n->id ? validate_net_id(n->id, i, err) : 0;
		if (rc == 0)
			rc = validate_net_unique(cfg, i, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int validate_vsock(const struct kiln_vsock *v, struct kiln_error *err)
{
	if (v->guest_cid == 0)
		return 0; /* no vsock device */
	/* 0-2 are the hypervisor, local and the host (virtio 1.2 §5.10.4); 0xffffffff is VMADDR_CID_ANY. */
	if (v->guest_cid < 3 || v->guest_cid == UINT32_MAX)
		return vm_error(err, EINVAL, "vsock cid %u: reserved; a guest CID is 3 to %u", v->guest_cid,
				UINT32_MAX - 1);
	if (v->uds_path == NULL || v->uds_path[0] == '\0')
		return vm_error(err, EINVAL, "vsock cid %u: no uds path", v->guest_cid);
	if (strlen(v->uds_path) > KILN_MAX_VSOCK_UDS)
		return vm_error(err, EINVAL, "vsock uds path %s: %zu bytes, at most %d fit (a socket path less "
				"room for _PORT)", v->uds_path, strlen(v->uds_path), KILN_MAX_VSOCK_UDS);
	return 0;
}

int config_validate(const struct kiln_config *cfg, struct kiln_error *err)
{
	if (cfg->kernel_path == NULL || cfg->kernel_path[0] == '\0')
		return vm_error(err, EINVAL, "no kernel given");
	return config_validate_machine(cfg, err);
}

int kiln_config_validate(const struct kiln_config *cfg, struct kiln_error *err)
{
	struct kiln_config own;
	int rc = config_import(&own, cfg, err);

	return rc < 0 ? rc : config_validate(&own, err);
}

int config_validate_machine(const struct kiln_config *cfg, struct kiln_error *err)
{
	uint64_t host_ram = host_ram_bytes();
	int rc;

	if (cfg->vcpus == 0)
		return vm_error(err, EINVAL, "vcpus 0: a VM needs at least one vCPU");
	if (cfg->mem_bytes < MIN_MEM)
		return vm_error(err, EINVAL, "mem %llu bytes: a VM needs at least %llu MiB",
				(unsigned long long)cfg->mem_bytes, (unsigned long long)(MIN_MEM >> 20));
	if (cfg->mem_bytes % PAGE_SIZE_X86)
		return vm_error(err, EINVAL, "mem %llu bytes: not a multiple of 4 KiB",
				(unsigned long long)cfg->mem_bytes);
	if (cfg->mem_bytes > host_ram)
		return vm_error(err, EINVAL, "mem %llu MiB: more than this host's %llu MiB of RAM",
				(unsigned long long)(cfg->mem_bytes >> 20), (unsigned long long)(host_ram >> 20));
	rc = validate_disks(cfg, err);
	if (rc == 0)
		rc = validate_nets(cfg, err);
	if (rc == 0)
		rc = validate_vsock(&cfg->vsock, err);
	if (rc < 0)
		return rc;
	if (cfg->console != KILN_CONSOLE_SERIAL && cfg->console != KILN_CONSOLE_VIRTIO)
		return vm_error(err, EINVAL, "console %d: unknown", (int)cfg->console);
	if (cfg->cmdline && strlen(cfg->cmdline) >= KILN_MAX_CMDLINE)
		return vm_error(err, EINVAL, "kernel command line of %zu bytes: at most %d fit",
				strlen(cfg->cmdline), KILN_MAX_CMDLINE - 1);
	return 0;
}

const char *kiln_host_warning(void)
{
	/* PVM (a KVM backend for guests without hardware virtualization) runs PVM-aware kernels only. */
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return "/dev/kvm is PVM (kvm_pvm): an unmodified guest kernel is emulated instruction by "
		       "instruction and will be slow or fail";
	return NULL;
}
