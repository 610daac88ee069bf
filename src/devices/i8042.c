/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/i8042.h"

#include <string.h>

#include "arch/x86/layout.h"

#define STATUS_OUTPUT_FULL 0x01
#define STATUS_SYSTEM_FLAG 0x04 /* set after a successful self-test, as firmware leaves it */

#define CMD_READ_COMMAND_BYTE 0x20
#define CMD_WRITE_COMMAND_BYTE 0x60
#define CMD_SELF_TEST 0xaa
#define CMD_PULSE_RESET 0xfe
#define SELF_TEST_PASSED 0x55

static void put_output(struct i8042 *k, uint8_t byte)
{
	k->output = byte;
	k->output_full = 1;
}

static void command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_COMMAND_BYTE:
		put_output(k, k->command_byte);
		break;
	case CMD_WRITE_COMMAND_BYTE:
		k->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		put_output(k, SELF_TEST_PASSED);
		break;
	case CMD_PULSE_RESET:
		k->events->stop(k->events, KILN_EXIT_RESET);
		break;
	default: /* no keyboard or mouse behind this controller: other commands do nothing */
		break;
	}
}

static void i8042_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct i8042 *k = opaque;
	uint8_t value;

	pthread_mutex_lock(&k->lock);
	if (offset == 0) {
		value = k->output;
		k->output_full = 0;
	} else {
		value = STATUS_SYSTEM_FLAG | (k->output_full ? STATUS_OUTPUT_FULL : 0);
	}
	pthread_mutex_unlock(&k->lock);
	memset(data, 0, len);
	*(uint8_t *)data = value;
}

static void i8042_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct i8042 *k = opaque;
	uint8_t value = *(const uint8_t *)data;

	(void)len;
	pthread_mutex_lock(&k->lock);
	if (offset != 0) {
		command(k, value);
	} else if (k->pending_cmd == CMD_WRITE_COMMAND_BYTE) {
		k->command_byte = value;
		k->pending_cmd = 0;
	}
	pthread_mutex_unlock(&k->lock);
}

static const struct bus_ops i8042_ops = { .read = i8042_read, .write = i8042_write };

/* The controller's two ports are 4 apart: data at 0x60, command/status at 0x64. */
static void i8042_status_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	(void)offset;
	i8042_read(opaque, 1, data, len);
}

static void i8042_command_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	(void)offset;
	i8042_write(opaque, 1, data, len);
}

static const struct bus_ops i8042_command_ops = { .read = i8042_status_read,
						  .write = i8042_command_write };

int i8042_init(struct i8042 *k, struct bus *pio, struct machine_events *events)
{
	int rc;

	*k = (struct i8042){ .events = events };
	pthread_mutex_init(&k->lock, NULL);
	rc = bus_register(pio, X86_PORT_I8042_DATA, 1, &i8042_ops, k);
	if (rc == 0)
		rc = bus_register(pio, X86_PORT_I8042_CMD, 1, &i8042_command_ops, k);
	return rc;
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}
