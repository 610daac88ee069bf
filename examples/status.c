/* SPDX-License-Identifier: Apache-2.0 */
/*
 * examples/status.c — a guest as a command: boot KERNEL (with CMDLINE, if given) on kiln's defaults
 * (one vCPU, 512 MiB, its console on this terminal), wait for it, print how it ended and exit
 * with the status the guest reported, so that a shell script can test it like any program's.
 *
 *   cc examples/status.c $(pkg-config --cflags --libs kiln) -o status
 *   ./status KERNEL [CMDLINE]
 *
 * Exit status: the guest's own (0..255) when it reported one; 125 when kiln could not build or
 * run the VM; 126 when the guest ended without reporting a status (reset, poweroff, panic, crash).
 */
#include <kiln/kiln.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct kiln_config cfg;
	struct kiln_error err;
	struct kiln_exit how;
	struct kiln_vm *vm;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s KERNEL [CMDLINE]\n", argv[0]);
		return 2;
	}
	kiln_config_init(&cfg);
	cfg.kernel_path = argv[1];
	if (argc == 3)
		cfg.cmdline = argv[2];
	/* kiln_vm_create checks the configuration too; asking first separates a bad argument
	   from a host that cannot run the VM (no /dev/kvm, too little memory). */
	if (kiln_config_validate(&cfg, &err) < 0) {
		fprintf(stderr, "status: bad configuration: %s\n", err.msg);
		return 2;
	}
	if (kiln_vm_create(&cfg, &vm, &err) < 0) {
		fprintf(stderr, "status: %s\n", err.msg);
		return 125;
	}
	if (kiln_vm_start(vm, &err) < 0) {
		fprintf(stderr, "status: %s\n", err.msg);
		kiln_vm_destroy(vm);
		return 125;
	}
	kiln_vm_wait(vm, &how); /* cannot fail on a started VM */
	kiln_vm_destroy(vm);
	if (how.status_reported) {
		printf("status: the guest reported %d\n", how.guest_status);
		return how.guest_status;
	}
	printf("status: the guest ended without a status (reason %d)%s%s\n", how.reason,
	       how.detail[0] ? ": " : "", how.detail);
	return how.reason == KILN_EXIT_ERROR ? 125 : 126;
}
