/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/terminal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_mode;
static int saved_fd = -1;

void terminal_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSANOW, &saved_mode);
}

void terminal_make_raw(int fd)
{
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, &saved_mode) < 0)
		return;
	raw = saved_mode;
	/* Every key goes to the guest (Ctrl-C included); output keeps \n -> \r\n off, the guest sends \r\n. */
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return;
	saved_fd = fd;
	atexit(terminal_restore);
}
