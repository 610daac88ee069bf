/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CONF/0 layout: u32 vcpus, u64 mem_bytes, u32 console, bool rng, bool virtio_cmdline;
 * u32 ndisks, each: str path, bool read_only, bool has_serial, str serial, u64 size;
 * u32 nnets, each: str id ("" for none: "netN"), str tap, bool mac_set, 6 bytes mac; u32 vsock cid,
 * str vsock uds ("" for none); bool track_dirty_pages.
 */
#include "snapshot/config_section.h"

#include <string.h>

void snap_config_put(struct snap_writer *w, const struct kiln_config *cfg, const uint64_t *disk_sizes)
{
	snap_begin(w, SNAP_TAG_CONFIG, 0);
	snap_put_u32(w, cfg->vcpus);
	snap_put_u64(w, cfg->mem_bytes);
	snap_put_u32(w, (uint32_t)cfg->console);
	snap_put_bool(w, cfg->rng);
	snap_put_bool(w, cfg->virtio_cmdline);
	snap_put_u32(w, cfg->ndisks);
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		snap_put_str(w, cfg->disks[i].path);
		snap_put_bool(w, cfg->disks[i].read_only);
		snap_put_bool(w, cfg->disks[i].serial != NULL);
		snap_put_str(w, cfg->disks[i].serial ? cfg->disks[i].serial : "");
		snap_put_u64(w, disk_sizes[i]);
	}
	snap_put_u32(w, cfg->nnets);
	for (unsigned int i = 0; i < cfg->nnets; i++) {
		snap_put_str(w, cfg->nets[i].id ? cfg->nets[i].id : "");
		snap_put_str(w, cfg->nets[i].tap);
		snap_put_bool(w, cfg->nets[i].mac_set);
		snap_put_bytes(w, cfg->nets[i].mac, sizeof(cfg->nets[i].mac));
	}
	snap_put_u32(w, cfg->vsock.guest_cid);
	snap_put_str(w, cfg->vsock.uds_path ? cfg->vsock.uds_path : "");
	snap_put_bool(w, cfg->track_dirty_pages);
	snap_end(w);
}

static void get_disks(struct snap_cursor *c, struct kiln_config *cfg, struct snap_config_store *store)
{
	cfg->ndisks = snap_get_u32_in(c, 0, KILN_MAX_DISKS);
	for (unsigned int i = 0; i < cfg->ndisks && c->err == 0; i++) {
		struct kiln_disk *d = &cfg->disks[i];

		snap_get_str(c, store->disk_paths[i], sizeof(store->disk_paths[i]));
		d->path = store->disk_paths[i];
		d->read_only = snap_get_bool(c);
		bool has_serial = snap_get_bool(c);
		snap_get_str(c, store->disk_serials[i], sizeof(store->disk_serials[i]));
		d->serial = has_serial ? store->disk_serials[i] : NULL;
		store->disk_sizes[i] = snap_get_u64(c);
	}
}

static void get_nets(struct snap_cursor *c, struct kiln_config *cfg, struct snap_config_store *store)
{
	cfg->nnets = snap_get_u32_in(c, 0, KILN_MAX_NETS);
	for (unsigned int i = 0; i < cfg->nnets && c->err == 0; i++) {
		snap_get_str(c, store->net_ids[i], sizeof(store->net_ids[i]));
		cfg->nets[i].id = store->net_ids[i][0] ? store->net_ids[i] : NULL;
		snap_get_str(c, store->taps[i], sizeof(store->taps[i]));
		cfg->nets[i].tap = store->taps[i];
		cfg->nets[i].mac_set = snap_get_bool(c);
		snap_get_bytes(c, cfg->nets[i].mac, sizeof(cfg->nets[i].mac));
	}
}

int snap_config_get(const struct snap_reader *r, struct kiln_config *cfg, struct snap_config_store *store,
		    char *why, size_t whylen)
{
	struct snap_cursor c;

	kiln_config_init(cfg);
	cfg->console_in_fd = cfg->console_out_fd = -1;
	memset(store, 0, sizeof(*store));
	if (snap_open_section(r, SNAP_TAG_CONFIG, 0, &c) < 0)
		return fail_with(why, whylen, -EBADMSG, "it has no machine configuration");
	cfg->vcpus = snap_get_u32_in(&c, 1, UINT32_MAX);
	cfg->mem_bytes = snap_get_u64(&c);
	cfg->console = (enum kiln_console)snap_get_u32_in(&c, KILN_CONSOLE_SERIAL, KILN_CONSOLE_VIRTIO);
	cfg->rng = snap_get_bool(&c);
	cfg->virtio_cmdline = snap_get_bool(&c);
	get_disks(&c, cfg, store);
	get_nets(&c, cfg, store);
	cfg->vsock.guest_cid = snap_get_u32(&c);
	snap_get_str(&c, store->vsock_uds, sizeof(store->vsock_uds));
	cfg->vsock.uds_path = store->vsock_uds[0] ? store->vsock_uds : NULL;
	cfg->track_dirty_pages = snap_get_bool(&c);
	if (snap_cursor_finish(&c) < 0)
		return fail_with(why, whylen, -EBADMSG, "its machine configuration is malformed");
	return 0;
}

void snap_arch_put(struct snap_writer *w, const char *machine)
{
	snap_begin(w, SNAP_TAG_ARCH, 0);
	snap_put_str(w, machine);
	snap_end(w);
}

int snap_arch_check(const struct snap_reader *r, const char *machine, char *why, size_t whylen)
{
	char name[32] = SNAP_ARCH_DEFAULT;
	struct snap_cursor c;

	if (snap_open_section(r, SNAP_TAG_ARCH, 0, &c) == 0) {
		snap_get_str(&c, name, sizeof(name));
		if (snap_cursor_finish(&c) < 0)
			return fail_with(why, whylen, -EBADMSG, "its machine name is malformed");
	}
	if (strcmp(name, machine) != 0)
		return fail_with(why, whylen, -EINVAL, "it is a snapshot of an %s machine, this kiln runs %s guests",
				 name, machine);
	return 0;
}
