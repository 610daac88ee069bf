/* SPDX-License-Identifier: Apache-2.0 */
#include "vm_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* strdup of an optional string into *dst; false only when memory ran out. */
static bool copy_str(const char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src == NULL || *dst != NULL;
}

int vm_config_copy(struct kiln_config *dst, const struct kiln_config *src)
{
	bool ok;

	*dst = *src;
	dst->kernel_path = dst->initrd_path = dst->cmdline = dst->vsock.uds_path = NULL;
	for (unsigned int i = 0; i < KILN_MAX_DISKS; i++)
		dst->disks[i].path = dst->disks[i].serial = NULL;
	for (unsigned int i = 0; i < KILN_MAX_NETS; i++)
		dst->nets[i].tap = dst->nets[i].id = NULL;
	ok = copy_str(&dst->kernel_path, src->kernel_path) && copy_str(&dst->initrd_path, src->initrd_path) &&
	     copy_str(&dst->cmdline, src->cmdline) && copy_str(&dst->vsock.uds_path, src->vsock.uds_path);
	for (unsigned int i = 0; ok && i < src->ndisks && i < KILN_MAX_DISKS; i++)
		ok = copy_str(&dst->disks[i].path, src->disks[i].path) &&
		     copy_str(&dst->disks[i].serial, src->disks[i].serial);
	for (unsigned int i = 0; ok && i < src->nnets && i < KILN_MAX_NETS; i++)
		ok = copy_str(&dst->nets[i].tap, src->nets[i].tap) && copy_str(&dst->nets[i].id, src->nets[i].id);
	if (!ok) {
		vm_config_free(dst);
		return -ENOMEM;
	}
	return 0;
}

void vm_config_free(struct kiln_config *cfg)
{
	free((char *)cfg->kernel_path);
	free((char *)cfg->initrd_path);
	free((char *)cfg->cmdline);
	free((char *)cfg->vsock.uds_path);
	for (unsigned int i = 0; i < KILN_MAX_DISKS; i++) {
		free((char *)cfg->disks[i].path);
		free((char *)cfg->disks[i].serial);
	}
	for (unsigned int i = 0; i < KILN_MAX_NETS; i++) {
		free((char *)cfg->nets[i].tap);
		free((char *)cfg->nets[i].id);
	}
	*cfg = (struct kiln_config){ 0 };
}
