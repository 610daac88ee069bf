// SPDX-License-Identifier: Apache-2.0
/*
 * bench-io: the block benchmark that runs inside the bench guest (static; bench/bench.sh adds it to the
 * guest's initramfs as /bench/bench-io). The test guest has no fio; this does the three jobs the
 * benchmark needs, each for a fixed time, with O_DIRECT so the guest's page cache is out of the way:
 *
 *   bench-io DEVICE SECONDS      (DEVICE may also be a regular file, to measure the host)
 *     seq_write_mbs   1 MiB writes from the start of DEVICE, wrapping at its end, then fdatasync
 *     seq_read_mbs    1 MiB reads, the same way
 *     randread_iops   4 KiB reads at random 4 KiB-aligned offsets, one at a time (queue depth 1)
 *
 * Prints "BENCH-IO name=value" lines (MB = 10^6 bytes), timed with the guest's CLOCK_MONOTONIC.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK (1u << 20)
#define RAND_BLOCK 4096u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "bench-io: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Sequential 1 MiB transfers for secs seconds; returns MB/s or -1. */
static double sequential(int fd, uint64_t size, double secs, int write, void *buf)
{
	uint64_t off = 0, bytes = 0;
	double t0 = now_s(), t;

	do {
		ssize_t n = write ? pwrite(fd, buf, SEQ_BLOCK, (off_t)off) : pread(fd, buf, SEQ_BLOCK, (off_t)off);

		if (n != (ssize_t)SEQ_BLOCK)
			return -1;
		bytes += SEQ_BLOCK;
		off += SEQ_BLOCK;
		if (off + SEQ_BLOCK > size)
			off = 0;
		t = now_s() - t0;
	} while (t < secs);
	if (write && fdatasync(fd) < 0)
		return -1;
	t = now_s() - t0;
	return (double)bytes / 1e6 / t;
}

static double random_reads(int fd, uint64_t size, double secs, void *buf)
{
	uint64_t blocks = size / RAND_BLOCK, ops = 0, x = 0x9e3779b97f4a7c15ull;
	double t0 = now_s(), t;

	do {
		x ^= x << 13; /* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		if (pread(fd, buf, RAND_BLOCK, (off_t)((x % blocks) * RAND_BLOCK)) != (ssize_t)RAND_BLOCK)
			return -1;
		ops++;
		t = now_s() - t0;
	} while (t < secs);
	return (double)ops / t;
}

int main(int argc, char **argv)
{
	uint64_t size;
	struct stat st;
	double secs, r;
	void *buf;
	int fd;

	if (argc != 3 || (secs = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: bench-io DEVICE SECONDS\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0)
		return fail(argv[1]);
	if (fstat(fd, &st) < 0)
		return fail(argv[1]);
	if (S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size; /* a host file, for comparison */
	else if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		return fail("BLKGETSIZE64");
	if (size < SEQ_BLOCK)
		return fprintf(stderr, "bench-io: %s is smaller than 1 MiB\n", argv[1]), 1;
	if (posix_memalign(&buf, 4096, SEQ_BLOCK) != 0)
		return fail("posix_memalign");
	memset(buf, 0x5a, SEQ_BLOCK);

	if ((r = sequential(fd, size, secs, 1, buf)) < 0)
		return fail("sequential write");
	printf("BENCH-IO seq_write_mbs=%.1f\n", r);
	if ((r = sequential(fd, size, secs, 0, buf)) < 0)
		return fail("sequential read");
	printf("BENCH-IO seq_read_mbs=%.1f\n", r);
	if ((r = random_reads(fd, size, secs, buf)) < 0)
		return fail("random read");
	printf("BENCH-IO randread_iops=%.0f\n", r);
	return 0;
}
