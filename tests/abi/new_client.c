/* SPDX-License-Identifier: Apache-2.0 */
/*
 * new_client STATUS_ELF: a program built against a later kiln.h than the library it runs with
 * (this release's kiln.h with one more field at the end of each struct that grows:
 * tests/abi/next.awk), linked with this release's libkiln.so.0. While it leaves the new fields
 * zero, as kiln_config_init does, the library serves it, writes none of the bytes it does not
 * know, and says so in the sizes it hands back (KILN_HAS_FIELD is false for the new fields); once
 * it sets one, the library refuses with -E2BIG and one line, before touching anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "client.h"

static void check_unknown_zero(const char *status_elf)
{
	struct kiln_config *cfg = guard_alloc(sizeof(*cfg), 0xa5);
	struct kiln_exit *e = guard_alloc(sizeof(*e), 0xa5);
	struct kiln_error err = { "" };
	struct kiln_vm *vm;

	kiln_config_init(cfg);
	check(cfg->size == sizeof(*cfg) && cfg->abi_next == 0 && cfg->vcpus == 1,
	      "kiln_config_init fills the fields it knows and zeroes the one it does not (program's "
	      "kiln_config: %zu bytes)", sizeof(*cfg));
	cfg->kernel_path = status_elf;
	cfg->mem_bytes = 16 << 20;
	cfg->console_in_fd = cfg->console_out_fd = -1;
	if (kiln_vm_create(cfg, &vm, &err) < 0) {
		check(0, "kiln_vm_create with the unknown field zero: %s", err.msg);
		return;
	}
	const struct kiln_config *own = kiln_vm_config(vm);
	check(own->size < sizeof(*cfg) && !KILN_HAS_FIELD(own, abi_next) && KILN_HAS_FIELD(own, reserved),
	      "kiln_vm_config: the library's kiln_config is %zu bytes, KILN_HAS_FIELD says it lacks the "
	      "new field", own->size);
	check(kiln_vm_start(vm, &err) == 0, "the status guest starts");
	unsigned char past[sizeof(e->abi_next)];
	memset(past, 0xa5, sizeof(past));
	int rc = kiln_vm_wait(vm, e);
	check(rc == 0 && e->reason == KILN_EXIT_STATUS && e->guest_status == 42 &&
	      e->size < sizeof(*e) && !KILN_HAS_FIELD(e, abi_next) && KILN_HAS_FIELD(e, detail) &&
	      memcmp(&e->abi_next, past, sizeof(past)) == 0,
	      "kiln_vm_wait writes %zu of the program's %zu bytes of kiln_exit, as its size says: status %d",
	      e->size, sizeof(*e), e->guest_status);
	kiln_vm_destroy(vm);
}

static void check_unknown_set(const char *status_elf)
{
	struct kiln_config *cfg = guard_alloc(sizeof(*cfg), 0);
	struct kiln_restore *rs = guard_alloc(sizeof(*rs), 0);
	struct kiln_error err = { "" };
	struct kiln_vm *vm = NULL;
	int rc;

	kiln_config_init(cfg);
	cfg->kernel_path = status_elf;
	cfg->mem_bytes = 16 << 20;
	cfg->abi_next = 1;
	rc = kiln_vm_create(cfg, &vm, &err);
	check(rc == -E2BIG && vm == NULL && one_line(err.msg) && strstr(err.msg, "kiln_config"),
	      "kiln_vm_create with the unknown field set: -E2BIG, \"%s\"", err.msg);
	err.msg[0] = '\0';
	check(kiln_config_validate(cfg, &err) == -E2BIG && one_line(err.msg), "kiln_config_validate too");
	kiln_restore_init(rs);
	rs->state_path = rs->mem_path = "/nonexistent";
	rs->abi_next = 1;
	err.msg[0] = '\0';
	rc = kiln_vm_restore(rs, &vm, &err);
	check(rc == -E2BIG && vm == NULL && one_line(err.msg) && strstr(err.msg, "kiln_restore"),
	      "kiln_vm_restore with kiln_restore's unknown field set: -E2BIG before any file is opened, "
	      "\"%s\"", err.msg);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s STATUS_ELF\n", argv[0]);
		return 2;
	}
	printf("# a program built against a kiln.h newer than its libkiln\n");
	check_unknown_zero(argv[1]);
	check_unknown_set(argv[1]);
	return checks_failed() ? 1 : 0;
}
