/* SPDX-License-Identifier: Apache-2.0 */
/* The host terminal in raw mode while a guest owns the console, restored on every exit path. */
#ifndef KILN_CLI_TERMINAL_H
#define KILN_CLI_TERMINAL_H

/* Puts fd in raw mode if it is a terminal; the old mode comes back at exit(). */
void terminal_make_raw(int fd);

/* Restores the terminal now; async-signal-safe. */
void terminal_restore(void);

#endif
