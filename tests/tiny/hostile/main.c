/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile guest: finds kiln's virtio-mmio devices, plays every register game (games.c) and its
 * device's own games (device_games.c) on each, and returns the number of failed checks, which
 * start.S reports as the exit status. Each check is a line, "ok - ..." or "not ok - ...", on COM1;
 * when kiln's console is virtio (COM1 then goes nowhere), the lines are kept in RAM and written
 * out through virtio-console at the end.
 */
#include "device_games.h"
#include "games.h"
#include "requests.h"

int hostile_main(uint32_t start_info);

static struct vdev devs[GUEST_MAX_DEVS];

/* Writes the log out through the console, a buffer at a time. */
static bool flush_log(struct vdev *console)
{
	uint32_t len, done = 0;
	const char *log = output_take_log(&len);

	if (!dev_activate(console, 0))
		return false;
	while (done < len) {
		uint32_t n = len - done < BUF_SIZE ? len - done : BUF_SIZE;
		struct vring_used_elem e;

		console_post_tx(console, log + done, n);
		kick(console, CONSOLE_TXQ);
		if (!used_wait(console, CONSOLE_TXQ, &e))
			return false;
		done += n;
	}
	return true;
}

int hostile_main(uint32_t start_info)
{
	struct vdev *console;
	unsigned int n, failed;

	ram_end_from_start_info(start_info);
	n = dev_scan(devs, GUEST_MAX_DEVS);
	console = dev_find(devs, n, DEV_ID_CONSOLE);
	if (console != NULL)
		output_to_log();
	gprintf("# devices:");
	for (unsigned int i = 0; i < n; i++)
		gprintf(" %s", devs[i].kind->name);
	gprintf("\n# RAM ends at 0x%x\n", ram_end);
	check(n > 0, "virtio devices found");
	for (unsigned int i = 0; i < n; i++) {
		games_run_all(&devs[i]);
		device_games_run(&devs[i]);
	}
	failed = checks_failed();
	gprintf("# %u failed\n", failed);
	if (console != NULL && !flush_log(console))
		failed++;
	return failed > 255 ? 255 : (int)failed;
}
