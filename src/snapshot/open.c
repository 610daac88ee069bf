/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln_snapshot_open and kiln_snapshot_close: what every restore of one snapshot needs from its
 * files, read and checked once. What depends on a restore's overrides (taps, disk files and their
 * sizes, the vsock socket) is checked by each restore (snapshot/restore.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "error.h"
#include "snapshot/memfile.h"
#include "snapshot/open.h"

/* The state file: a kiln VM's (its machine, and a vCPU section for each of its vCPUs). */
static int open_state(struct kiln_snapshot *s, struct kiln_error *err)
{
	char why[256];
	int rc = snap_reader_open(&s->reader, s->state_path, why, sizeof(why));

	if (rc < 0)
		return vm_error(err, -rc, "snapshot %s: %s", s->state_path, why);
	if ((rc = snap_arch_check(&s->reader, arch_machine_name, why, sizeof(why))) < 0)
		return vm_error(err, -rc, "snapshot %s: %s", s->state_path, why);
	if (arch_snapshot_vcpus(&s->reader) == 0 || snap_count(&s->reader, SNAP_TAG_CONFIG) != 1)
		return vm_error(err, EBADMSG, "snapshot %s: not a kiln VM snapshot (no vCPUs or no machine)",
				s->state_path);
	rc = snap_config_get(&s->reader, &s->cfg, &s->store, why, sizeof(why));
	if (rc < 0)
		return vm_error(err, -rc, "snapshot %s: %s", s->state_path, why);
	if (arch_snapshot_vcpus(&s->reader) != s->cfg.vcpus)
		return vm_error(err, EBADMSG, "snapshot %s: %u vCPUs configured, %u saved", s->state_path,
				s->cfg.vcpus, arch_snapshot_vcpus(&s->reader));
	return 0;
}

int kiln_snapshot_open(const char *state_path, const char *mem_path, struct kiln_snapshot **out,
		       struct kiln_error *err)
{
	struct kiln_snapshot *s;
	char why[256];
	int rc;

	if (state_path == NULL || mem_path == NULL)
		return vm_error(err, EINVAL, "a restore needs a state file and a memory file");
	if ((rc = arch_snapshot_supported(err)) < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s)
		s->state_path = strdup(state_path);
	if (s == NULL || s->state_path == NULL) {
		free(s);
		return vm_error(err, ENOMEM, "out of memory");
	}
	s->mem_fd = -1;
	rc = open_state(s, err);
	if (rc == 0) {
		s->mem_fd = memfile_open(mem_path, s->cfg.mem_bytes, why, sizeof(why));
		if (s->mem_fd < 0)
			rc = vm_error(err, -s->mem_fd, "memory file %s", why);
	}
	if (rc < 0) {
		kiln_snapshot_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

const struct kiln_config *kiln_snapshot_config(const struct kiln_snapshot *snap)
{
	return &snap->cfg;
}

void kiln_snapshot_close(struct kiln_snapshot *snap)
{
	if (snap == NULL)
		return;
	if (snap->mem_fd >= 0)
		close(snap->mem_fd);
	snap_reader_close(&snap->reader);
	free(snap->state_path);
	free(snap);
}
