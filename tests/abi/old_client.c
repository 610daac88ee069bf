/* SPDX-License-Identifier: Apache-2.0 */
/*
 * old_client STATUS_ELF COUNTER_ELF SCRATCH_DIR [same|larger]: a program built against kiln 0.1's header
 * (tests/abi/0.1/kiln/kiln.h, kept as released) and linked with libkiln.so.0, run unchanged against
 * this release's library and against "the next release" (a library built from a kiln.h with one
 * more field in each struct that grows: tests/abi/next.awk). Whichever it gets, the library must
 * fill in what the program's smaller structs lack, read and write none of the bytes past them
 * (each struct ends where an inaccessible page begins), and lay out the fields the program knows
 * as it expects: a VM is booted (the status guest, 42), and a snapshot of the counter guest is
 * taken and restored, all through the 0.1 structs. "larger" (the next release) also checks that the
 * library's kiln_config is larger than the program's: that the run is what it claims to be.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "client.h"

static int config_has_defaults(const struct kiln_config *cfg)
{
	const uint8_t zero[sizeof(cfg->reserved)] = { 0 };

	return cfg->size == sizeof(*cfg) && cfg->vcpus == 1 && cfg->mem_bytes == 512ull << 20 &&
	       cfg->console_in_fd == 0 && cfg->console_out_fd == 1 && cfg->kernel_path == NULL &&
	       cfg->ndisks == 0 && !cfg->track_dirty_pages && memcmp(cfg->reserved, zero, sizeof(zero)) == 0;
}

static struct kiln_config *guarded_config(const char *kernel)
{
	struct kiln_config *cfg = guard_alloc(sizeof(*cfg), 0xa5);

	kiln_config_init(cfg);
	cfg->kernel_path = kernel;
	cfg->mem_bytes = 16 << 20;
	cfg->console_in_fd = cfg->console_out_fd = -1;
	return cfg;
}

static void check_refusals(const char *kernel)
{
	struct kiln_config *cfg = guard_alloc(sizeof(*cfg), 0xa5);
	struct kiln_error err = { "" };
	struct kiln_vm *vm;
	int rc;

	kiln_config_init(cfg);
	check(config_has_defaults(cfg), "kiln_config_init fills this program's %zu-byte kiln_config with "
	      "the defaults, and writes nothing past it", sizeof(*cfg));
	cfg->kernel_path = kernel;
	cfg->size = 8;
	rc = kiln_vm_create(cfg, &vm, &err);
	check(rc == -EINVAL && one_line(err.msg) && strstr(err.msg, "kiln_config.size 8"),
	      "a size below 0.1's is -EINVAL: %s", err.msg);
	cfg->size = sizeof(*cfg);
	cfg->reserved[4] = 1;
	rc = kiln_vm_create(cfg, &vm, &err);
	check(rc == -E2BIG && one_line(err.msg) && strstr(err.msg, "reserved[4]"),
	      "a set reserved byte is -E2BIG: %s", err.msg);
}

static void check_boot(const char *status_elf, int larger)
{
	struct kiln_config *cfg = guarded_config(status_elf);
	struct kiln_exit *e = guard_alloc(sizeof(*e), 0xa5);
	struct kiln_error err = { "" };
	struct kiln_vm *vm;

	if (kiln_vm_create(cfg, &vm, &err) < 0) {
		check(0, "kiln_vm_create with 0.1's kiln_config: %s", err.msg);
		return;
	}
	const struct kiln_config *own = kiln_vm_config(vm);
	check((larger ? own->size > sizeof(*cfg) : own->size == sizeof(*cfg)) && own->mem_bytes == cfg->mem_bytes && own->vcpus == 1 &&
	      strcmp(own->kernel_path, status_elf) == 0 && own->console_out_fd == -1,
	      "kiln_vm_config: the library's kiln_config (%zu bytes; this program's: %zu) holds this "
	      "program's fields where it expects them", own->size, sizeof(*cfg));
	check(kiln_vm_start(vm, &err) == 0, "the status guest starts");
	int rc = kiln_vm_wait(vm, e);
	check(rc == 0 && e->size == sizeof(*e) && e->reason == KILN_EXIT_STATUS && e->status_reported &&
	      e->guest_status == 42,
	      "kiln_vm_wait fills this program's %zu-byte kiln_exit, no more: status %d", sizeof(*e),
	      e->guest_status);
	kiln_vm_destroy(vm);
}

/* Boots the counter guest and snapshots it paused into state and mem; 0 or -1. */
static int snapshot_counter(const char *counter_elf, const char *state, const char *mem)
{
	struct kiln_config *cfg = guarded_config(counter_elf);
	struct kiln_error err = { "" };
	struct kiln_vm *vm;
	int rc = kiln_vm_create(cfg, &vm, &err);

	if (rc == 0) {
		rc = kiln_vm_start(vm, &err);
		if (rc == 0 && (rc = kiln_vm_pause(vm)) < 0)
			snprintf(err.msg, sizeof(err.msg), "kiln_vm_pause: %s", strerror(-rc));
		if (rc == 0)
			rc = kiln_vm_snapshot(vm, state, mem, &err);
		kiln_vm_destroy(vm);
	}
	if (rc < 0)
		check(0, "a snapshot of the counter guest: %s", err.msg);
	return rc < 0 ? -1 : 0;
}

static void check_restore(const char *counter_elf, const char *dir)
{
	struct kiln_restore *rs = guard_alloc(sizeof(*rs), 0xa5);
	struct kiln_exit *e = guard_alloc(sizeof(*e), 0xa5);
	struct kiln_error err = { "" };
	char state[512], mem[512];
	struct kiln_vm *vm;

	snprintf(state, sizeof(state), "%s/old_client.state", dir);
	snprintf(mem, sizeof(mem), "%s/old_client.mem", dir);
	if (snapshot_counter(counter_elf, state, mem) < 0)
		return;
	kiln_restore_init(rs);
	check(rs->size == sizeof(*rs) && rs->console_in_fd == 0 && rs->console_out_fd == 1 && !rs->paused &&
	      rs->n_net_overrides == 0 && rs->vsock_uds_path == NULL,
	      "kiln_restore_init fills this program's %zu-byte kiln_restore with the defaults", sizeof(*rs));
	rs->state_path = state;
	rs->mem_path = mem;
	rs->console_in_fd = rs->console_out_fd = -1;
	rs->paused = true;
	if (kiln_vm_restore(rs, &vm, &err) < 0) {
		check(0, "kiln_vm_restore with 0.1's kiln_restore: %s", err.msg);
		return;
	}
	check(kiln_vm_start(vm, &err) == 0 && kiln_vm_get_state(vm) == KILN_VM_PAUSED,
	      "the restored VM starts paused, as 0.1's kiln_restore.paused asked");
	check(kiln_vm_resume(vm) == 0 && kiln_vm_get_state(vm) == KILN_VM_RUNNING, "and runs once resumed");
	kiln_vm_stop(vm);
	check(kiln_vm_wait(vm, e) == 0 && e->size == sizeof(*e) && e->reason == KILN_EXIT_STOPPED,
	      "the restored VM stops when asked");
	kiln_vm_destroy(vm);
	remove(state);
	remove(mem);
}

int main(int argc, char **argv)
{
	if (argc != 5 || (strcmp(argv[4], "same") != 0 && strcmp(argv[4], "larger") != 0)) {
		fprintf(stderr, "usage: %s STATUS_ELF COUNTER_ELF SCRATCH_DIR same|larger\n", argv[0]);
		return 2;
	}
	printf("# a program built against kiln %s's kiln.h\n", KILN_VERSION);
	check_refusals(argv[1]);
	check_boot(argv[1], strcmp(argv[4], "larger") == 0);
	check_restore(argv[2], argv[3]);
	return checks_failed() ? 1 : 0;
}
