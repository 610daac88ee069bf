// SPDX-License-Identifier: Apache-2.0
/*
 * The guest init's debug port on arm64: MMIO. kiln describes it in the device tree as
 * /kiln-debug@ADDR (compatible "kiln,debug-port", reg = <ADDR SIZE>); the kernel shows the tree under
 * /proc/device-tree, one directory per node named as in the tree. No driver claims the node, so
 * /dev/mem maps it (CONFIG_STRICT_DEVMEM refuses only RAM and regions a driver holds). O_SYNC makes
 * the mapping Device memory: each byte store is one MMIO exit to kiln.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debug_port.h"

#define DT_ROOT "/proc/device-tree"
#define DT_NODE_PREFIX "kiln-debug@"
#define DT_COMPATIBLE "kiln,debug-port"

static volatile uint8_t *debug_port_regs;

/* 1 when DT_ROOT/NAME/compatible lists DT_COMPATIBLE (a list of NUL-terminated strings). */
static int debug_port_is_compatible(const char *name)
{
	char path[512], buf[256];
	ssize_t n, off;
	int fd;

	snprintf(path, sizeof(path), DT_ROOT "/%s/compatible", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (off = 0; off < n; off += (ssize_t)strlen(buf + off) + 1) {
		if (strcmp(buf + off, DT_COMPATIBLE) == 0)
			return 1;
	}
	return 0;
}

/* The node's address, from its unit address (hex, after '@'): 0, or -ENOENT without such a node. */
static int debug_port_find(uint64_t *addr)
{
	DIR *d = opendir(DT_ROOT);
	struct dirent *e;
	int rc = -ENOENT;

	if (!d)
		return -errno;
	while (rc < 0 && (e = readdir(d))) {
		char *end;
		uint64_t a;

		if (strncmp(e->d_name, DT_NODE_PREFIX, strlen(DT_NODE_PREFIX)) != 0 ||
		    !debug_port_is_compatible(e->d_name))
			continue;
		errno = 0;
		a = strtoull(e->d_name + strlen(DT_NODE_PREFIX), &end, 16);
		if (errno == 0 && *end == '\0' && end != e->d_name + strlen(DT_NODE_PREFIX)) {
			*addr = a;
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}

int debug_port_open(const char **what)
{
	uint64_t addr = 0, page = (uint64_t)sysconf(_SC_PAGESIZE), base;
	size_t len;
	void *map;
	int fd, rc;

	*what = DT_ROOT "/" DT_NODE_PREFIX "*";
	rc = debug_port_find(&addr);
	if (rc < 0)
		return rc;
	*what = "/dev/mem";
	fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	base = addr & ~(page - 1);
	len = (size_t)(addr - base) + 2;	/* both registers, even across a page boundary */
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
	rc = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc == 0)
		debug_port_regs = (volatile uint8_t *)map + (addr - base);
	return rc;
}

void debug_port_write(unsigned int reg, unsigned char value)
{
	debug_port_regs[reg] = value;
}
