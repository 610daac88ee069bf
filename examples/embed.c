/* SPDX-License-Identifier: Apache-2.0 */
/*
 * examples/embed.c — the smallest program that embeds kiln: boot a kernel with 256 MiB and one
 * vCPU, its console on this terminal, a 10 s watchdog, and report how the guest ended.
 *
 *   cc examples/embed.c $(pkg-config --cflags --libs kiln) -o embed      (kiln installed)
 *   cc -Iinclude examples/embed.c build/rel/libkiln.a -pthread -o embed   (in the tree)
 *   ./embed KERNEL [INITRD]
 *
 * It uses kiln.h and nothing else of kiln's; `make check-embed` builds and runs it from the tree,
 * `make check-install` against an installed copy.
 */
#include <kiln/kiln.h>
#include <poll.h>
#include <stdio.h>

static const char *const reasons[] = {
	[KILN_EXIT_STATUS] = "reported a status",  [KILN_EXIT_RESET] = "reset",
	[KILN_EXIT_POWEROFF] = "powered off",      [KILN_EXIT_PANIC] = "panicked",
	[KILN_EXIT_CRASH] = "crashed",             [KILN_EXIT_STOPPED] = "was stopped by the watchdog",
	[KILN_EXIT_ERROR] = "failed in kiln",
};

int main(int argc, char **argv)
{
	struct kiln_config cfg;
	struct kiln_error err;
	struct kiln_exit how;
	struct kiln_vm *vm;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s KERNEL [INITRD]\n", argv[0]);
		return 2;
	}
	kiln_config_init(&cfg); /* 1 vCPU, the UART on stdin and stdout */
	cfg.kernel_path = argv[1];
	cfg.initrd_path = argc == 3 ? argv[2] : NULL;
	cfg.mem_bytes = 256u << 20;
	cfg.cmdline = "console=ttyS0 reboot=k panic=-1 pci=off";
	if (kiln_vm_create(&cfg, &vm, &err) < 0 || kiln_vm_start(vm, &err) < 0) {
		fprintf(stderr, "embed: %s\n", err.msg);
		return 1;
	}
	/* An application's event loop would watch this fd beside its own; here: wait up to 10 s. */
	struct pollfd ended = { .fd = kiln_vm_exit_fd(vm), .events = POLLIN };
	if (poll(&ended, 1, 10000) == 0)
		kiln_vm_stop(vm);
	kiln_vm_wait(vm, &how);
	printf("embed: the guest %s", reasons[how.reason]);
	if (how.status_reported)
		printf(" (status %d)", how.guest_status);
	printf("\n");
	kiln_vm_destroy(vm);
	return how.reason == KILN_EXIT_CRASH || how.reason == KILN_EXIT_ERROR;
}
