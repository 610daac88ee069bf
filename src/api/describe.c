/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bodies of the GET routes, shaped as firecracker.yaml's InstanceInfo, FirecrackerVersion,
 * MachineConfiguration and FullVmConfiguration. Absent parts are left out rather than null (the
 * schemas have no nullable objects); GET /vm/config reads back as a config file.
 */
#include <json-c/json_object.h>
#include <stdio.h>

#include "api/vmm.h"
#include "log.h"

static void add_string(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value));
}

static void add_bool(struct json_object *o, const char *key, bool value)
{
	json_object_object_add(o, key, json_object_new_boolean(value));
}

static void add_int(struct json_object *o, const char *key, int64_t value)
{
	json_object_object_add(o, key, json_object_new_int64(value));
}

static const char *state_name(struct kiln_vm *vm)
{
	switch (vm ? kiln_vm_get_state(vm) : KILN_VM_NOT_STARTED) {
	case KILN_VM_NOT_STARTED:
		return "Not started";
	case KILN_VM_PAUSED:
		return "Paused";
	default:
		return "Running";
	}
}

struct json_object *api_describe_instance(const struct api_vmm *v)
{
	struct json_object *o = json_object_new_object();

	add_string(o, "id", v->opt.id);
	add_string(o, "state", state_name(v->vm));
	add_string(o, "vmm_version", KILN_VERSION);
	add_string(o, "app_name", API_APP_NAME);
	return o;
}

struct json_object *api_describe_version(void)
{
	struct json_object *o = json_object_new_object();

	add_string(o, "firecracker_version", KILN_VERSION);
	return o;
}

struct json_object *api_describe_machine(const struct api_spec *s)
{
	struct json_object *o = json_object_new_object();

	add_int(o, "vcpu_count", s->machine.vcpus);
	add_int(o, "mem_size_mib", (int64_t)s->machine.mem_mib);
	add_bool(o, "smt", false);
	add_bool(o, "track_dirty_pages", s->machine.track_dirty_pages);
	add_string(o, "huge_pages", "None");
	return o;
}

static struct json_object *describe_boot(const struct api_boot_source *b)
{
	struct json_object *o = json_object_new_object();

	add_string(o, "kernel_image_path", b->kernel);
	if (b->initrd[0])
		add_string(o, "initrd_path", b->initrd);
	if (b->has_boot_args)
		add_string(o, "boot_args", b->boot_args);
	return o;
}

static struct json_object *describe_drive(const struct api_drive *d)
{
	struct json_object *o = json_object_new_object();

	add_string(o, "drive_id", d->id);
	add_string(o, "path_on_host", d->path);
	add_bool(o, "is_root_device", d->root);
	add_bool(o, "is_read_only", d->read_only);
	if (d->partuuid[0])
		add_string(o, "partuuid", d->partuuid);
	add_string(o, "cache_type", "Writeback"); /* kiln honours the guest's flushes */
	add_string(o, "io_engine", "Sync");
	return o;
}

static struct json_object *describe_net(const struct api_net *n)
{
	struct json_object *o = json_object_new_object();
	char mac[18];

	add_string(o, "iface_id", n->id);
	add_string(o, "host_dev_name", n->tap);
	if (n->mac_set) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1], n->mac[2],
			 n->mac[3], n->mac[4], n->mac[5]);
		add_string(o, "guest_mac", mac);
	}
	return o;
}

static struct json_object *describe_vsock(const struct api_vsock *vs)
{
	struct json_object *o = json_object_new_object();

	add_int(o, "guest_cid", vs->guest_cid);
	add_string(o, "uds_path", vs->uds_path);
	return o;
}

static struct json_object *describe_logger(const struct api_logger *l)
{
	static const char *const levels[] = { [LOG_ERROR] = "Error", [LOG_WARN] = "Warning",
					      [LOG_INFO] = "Info", [LOG_DEBUG] = "Debug" };
	struct json_object *o = json_object_new_object();

	if (l->path[0])
		add_string(o, "log_path", l->path);
	if (l->level >= 0)
		add_string(o, "level", levels[l->level]);
	return o;
}

static struct json_object *describe_metrics(const struct api_metrics *m)
{
	struct json_object *o = json_object_new_object();

	add_string(o, "metrics_path", m->path);
	return o;
}

struct json_object *api_describe_vm_config(const struct api_vmm *v)
{
	const struct api_spec *s = &v->spec;
	struct json_object *o = json_object_new_object();
	struct json_object *drives = json_object_new_array();
	struct json_object *nets = json_object_new_array();

	if (s->has_boot)
		json_object_object_add(o, "boot-source", describe_boot(&s->boot));
	for (unsigned int i = 0; i < s->ndrives; i++)
		json_object_array_add(drives, describe_drive(&s->drives[i]));
	json_object_object_add(o, "drives", drives);
	json_object_object_add(o, "machine-config", api_describe_machine(s));
	for (unsigned int i = 0; i < s->nnets; i++)
		json_object_array_add(nets, describe_net(&s->nets[i]));
	json_object_object_add(o, "network-interfaces", nets);
	if (s->has_vsock)
		json_object_object_add(o, "vsock", describe_vsock(&s->vsock));
	if (s->entropy)
		json_object_object_add(o, "entropy", json_object_new_object());
	if (v->has_logger)
		json_object_object_add(o, "logger", describe_logger(&v->logger));
	if (v->metrics_fd >= 0)
		json_object_object_add(o, "metrics", describe_metrics(&v->metrics));
	return o;
}
