/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c: kiln_config_validate, the one validator every front end (kiln run, the API, the config
 * file, an embedding program) relies on. Each refusal is one line that names the bad value.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kiln/kiln.h>

static struct kiln_config cfg;
static struct kiln_error err;

static int fresh(void **state)
{
	(void)state;
	kiln_config_init(&cfg);
	cfg.kernel_path = "vmlinuz";
	cfg.mem_bytes = 64 << 20;
	memset(&err, 0, sizeof(err));
	return 0;
}

/* cfg is refused with a message that contains needle. */
static void expect_refused(const char *needle)
{
	assert_int_equal(kiln_config_validate(&cfg, &err), -EINVAL);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("\"%s\" does not name \"%s\"", err.msg, needle);
	assert_null(strchr(err.msg, '\n'));
}

static void expect_valid(void)
{
	if (kiln_config_validate(&cfg, &err) != 0)
		fail_msg("refused: %s", err.msg);
}

static void test_machine(void **state)
{
	(void)state;
	expect_valid();
	cfg.vcpus = 0;
	expect_refused("vcpus 0");
	cfg.vcpus = 1;
	cfg.mem_bytes = 0;
	expect_refused("mem 0 bytes");
	cfg.mem_bytes = (64 << 20) + 1;
	expect_refused("not a multiple of 4 KiB");
	cfg.mem_bytes = 64 << 20;
	cfg.kernel_path = "";
	expect_refused("no kernel");
}

static void test_disk_serial(void **state)
{
	(void)state;
	cfg.disks[0] = (struct kiln_disk){ .path = "a.img", .serial = "01234567890123456789" }; /* 20 bytes */
	cfg.ndisks = 1;
	expect_valid();
	cfg.disks[0].serial = "012345678901234567890";
	expect_refused("serial '012345678901234567890'");
}

static void test_multicast_mac(void **state)
{
	(void)state;
	cfg.nets[0] = (struct kiln_net){ .tap = "tap0", .mac = { 0x02, 0, 0, 0, 0, 1 }, .mac_set = true };
	cfg.nnets = 1;
	expect_valid(); /* locally administered unicast */
	cfg.nets[0].mac[0] = 0x01;
	expect_refused("guest MAC 01:00:00:00:00:01 is a multicast address");
	cfg.nets[0].mac[0] = 0xff; /* broadcast is a group address too */
	expect_refused("ff:00:00:00:00:01");
	cfg.nets[0].mac_set = false; /* the MAC kiln derives is unicast */
	expect_valid();
}

static void test_nets_unique(void **state)
{
	(void)state;
	cfg.nets[0] = (struct kiln_net){ .tap = "tap0", .mac = { 0x06, 0, 0, 0, 0, 1 }, .mac_set = true };
	cfg.nets[1] = (struct kiln_net){ .tap = "tap1", .mac = { 0x06, 0, 0, 0, 0, 2 }, .mac_set = true };
	cfg.nnets = 2;
	expect_valid();
	cfg.nets[1].tap = "tap0";
	expect_refused("net 1: tap tap0 is already in use by net 0");
	cfg.nets[1].tap = "tap1";
	cfg.nets[1].mac[5] = 1;
	expect_refused("net 1: guest MAC 06:00:00:00:00:01 is already in use by net 0");
	cfg.nets[1].mac_set = false;
	expect_valid();
	cfg.nets[1].tap = "a_name_longer_than_ifnamsiz";
	expect_refused("tap name 'a_name_longer_than_ifnamsiz'");
}

/* Ids: none is "netN"; one of 1..63 printable bytes without space or '=', not another NIC's. */
static void test_net_ids(void **state)
{
	char id[KILN_MAX_NET_ID + 2];

	(void)state;
	cfg.nets[0] = (struct kiln_net){ .tap = "tap0" };
	cfg.nets[1] = (struct kiln_net){ .tap = "tap1", .id = "eth-1.x_Y~" };
	cfg.nnets = 2;
	expect_valid();
	memset(id, 'i', sizeof(id) - 1);
	id[KILN_MAX_NET_ID] = '\0';
	cfg.nets[1].id = id;
	expect_valid();
	id[KILN_MAX_NET_ID] = 'i';
	id[KILN_MAX_NET_ID + 1] = '\0';
	expect_refused("net 1: its id is empty or longer than 63 bytes");
	cfg.nets[1].id = "";
	expect_refused("net 1: its id is empty or longer than 63 bytes");
	cfg.nets[1].id = "a\tb";
	expect_refused("net 1: its id holds byte 0x9 at 1");
	cfg.nets[1].id = "net0";
	expect_refused("net 1: id net0 is already net 0's");
	cfg.nets[1].id = NULL;
	cfg.nets[0].id = "net1";
	expect_refused("net 1: id net1 is already net 0's");
	cfg.nets[1].id = "net0"; /* swapped: each id is its NIC's own */
	expect_valid();
}

static void test_vsock_cid(void **state)
{
	(void)state;
	cfg.vsock = (struct kiln_vsock){ .guest_cid = 3, .uds_path = "/tmp/v.sock" };
	expect_valid();
	cfg.vsock.guest_cid = 0xfffffffe;
	expect_valid();
	cfg.vsock.guest_cid = 2;
	expect_refused("vsock cid 2");
	cfg.vsock.guest_cid = 0xffffffff; /* VMADDR_CID_ANY */
	expect_refused("vsock cid 4294967295");
	cfg.vsock = (struct kiln_vsock){ .guest_cid = 3 };
	expect_refused("vsock cid 3: no uds path");
	cfg.vsock.uds_path = "";
	expect_refused("vsock cid 3: no uds path");
	cfg.vsock.guest_cid = 0; /* no device: the path does not matter */
	expect_valid();
}

static void test_vsock_uds_length(void **state)
{
	char path[256];

	(void)state;
	memset(path, 'v', sizeof(path));
	path[0] = '/';
	cfg.vsock = (struct kiln_vsock){ .guest_cid = 3, .uds_path = path };
	path[KILN_MAX_VSOCK_UDS] = '\0';
	expect_valid();
	path[KILN_MAX_VSOCK_UDS] = 'v';
	path[KILN_MAX_VSOCK_UDS + 1] = '\0';
	expect_refused("bytes, at most 96 fit");
	expect_refused(path);
	path[KILN_MAX_VSOCK_UDS + 1] = 'v';
	path[108] = '\0'; /* longer than sun_path itself */
	expect_refused("108 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_machine, fresh),
		cmocka_unit_test_setup(test_disk_serial, fresh),
		cmocka_unit_test_setup(test_multicast_mac, fresh),
		cmocka_unit_test_setup(test_net_ids, fresh),
		cmocka_unit_test_setup(test_nets_unique, fresh),
		cmocka_unit_test_setup(test_vsock_cid, fresh),
		cmocka_unit_test_setup(test_vsock_uds_length, fresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
