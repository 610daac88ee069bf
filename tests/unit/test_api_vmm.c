/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api/vmm.c and api/describe.c before boot (unit tests create no VM): each configuration action,
 * its errors, the one validator, nothing changed by a rejected request, and the GET bodies.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/route.h"
#include "api/vmm.h"
#include "arch/x86/vcpu_snapshot.h"
#include "snapshot/config_section.h"
#include "support/resident.h"
#include "support/scratch.h"

#define assert_contains(hay, needle)                                                        \
	do {                                                                                \
		if (strstr((hay), (needle)) == NULL)                                        \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));         \
	} while (0)

static struct api_vmm vmm;
static struct api_reply reply;

/* Sends one request through the route table and the VM side; the reply is left in `reply`. */
static unsigned int request(const char *method, const char *path, const char *fmt, ...)
{
	static struct api_action a;
	char body[8192], fault[API_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	api_reply_free(&reply);
	if (api_route(method, path, body, strlen(body), &a, fault, sizeof(fault)) < 0)
		api_reply_fault(&reply, "%s", fault);
	else
		api_vmm_apply(&vmm, &a, &reply);
	return reply.status;
}

#define GET(path) request("GET", path, "%s", "")

static int setup(void **state)
{
	(void)state;
	assert_int_equal(scratch_make_dir("api"), 0);
	scratch_make_file("kernel", 4096);
	scratch_make_file("disk0", 1 << 20);
	scratch_make_file("disk1", 1 << 20);
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = { "kernel", "disk0", "disk1", "gone", "new-metrics", "nics.state",
					       "nics.mem" };

	(void)state;
	api_reply_free(&reply);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unlink(scratch_path(names[i]));
		rmdir(scratch_path(names[i]));
	}
	rmdir(scratch_dir);
	return 0;
}

static int fresh(void **state)
{
	const struct api_vmm_options opt = { .id = "test-vm", .default_boot_args = "console=ttyS0 reboot=k",
					     .console_in_fd = -1, .console_out_fd = -1 };

	(void)state;
	api_vmm_init(&vmm, &opt);
	return 0;
}

static int done(void **state)
{
	(void)state;
	api_vmm_destroy(&vmm);
	return 0;
}

static void test_gets(void **state)
{
	(void)state;
	assert_int_equal(GET("/"), 200);
	assert_string_equal(reply.body, "{\"id\":\"test-vm\",\"state\":\"Not started\",\"vmm_version\":\"" KILN_VERSION
					"\",\"app_name\":\"kiln\"}");
	assert_int_equal(GET("/version"), 200);
	assert_string_equal(reply.body, "{\"firecracker_version\":\"" KILN_VERSION "\"}");
	assert_int_equal(GET("/machine-config"), 200);
	assert_string_equal(reply.body, "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false,"
					"\"track_dirty_pages\":false,\"huge_pages\":\"None\"}");
	assert_int_equal(GET("/vm/config"), 200);
	assert_string_equal(reply.body, "{\"drives\":[],\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":128,"
					"\"smt\":false,\"track_dirty_pages\":false,\"huge_pages\":\"None\"},"
					"\"network-interfaces\":[]}");
}

static void test_machine(void **state)
{
	(void)state;
	assert_int_equal(request("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 64}"), 204);
	assert_null(reply.body);
	assert_int_equal(request("PATCH", "/machine-config", "{\"mem_size_mib\": 32}"), 204);
	GET("/machine-config");
	assert_contains(reply.body, "\"vcpu_count\":2,\"mem_size_mib\":32");
	/* kiln_config_validate's limits: below 8 MiB, above the host's RAM. */
	assert_int_equal(request("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 4}"), 400);
	assert_contains(reply.fault, "Machine config error: mem 4194304 bytes: a VM needs at least 8 MiB");
	assert_int_equal(request("PATCH", "/machine-config", "{\"mem_size_mib\": 1073741824}"), 400);
	assert_contains(reply.fault, "Machine config error: mem 1073741824 MiB: more than this host's");
	GET("/machine-config");
	assert_contains(reply.body, "\"vcpu_count\":2,\"mem_size_mib\":32"); /* unchanged */

	/* track_dirty_pages: PATCH sets it alone; PUT without it resets it to false (firecracker.yaml). */
	assert_int_equal(request("PATCH", "/machine-config", "{\"track_dirty_pages\": true}"), 204);
	GET("/machine-config");
	assert_contains(reply.body, "\"vcpu_count\":2,\"mem_size_mib\":32,\"smt\":false,\"track_dirty_pages\":true");
	assert_int_equal(request("PATCH", "/machine-config", "{\"vcpu_count\": 1}"), 204);
	GET("/vm/config");
	assert_contains(reply.body, "\"track_dirty_pages\":true");
	assert_int_equal(request("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 32}"), 204);
	GET("/machine-config");
	assert_contains(reply.body, "\"track_dirty_pages\":false");
}

static void test_boot_source(void **state)
{
	(void)state;
	assert_int_equal(request("PUT", "/boot-source", "{\"kernel_image_path\": \"%s\"}", scratch_path("gone")), 400);
	assert_contains(reply.fault, "Boot source error: kernel_image_path ");
	assert_contains(reply.fault, "gone: No such file or directory");
	assert_int_equal(request("PUT", "/boot-source", "{\"kernel_image_path\": \"%s\", \"initrd_path\": \"%s\"}",
				 scratch_path("kernel"), scratch_path("gone")), 400);
	assert_contains(reply.fault, "initrd_path");
	assert_int_equal(request("PUT", "/boot-source", "{\"kernel_image_path\": \"%s\"}", scratch_dir), 400);
	assert_contains(reply.fault, "Is a directory");
	GET("/vm/config");
	assert_null(strstr(reply.body, "boot-source"));
	assert_int_equal(request("PUT", "/boot-source", "{\"kernel_image_path\": \"%s\", \"boot_args\": \"quiet\"}",
				 scratch_path("kernel")), 204);
	GET("/vm/config");
	assert_contains(reply.body, "\"boot-source\":{\"kernel_image_path\":\"");
	assert_contains(reply.body, "\"boot_args\":\"quiet\"}");
}

static void test_drives(void **state)
{
	const char *fmt = "{\"drive_id\": \"%s\", \"path_on_host\": \"%s\", \"is_root_device\": %s}";

	(void)state;
	assert_int_equal(request("PUT", "/drives/data", fmt, "data", scratch_path("disk0"), "false"), 204);
	assert_int_equal(request("PUT", "/drives/root", fmt, "root", scratch_path("disk1"), "true"), 204);
	GET("/vm/config");
	/* The root device goes first, as the guest will see it (/dev/vda). */
	const char *root = strstr(reply.body, "\"drive_id\":\"root\"");
	const char *data = strstr(reply.body, "\"drive_id\":\"data\"");
	assert_non_null(root);
	assert_non_null(data);
	assert_true(root < data);
	assert_int_equal(request("PUT", "/drives/other", fmt, "other", scratch_path("disk0"), "true"), 400);
	assert_string_equal(reply.fault, "Drive config error: A root block device already exists!");
	assert_int_equal(request("PUT", "/drives/x", fmt, "x", scratch_path("gone"), "false"), 400);
	assert_contains(reply.fault, "Drive config error: path_on_host ");
	assert_contains(reply.fault, "No such file or directory");
	/* The same id replaces the drive: the root stays root and first. */
	assert_int_equal(request("PUT", "/drives/root", fmt, "root", scratch_path("disk0"), "true"), 204);
	assert_int_equal(vmm.spec.ndrives, 2);
	assert_string_equal(vmm.spec.drives[0].id, "root");
	assert_string_equal(vmm.spec.drives[0].path, scratch_path("disk0"));
	for (unsigned int i = 2; i < KILN_MAX_DISKS; i++) {
		char id[16], path[32];
		snprintf(id, sizeof(id), "d%u", i);
		snprintf(path, sizeof(path), "/drives/%s", id);
		assert_int_equal(request("PUT", path, fmt, id, scratch_path("disk1"), "false"), 204);
	}
	assert_int_equal(request("PUT", "/drives/nine", fmt, "nine", scratch_path("disk1"), "false"), 400);
	assert_contains(reply.fault, "at most 8 drives");
	assert_int_equal(vmm.spec.ndrives, KILN_MAX_DISKS);
}

static void test_nets_vsock_entropy(void **state)
{
	(void)state;
	assert_int_equal(request("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": "
				 "\"tap0\", \"guest_mac\": \"06:00:00:00:00:01\"}"), 204);
	assert_int_equal(request("PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": "
				 "\"tap0\"}"), 400);
	assert_string_equal(reply.fault, "Network config error: net 1: tap tap0 is already in use by net 0");
	assert_int_equal(request("PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": "
				 "\"tap1\", \"guest_mac\": \"06:00:00:00:00:01\"}"), 400);
	assert_contains(reply.fault, "net 1: guest MAC 06:00:00:00:00:01 is already in use by net 0");
	/* kiln_config_validate's refusal of a multicast MAC. */
	assert_int_equal(request("PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": "
				 "\"tap1\", \"guest_mac\": \"03:00:00:00:00:01\"}"), 400);
	assert_contains(reply.fault, "Network config error: net 1: guest MAC 03:00:00:00:00:01 is a multicast");
	/* kiln_config_validate's limit on tap names (IFNAMSIZ). */
	assert_int_equal(request("PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": "
				 "\"a_name_longer_than_ifnamsiz\"}"), 400);
	assert_contains(reply.fault, "Network config error: net 1: tap name");
	assert_int_equal(request("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": "
				 "\"tap9\"}"), 204); /* replaces eth0 */
	for (unsigned int i = 1; i < KILN_MAX_NETS; i++) {
		char path[48], body[128];
		snprintf(path, sizeof(path), "/network-interfaces/eth%u", i);
		snprintf(body, sizeof(body), "{\"iface_id\": \"eth%u\", \"host_dev_name\": \"tap%u\"}", i, i);
		assert_int_equal(request("PUT", path, "%s", body), 204);
	}
	assert_int_equal(request("PUT", "/network-interfaces/eth9", "{\"iface_id\": \"eth9\", \"host_dev_name\": "
				 "\"tap10\"}"), 400);
	assert_contains(reply.fault, "at most 4 network interfaces");
	assert_int_equal(vmm.spec.nnets, KILN_MAX_NETS);
	assert_string_equal(vmm.spec.nets[0].tap, "tap9");

	/* kiln_config_validate's limit on the socket path, as the guest's connections extend it. */
	char uds[KILN_MAX_VSOCK_UDS + 2];
	memset(uds, 'v', sizeof(uds) - 1);
	uds[0] = '/';
	uds[sizeof(uds) - 1] = '\0';
	assert_int_equal(request("PUT", "/vsock", "{\"guest_cid\": 7, \"uds_path\": \"%s\"}", uds), 400);
	assert_contains(reply.fault, "Vsock config error: vsock uds path /vvv");
	assert_int_equal(request("PUT", "/vsock", "{\"guest_cid\": 7, \"uds_path\": \"/tmp/v.sock\"}"), 204);
	assert_int_equal(request("PUT", "/entropy", "{}"), 204);
	GET("/vm/config");
	assert_contains(reply.body, "\"vsock\":{\"guest_cid\":7,\"uds_path\":\"/tmp/v.sock\"}");
	assert_contains(reply.body, "\"entropy\":{}");
	assert_contains(reply.body, "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap9\"}");
}

static void test_metrics_logger(void **state)
{
	(void)state;
	assert_int_equal(request("PUT", "/metrics", "{\"metrics_path\": \"%s\"}", scratch_path("sub/m")), 400);
	assert_contains(reply.fault, "Metrics error: metrics_path ");
	assert_contains(reply.fault, "sub/m: No such file or directory");
	assert_int_equal(request("PUT", "/metrics", "{\"metrics_path\": \"%s\"}", scratch_dir), 400);
	assert_contains(reply.fault, "not a file or a FIFO");
	assert_int_equal(request("PUT", "/metrics", "{\"metrics_path\": \"%s\"}", scratch_path("new-metrics")), 204);
	assert_true(vmm.metrics_fd >= 0);
	struct stat st;
	assert_int_equal(stat(scratch_path("new-metrics"), &st), 0); /* created, as Firecracker creates it */
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(request("PUT", "/metrics", "{\"metrics_path\": \"%s\"}", scratch_path("metrics")), 400);
	assert_string_equal(reply.fault, "Metrics error: Reinitialization of metrics not allowed.");
	assert_int_equal(request("PUT", "/logger", "{\"log_path\": \"%s\"}", scratch_path("sub/l")), 400);
	assert_contains(reply.fault, "Logger error: log_path ");
	assert_int_equal(request("PUT", "/logger", "{\"level\": \"Warning\"}"), 204);
	GET("/vm/config");
	assert_contains(reply.body, "\"logger\":{\"level\":\"Warning\"}");
	assert_contains(reply.body, "\"metrics\":{\"metrics_path\":\"");
}

static void test_not_before_boot(void **state)
{
	static const char *const requests[][3] = {
		{ "PATCH", "/vm", "{\"state\": \"Paused\"}" },
		{ "PATCH", "/vm", "{\"state\": \"Resumed\"}" },
		{ "PATCH", "/drives/x", "{\"drive_id\": \"x\", \"path_on_host\": \"/d\"}" },
		{ "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}" },
		{ "PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}" },
		{ "PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		assert_int_equal(request(requests[i][0], requests[i][1], "%s", requests[i][2]), 400);
		assert_string_equal(reply.fault, "The requested operation is not supported before starting the microVM.");
	}
}

static void test_instance_start(void **state)
{
	(void)state;
	assert_int_equal(request("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), 400);
	assert_string_equal(reply.fault, "Start microvm error: no kernel given");
	assert_null(vmm.vm);

	/* A kernel that vanished after PUT /boot-source: kiln_vm_create fails before touching KVM. */
	scratch_make_file("gone", 4096);
	assert_int_equal(request("PUT", "/boot-source", "{\"kernel_image_path\": \"%s\"}", scratch_path("gone")), 204);
	assert_int_equal(request("PUT", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"%s\", "
				 "\"is_root_device\": false}", scratch_path("disk0")), 204);
	assert_int_equal(request("PUT", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"%s\", "
				 "\"is_root_device\": true, \"is_read_only\": true, \"partuuid\": \"0eaa91a0-01\"}",
				 scratch_path("disk1")), 204);
	assert_int_equal(request("PUT", "/network-interfaces/eth_0", "{\"iface_id\": \"eth_0\", \"host_dev_name\": "
				 "\"tap0\"}"), 204);
	unlink(scratch_path("gone"));
	assert_int_equal(request("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), 400);
	assert_contains(reply.fault, "Start microvm error: kernel ");
	assert_null(vmm.vm);
	/* What it was to be built from: Firecracker's root device argument, drive ids as serials. */
	assert_string_equal(vmm.cmdline, "console=ttyS0 reboot=k root=PARTUUID=0eaa91a0-01 ro");
	assert_int_equal(vmm.cfg.ndisks, 2);
	assert_string_equal(vmm.cfg.disks[0].path, scratch_path("disk1"));
	assert_true(vmm.cfg.disks[0].read_only);
	assert_string_equal(vmm.cfg.disks[0].serial, "rootfs");
	assert_string_equal(vmm.cfg.disks[1].serial, "data");
	/* A NIC keeps its iface_id: a snapshot records it, and its load's overrides name the NIC by it. */
	assert_int_equal(vmm.cfg.nnets, 1);
	assert_string_equal(vmm.cfg.nets[0].id, "eth_0");
	assert_string_equal(vmm.cfg.nets[0].tap, "tap0");
	assert_int_equal(vmm.cfg.mem_bytes, 128ull << 20);
	/* Still before boot: the configuration can be fixed and started again. */
	assert_int_equal(GET("/"), 200);
	assert_contains(reply.body, "Not started");
}

static void test_root_cmdline(void **state)
{
	(void)state;
	scratch_make_file("gone", 4096);
	assert_int_equal(request("PUT", "/boot-source", "{\"kernel_image_path\": \"%s\", \"boot_args\": \"a=1\"}",
				 scratch_path("gone")), 204);
	assert_int_equal(request("PUT", "/drives/r", "{\"drive_id\": \"a_drive_id_longer_than_20\", "
				 "\"path_on_host\": \"%s\", \"is_root_device\": true}", scratch_path("disk0")), 400);
	assert_int_equal(request("PUT", "/drives/a_drive_id_longer_than_20", "{\"drive_id\": "
				 "\"a_drive_id_longer_than_20\", \"path_on_host\": \"%s\", \"is_root_device\": true}",
				 scratch_path("disk0")), 204);
	unlink(scratch_path("gone"));
	assert_int_equal(request("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), 400);
	assert_string_equal(vmm.cmdline, "a=1 root=/dev/vda rw");
	assert_string_equal(vmm.cfg.disks[0].serial, "a_drive_id_longer_th"); /* 20 bytes of the id */
}

/*
 * A state file whose machine has two NICs, net0 (no id) and eth_1, and one (empty) vCPU section; and
 * its memory file nics.mem, 16 MiB of holes.
 */
static void snapshot_with_nics(const char *path)
{
	struct kiln_config cfg;
	struct snap_writer w;
	const uint64_t sizes[KILN_MAX_DISKS] = { 0 };

	kiln_config_init(&cfg);
	cfg.mem_bytes = 16 << 20;
	cfg.nets[0] = (struct kiln_net){ .tap = "kt0" };
	cfg.nets[1] = (struct kiln_net){ .id = "eth_1", .tap = "kt1" };
	cfg.nnets = 2;
	snap_writer_init(&w);
	snap_config_put(&w, &cfg, sizes);
	snap_begin(&w, X86_SNAP_TAG_VCPU, 0);
	snap_end(&w);
	assert_int_equal(snap_writer_save(&w, path), 0);
	snap_writer_free(&w);
	scratch_make_file("nics.mem", cfg.mem_bytes);
}

#define LOAD(state_path, mem_path, extra)                                                                  \
	request("PUT", "/snapshot/load", "{\"snapshot_path\": \"%s\", \"mem_backend\": {\"backend_type\": \"File\", " \
		"\"backend_path\": \"%s\"}%s}", (state_path), (mem_path), (extra))

/* A load that fails answers one line and leaves the process fresh: another load, or a boot, may follow. */
static void test_snapshot_load_fails_cleanly(void **state)
{
	(void)state;
	/* The logger and metrics may come first, as in Firecracker. */
	assert_int_equal(request("PUT", "/logger", "{\"level\": \"Warning\"}"), 204);
	assert_int_equal(LOAD(scratch_path("gone"), scratch_path("disk0"), ""), 400);
	assert_contains(reply.fault, "Load microVM snapshot error: Failed to restore from snapshot: snapshot ");
	assert_contains(reply.fault, "gone: ");
	assert_null(strchr(reply.fault, '\n'));
	assert_null(vmm.vm);
	/* Not a kiln state file (4 KiB of zeros). */
	assert_int_equal(LOAD(scratch_path("kernel"), scratch_path("disk0"), ", \"resume_vm\": true"), 400);
	assert_contains(reply.fault, "Load microVM snapshot error: Failed to restore from snapshot: snapshot ");
	assert_null(strchr(reply.fault, '\n'));
	assert_null(vmm.vm);
	GET("/");
	assert_contains(reply.body, "Not started");
	/* An override of a NIC the snapshot lacks (it has net0 and eth_1) is refused, naming it. */
	snapshot_with_nics(scratch_path("nics.state"));
	assert_int_equal(LOAD(scratch_path("nics.state"), scratch_path("nics.mem"), ", \"network_overrides\": [{\"iface_id\": \"net1\", "
			      "\"host_dev_name\": \"tap0\"}]"), 400);
	assert_string_equal(reply.fault, "Load microVM snapshot error: Failed to restore from snapshot: "
					 "network override net1: the snapshot has no NIC with that id");
	assert_null(vmm.vm);
	/* Still fresh: a boot can be configured. */
	assert_int_equal(request("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64}"), 204);
}

/* Firecracker's precondition: no boot-specific resource configured, not even by a refused request. */
static void test_snapshot_load_only_when_fresh(void **state)
{
	static const char *const not_allowed = "Load microVM snapshot error: Loading a microVM snapshot not "
					       "allowed after configuring boot-specific resources.";

	(void)state;
	assert_int_equal(request("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 4}"), 400);
	assert_int_equal(LOAD(scratch_path("gone"), scratch_path("disk0"), ""), 400);
	assert_string_equal(reply.fault, not_allowed);
	api_vmm_destroy(&vmm);
	fresh(state);
	assert_int_equal(request("PUT", "/boot-source", "{\"kernel_image_path\": \"%s\"}", scratch_path("kernel")), 204);
	assert_int_equal(LOAD(scratch_path("gone"), scratch_path("disk0"), ""), 400);
	assert_string_equal(reply.fault, not_allowed);
	api_vmm_destroy(&vmm);
	fresh(state);
	assert_int_equal(request("PUT", "/entropy", "{}"), 204);
	assert_int_equal(LOAD(scratch_path("gone"), scratch_path("disk0"), ""), 400);
	assert_string_equal(reply.fault, not_allowed);
}

/* The main loop sleeps until the next metrics flush is due; with nothing to flush, until woken. */
static void test_tick_timeout(void **state)
{
	const uint64_t flushed = 1000000000000ull;

	(void)state;
	assert_int_equal(api_vmm_tick_timeout_ms(&vmm, flushed), -1); /* no VM, no metrics */
	assert_int_equal(request("PUT", "/metrics", "{\"metrics_path\": \"%s\"}", scratch_path("new-metrics")), 204);
	assert_int_equal(api_vmm_tick_timeout_ms(&vmm, flushed), -1); /* no VM yet */
	/* A stand-in handle: the timeout only asks whether there is a VM, never touches it. */
	vmm.vm = (struct kiln_vm *)&vmm;
	vmm.metrics_flushed_ns = flushed;
	assert_int_equal(api_vmm_tick_timeout_ms(&vmm, flushed), 60000);
	assert_int_equal(api_vmm_tick_timeout_ms(&vmm, flushed + 59999000001ull), 1); /* rounded up */
	assert_int_equal(api_vmm_tick_timeout_ms(&vmm, flushed + API_METRICS_PERIOD_NS), 0);
	assert_int_equal(api_vmm_tick_timeout_ms(&vmm, flushed + 2 * API_METRICS_PERIOD_NS), 0);
	vmm.vm = NULL;
}

/*
 * A fresh api_vmm costs a process the pages of its counts and flags alone: api_vmm_init and a
 * machine-config change leave its path buffers (logger, metrics, cmdline, two 48 KiB specs) untouched.
 */
static void test_init_pages(void **state)
{
	const struct api_vmm_options opt = { .id = "test-vm", .default_boot_args = "console=ttyS0" };
	struct api_vmm *v = resident_map(sizeof(*v));
	const struct api_action machine = { .kind = API_PUT_MACHINE, .machine = { .vcpus = 1, .mem_mib = 64 } };
	struct api_reply r;

	(void)state;
	api_vmm_init(v, &opt);
	api_vmm_apply(v, &machine, &r);
	assert_int_equal(r.status, 204);
	api_reply_free(&r);
	resident_allow(v, sizeof(*v), v, offsetof(struct api_vmm, logger));
	resident_allow(v, sizeof(*v), &v->spec, offsetof(struct api_spec, boot));
	resident_allow(v, sizeof(*v), &v->next, offsetof(struct api_spec, boot));
	assert_true(resident_check(v, sizeof(*v)) <= 4);
	assert_int_equal(v->spec.machine.mem_mib, 64);
	api_vmm_destroy(v);
	resident_unmap(v, sizeof(*v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gets, fresh, done),
		cmocka_unit_test_setup_teardown(test_machine, fresh, done),
		cmocka_unit_test_setup_teardown(test_boot_source, fresh, done),
		cmocka_unit_test_setup_teardown(test_drives, fresh, done),
		cmocka_unit_test_setup_teardown(test_nets_vsock_entropy, fresh, done),
		cmocka_unit_test_setup_teardown(test_metrics_logger, fresh, done),
		cmocka_unit_test_setup_teardown(test_not_before_boot, fresh, done),
		cmocka_unit_test_setup_teardown(test_instance_start, fresh, done),
		cmocka_unit_test_setup_teardown(test_root_cmdline, fresh, done),
		cmocka_unit_test_setup_teardown(test_tick_timeout, fresh, done),
		cmocka_unit_test(test_init_pages),
		cmocka_unit_test_setup_teardown(test_snapshot_load_fails_cleanly, fresh, done),
		cmocka_unit_test_setup_teardown(test_snapshot_load_only_when_fresh, fresh, done),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
