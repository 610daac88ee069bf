/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vm_control.c: kiln_vm_write_metrics at its longest, every virtio device a VM can have, the UART,
 * and every counter at its largest (3768 bytes). The line must be whole and valid JSON naming each
 * device, and shorter than PIPE_BUF, so a non-blocking FIFO (Firecracker's metrics FIFO) takes it
 * whole or not at all.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm.h"

#define BIG 18446744073709551615ull /* every counter at its widest */

static struct vm vm;
static struct vcpu vcpu;
static struct virtio_dev devs[VM_MAX_VIRTIO];
static char names[VM_MAX_VIRTIO][24];

/* The devices of a VM with the most of each kind, named as their create functions name them. */
static void fill_vm(void)
{
	static const char *const singles[] = { "virtio-console", "virtio-rng", "virtio-vsock" };
	unsigned int n = 0;

	for (unsigned int i = 0; i < KILN_MAX_DISKS; i++)
		snprintf(names[n++], sizeof(names[0]), "virtio-blk%u", i);
	for (unsigned int i = 0; i < KILN_MAX_NETS; i++)
		snprintf(names[n++], sizeof(names[0]), "virtio-net%u", i);
	for (size_t i = 0; i < ARRAY_SIZE(singles); i++)
		snprintf(names[n++], sizeof(names[0]), "%s", singles[i]);
	assert_int_equal(n, VM_MAX_VIRTIO);
	for (unsigned int i = 0; i < n; i++) {
		struct virtio_stats *s = &devs[i].stats;

		devs[i].name = names[i];
		atomic_store(&s->kicks, BIG);
		atomic_store(&s->requests, BIG);
		atomic_store(&s->bytes_to_guest, BIG);
		atomic_store(&s->bytes_from_guest, BIG);
		atomic_store(&s->errors, BIG);
		atomic_store(&s->bytes_dropped, BIG);
		vm.virtio[i].dev = &devs[i];
	}
	vm.nvirtio = n;
	atomic_store(&vm.serial.bytes_from_guest, BIG);
	atomic_store(&vm.serial.bytes_dropped, BIG);
	/* The reasons metrics name, and one they count as "other". */
	static const unsigned int reasons[] = { KVM_EXIT_IO, KVM_EXIT_MMIO, KVM_EXIT_HLT, KVM_EXIT_INTR,
						KVM_EXIT_SHUTDOWN, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_INTERNAL_ERROR,
						KVM_EXIT_FAIL_ENTRY, KVM_EXIT_UNKNOWN };
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		atomic_store(&vcpu.exits[reasons[i]], BIG);
	vm.vcpus = &vcpu;
	vm.nvcpus = 1;
}

/* Reads what fd holds (a pipe, non-blocking) into buf; returns its length. */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	return len;
}

static void test_longest_line_is_whole(void **state)
{
	static char line[1 << 16];
	int p[2];

	(void)state;
	fill_vm();
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(kiln_vm_write_metrics((struct kiln_vm *)&vm, p[1]), 0);
	size_t len = drain(p[0], line, sizeof(line) - 1);
	line[len] = '\0';
	assert_true(len > 0 && len < PIPE_BUF);
	assert_ptr_equal(strchr(line, '\n'), line + len - 1); /* one line, ended */

	struct json_object *o = json_tokener_parse(line), *devices, *d, *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "devices", &devices));
	assert_int_equal(json_object_object_length(devices), VM_MAX_VIRTIO + 1); /* and the UART */
	for (unsigned int i = 0; i < VM_MAX_VIRTIO; i++) {
		if (!json_object_object_get_ex(devices, names[i], &d))
			fail_msg("no %s in %s", names[i], line);
		assert_true(json_object_object_get_ex(d, "kicks", &v));
		assert_true(json_object_get_uint64(v) == BIG);
		assert_true(json_object_object_get_ex(d, "bytes_dropped", &v));
		assert_true(json_object_get_uint64(v) == BIG);
	}
	assert_true(json_object_object_get_ex(devices, "serial", &d));
	assert_true(json_object_object_get_ex(d, "bytes_from_guest", &v));
	assert_true(json_object_get_uint64(v) == BIG);
	assert_true(json_object_object_get_ex(d, "bytes_dropped", &v));
	assert_true(json_object_get_uint64(v) == BIG);
	json_object_put(o);
	close(p[0]);
	close(p[1]);
}

/* A full FIFO gets none of the line: the reader never sees a torn one. */
static void test_full_pipe_gets_nothing(void **state)
{
	static char buf[1 << 20];
	char fill[4096];
	int p[2];

	(void)state;
	fill_vm();
	memset(fill, 'x', sizeof(fill));
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	while (write(p[1], fill, sizeof(fill)) > 0)
		;
	while (write(p[1], fill, 1) > 0) /* to the last byte */
		;
	size_t len = drain(p[0], buf, 100); /* room for part of a line, not all of it */
	assert_int_equal(len, 100);
	assert_int_equal(kiln_vm_write_metrics((struct kiln_vm *)&vm, p[1]), -EAGAIN);
	len = drain(p[0], buf, sizeof(buf));
	assert_null(memchr(buf, '{', len));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_line_is_whole),
		cmocka_unit_test(test_full_pipe_gets_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
