/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration's defaults and its one validator, shared by the CLI and every other front end. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "error.h"
#include "util.h"

#define MIN_MEM MiB(8)
#define PAGE_SIZE_X86 KiB(4)

void kiln_config_init(struct kiln_config *cfg)
{
	*cfg = (struct kiln_config){
		.vcpus = 1,
		.mem_bytes = MiB(512),
		.console_in_fd = STDIN_FILENO,
		.console_out_fd = STDOUT_FILENO,
	};
}

static uint64_t host_ram_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return UINT64_MAX;
	return (uint64_t)si.totalram * si.mem_unit;
}

int kiln_config_validate(const struct kiln_config *cfg, struct kiln_error *err)
{
	uint64_t host_ram = host_ram_bytes();

	if (cfg->kernel_path == NULL || cfg->kernel_path[0] == '\0')
		return vm_error(err, EINVAL, "no kernel given");
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
	if (cfg->nnets > KILN_MAX_NETS)
		return vm_error(err, EINVAL, "%u NICs: at most %d", cfg->nnets, KILN_MAX_NETS);
	for (unsigned int i = 0; i < cfg->nnets; i++) {
		const char *tap = cfg->nets[i].tap;

		if (tap == NULL || tap[0] == '\0' || strlen(tap) >= IFNAMSIZ)
			return vm_error(err, EINVAL, "net %u: tap name '%s' is empty or longer than %d bytes", i,
					tap ? tap : "", IFNAMSIZ - 1);
	}
	if (cfg->vsock.guest_cid != 0 && (cfg->vsock.guest_cid < 3 || cfg->vsock.uds_path == NULL))
		return vm_error(err, EINVAL, "vsock cid %u: needs a CID of 3 or above and a uds path",
				cfg->vsock.guest_cid);
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
