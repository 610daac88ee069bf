/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A snapshot's NICs (snapshot/config_section.c, snapshot/restore.c): each NIC's id, tap and MAC go
 * through the state file's CONF section; a restore moves NICs to other taps by id. State files
 * made here hold the machine and one vCPU section, so kiln_vm_restore reads them as a restore
 * would; every refusal below comes before a VM is built (no KVM involved), as one line naming
 * what is wrong: an override of an id the snapshot lacks or given twice, and hostile CONF
 * sections (a multicast MAC, ids unprintable, too long or taken twice, a tap name too long).
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
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/vcpu_snapshot.h"
#include "snapshot/config_section.h"
#include "support/snap_image.h"

#define assert_contains(hay, needle)                                                        \
	do {                                                                                \
		if (strstr((hay), (needle)) == NULL)                                        \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));         \
	} while (0)

static char dir[64], state_path[128], mem_path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kiln-test-snapnets.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(state_path, sizeof(state_path), "%s/state", dir);
	snprintf(mem_path, sizeof(mem_path), "%s/mem", dir);
	/* The memory file of the machines below (16 MiB, all holes): kiln_snapshot_open checks its size. */
	int fd = open(mem_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	int rc = fd >= 0 && ftruncate(fd, 16 << 20) == 0 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	unlink(state_path);
	unlink(mem_path);
	rmdir(dir);
	return 0;
}

/* A machine of 16 MiB with two NICs: net0 (no id, no MAC) and eth_1 (MAC set). */
static void two_nics(struct kiln_config *cfg)
{
	kiln_config_init(cfg);
	cfg->mem_bytes = 16 << 20;
	cfg->nets[0] = (struct kiln_net){ .tap = "kt0" };
	cfg->nets[1] = (struct kiln_net){ .id = "eth_1", .tap = "kt1", .mac = { 0x02, 0, 0, 0, 0, 1 }, .mac_set = true };
	cfg->nnets = 2;
}

static void put_state(struct snap_writer *w, const struct kiln_config *cfg)
{
	const uint64_t sizes[KILN_MAX_DISKS] = { 0 };

	snap_writer_init(w);
	snap_config_put(w, cfg, sizes);
	snap_begin(w, X86_SNAP_TAG_VCPU, 0);
	snap_end(w);
}

static void write_state(const struct kiln_config *cfg)
{
	struct snap_writer w;

	put_state(&w, cfg);
	assert_int_equal(snap_writer_save(&w, state_path), 0);
	snap_writer_free(&w);
}

/* kiln_vm_restore of the state file with rs's overrides must fail, its one line holding want. */
static void expect_refused(struct kiln_restore *rs, const char *want)
{
	struct kiln_error err = { "" };
	struct kiln_vm *vm = NULL;

	rs->state_path = state_path;
	rs->mem_path = mem_path;
	rs->console_in_fd = rs->console_out_fd = -1;
	assert_true(kiln_vm_restore(rs, &vm, &err) < 0);
	assert_null(vm);
	assert_null(strchr(err.msg, '\n'));
	assert_contains(err.msg, want);
}

/* A machine written as it is, refused on restore with want. */
static void expect_config_refused(const struct kiln_config *cfg, const char *want)
{
	struct kiln_restore rs;

	write_state(cfg);
	kiln_restore_init(&rs);
	expect_refused(&rs, want);
}

/* CONF keeps each NIC's id (none stays none: "netN"), tap and MAC. */
static void ids_taps_and_macs_are_kept(void **state)
{
	struct kiln_config cfg, got;
	struct snap_config_store *store = calloc(1, sizeof(*store));
	struct snap_writer w;
	struct snap_reader r = { 0 };
	char why[256];

	(void)state;
	assert_non_null(store);
	two_nics(&cfg);
	put_state(&w, &cfg);
	assert_int_equal(snap_image_read_back(&w, &r), 0);
	assert_int_equal(snap_config_get(&r, &got, store, why, sizeof(why)), 0);
	assert_int_equal(got.nnets, 2);
	assert_null(got.nets[0].id);
	assert_string_equal(got.nets[0].tap, "kt0");
	assert_false(got.nets[0].mac_set);
	assert_string_equal(got.nets[1].id, "eth_1");
	assert_string_equal(got.nets[1].tap, "kt1");
	assert_true(got.nets[1].mac_set);
	assert_memory_equal(got.nets[1].mac, cfg.nets[1].mac, 6);
	snap_reader_close(&r);
	snap_writer_free(&w);
	free(store);
}

static void overrides_name_nics_of_the_snapshot(void **state)
{
	struct kiln_config cfg;
	struct kiln_restore rs;

	(void)state;
	two_nics(&cfg);
	write_state(&cfg);
	kiln_restore_init(&rs);
	rs.net_overrides[0] = (struct kiln_net_override){ .id = "eth0", .tap = "kt9" };
	rs.n_net_overrides = 1;
	expect_refused(&rs, "network override eth0: the snapshot has no NIC with that id");
	/* An index is no id: NIC 1 is eth_1. */
	rs.net_overrides[0].id = "net1";
	expect_refused(&rs, "network override net1: the snapshot has no NIC with that id");
	rs.net_overrides[0] = (struct kiln_net_override){ .id = "eth_1", .tap = "kt8" };
	rs.net_overrides[1] = (struct kiln_net_override){ .id = "eth_1", .tap = "kt9" };
	rs.n_net_overrides = 2;
	expect_refused(&rs, "network override eth_1: that NIC is given a tap twice");
	rs.net_overrides[1] = (struct kiln_net_override){ .id = "net0", .tap = NULL };
	expect_refused(&rs, "network override 1: no NIC id or no tap");
	rs.n_net_overrides = KILN_MAX_NETS + 1;
	expect_refused(&rs, "5 network overrides: a VM has at most 4 NICs");
	/* Moved to one tap: the validator's rule on the result. */
	rs.net_overrides[0] = (struct kiln_net_override){ .id = "eth_1", .tap = "kt0" };
	rs.n_net_overrides = 1;
	expect_refused(&rs, "net 1: tap kt0 is already in use by net 0");
	rs.net_overrides[0] = (struct kiln_net_override){ .id = "net0", .tap = "a_name_longer_than_ifnamsiz" };
	expect_refused(&rs, "net 0: tap name 'a_name_longer_than_ifnamsiz' is empty or longer than 15 bytes");
}

/* Hostile CONF sections: what kiln_config_validate refuses in a configuration, refused in a file. */
static void hostile_nics_are_refused(void **state)
{
	struct kiln_config cfg;
	char long_id[KILN_MAX_NET_ID + 2];

	(void)state;
	two_nics(&cfg);
	cfg.nets[1].mac[0] = 0x03;
	expect_config_refused(&cfg, "net 1: guest MAC 03:00:00:00:00:01 is a multicast address");
	two_nics(&cfg);
	cfg.nets[1].id = "eth 1";
	expect_config_refused(&cfg, "net 1: its id holds byte 0x20 at 3");
	cfg.nets[1].id = "eth\0011";
	expect_config_refused(&cfg, "net 1: its id holds byte 0x1 at 3");
	cfg.nets[1].id = "eth\3771";
	expect_config_refused(&cfg, "net 1: its id holds byte 0xff at 3");
	cfg.nets[1].id = "a=b";
	expect_config_refused(&cfg, "net 1: its id holds byte 0x3d at 1");
	cfg.nets[1].id = "net0"; /* NIC 0's, which has none of its own */
	expect_config_refused(&cfg, "net 1: id net0 is already net 0's");
	memset(long_id, 'i', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	cfg.nets[1].id = long_id; /* one byte more than an id may have: it does not fit where it is read */
	expect_config_refused(&cfg, "its machine configuration is malformed");
	long_id[KILN_MAX_NET_ID] = '\0';
	cfg.nets[1].id = long_id;
	cfg.nets[1].tap = "a_name_longer_than_ifnamsiz";
	expect_config_refused(&cfg, "its machine configuration is malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_taps_and_macs_are_kept),
		cmocka_unit_test(overrides_name_nics_of_the_snapshot),
		cmocka_unit_test(hostile_nics_are_refused),
	};

	return cmocka_run_group_tests_name("snapshot_nets", tests, setup, teardown);
}
