/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot/memfile.c on real files: a Full memory file (zero pages as holes, never-populated pages
 * not read), a Diff's (exactly its
 * dirty pages as data, zero ones included), and the merge rule: a Diff's data extents copied over
 * its base give the Diff's memory, along a chain and in either grouping; bad pairs are refused.
 */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem/gmem.h"
#include "mem/pagemap.h"
#include "snapshot/memfile.h"

#define PAGE GMEM_PAGE_SIZE
#define PAGES 256
#define RAM_BYTES (PAGES * PAGE)
#define WORDS (PAGES / 64)

static char dir[64];
static char why[256];

static const char *path(const char *name)
{
	static char paths[4][128];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kiln-test-memfile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = { "full", "base", "d1", "d2", "d12", "other", "odd", "none" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(path(names[i]));
	rmdir(dir);
	return 0;
}

/* Page n of ram filled with byte (0 makes it a zero page). */
static void fill(uint8_t *ram, uint64_t n, uint8_t byte)
{
	memset(ram + n * PAGE, byte, PAGE);
}

static void set_bit(uint64_t *bits, uint64_t n)
{
	bits[n / 64] |= 1ull << (n % 64);
}

/* The file's data extents, as a bitmap of pages; every extent must be whole pages. */
static void data_pages(const char *file, uint64_t *bits)
{
	int fd = open(file, O_RDONLY);
	off_t pos = 0;

	assert_true(fd >= 0);
	memset(bits, 0, WORDS * sizeof(*bits));
	for (;;) {
		off_t start = lseek(fd, pos, SEEK_DATA);
		if (start < 0) {
			assert_int_equal(errno, ENXIO);
			break;
		}
		off_t end = lseek(fd, start, SEEK_HOLE);
		assert_true(end > start);
		assert_int_equal(start % PAGE, 0);
		assert_int_equal(end % PAGE, 0);
		for (off_t p = start / PAGE; p < end / PAGE; p++)
			set_bit(bits, (uint64_t)p);
		pos = end;
	}
	close(fd);
}

/* The file holds exactly ram's bytes. */
static void assert_file_is(const char *file, const uint8_t *ram)
{
	uint8_t *got = malloc(RAM_BYTES);
	int fd = open(file, O_RDONLY);

	assert_non_null(got);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, got, RAM_BYTES, 0), RAM_BYTES);
	for (uint64_t n = 0; n < PAGES; n++)
		if (memcmp(got + n * PAGE, ram + n * PAGE, PAGE) != 0)
			fail_msg("%s: page %llu differs", file, (unsigned long long)n);
	close(fd);
	free(got);
}

static uint8_t *new_ram(void)
{
	uint8_t *ram = calloc(PAGES, PAGE);

	assert_non_null(ram);
	return ram;
}

static void copy_file(const char *from, const char *to)
{
	uint8_t *buf = malloc(RAM_BYTES);
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_non_null(buf);
	assert_true(in >= 0 && out >= 0);
	assert_int_equal(pread(in, buf, RAM_BYTES, 0), RAM_BYTES);
	assert_int_equal(pwrite(out, buf, RAM_BYTES, 0), RAM_BYTES);
	close(in);
	close(out);
	free(buf);
}

static void test_full_keeps_zero_pages_as_holes(void **state)
{
	uint8_t *ram = new_ram();
	uint64_t want[WORDS] = { 0 }, got[WORDS];
	struct memfile_stats st;

	(void)state;
	fill(ram, 0, 1);
	fill(ram, 63, 2);
	fill(ram, 64, 3);
	ram[200 * PAGE + PAGE - 1] = 4; /* one byte makes a page non-zero */
	set_bit(want, 0);
	set_bit(want, 63);
	set_bit(want, 64);
	set_bit(want, 200);
	assert_int_equal(memfile_save(ram, RAM_BYTES, NULL, path("full"), &st), 0);
	assert_int_equal(st.pages_written, 4);
	assert_int_equal(st.bytes_written, 4 * PAGE);
	data_pages(path("full"), got);
	assert_memory_equal(got, want, sizeof(want));
	assert_file_is(path("full"), ram);
	free(ram);
}

/*
 * A Full given the populated pages (mem/pagemap.h) writes only those that are non-zero, and never
 * reads the others: a page with data outside the map stays a hole. And the map pagemap gives for
 * anonymous memory holds the pages written, not the untouched ones.
 */
static void test_full_reads_only_populated_pages(void **state)
{
	uint8_t *ram = new_ram();
	uint64_t populated[WORDS] = { 0 }, want[WORDS] = { 0 }, got[WORDS];
	struct memfile_stats st;

	(void)state;
	fill(ram, 3, 1);
	fill(ram, 70, 2);
	fill(ram, 130, 3); /* data the map says was never populated: not read */
	set_bit(populated, 3);
	set_bit(populated, 70);
	set_bit(populated, 71); /* populated, but zero: a hole */
	set_bit(want, 3);
	set_bit(want, 70);
	assert_int_equal(memfile_save(ram, RAM_BYTES, populated, path("full"), &st), 0);
	assert_int_equal(st.pages_written, 2);
	data_pages(path("full"), got);
	assert_memory_equal(got, want, sizeof(want));
	free(ram);

	uint8_t *anon = mmap(NULL, RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(anon != MAP_FAILED);
	assert_int_equal(madvise(anon, RAM_BYTES, MADV_NOHUGEPAGE), 0); /* a huge page would populate all */
	anon[5 * PAGE] = 1;
	anon[200 * PAGE + 17] = 2;
	assert_int_equal(pagemap_populated(anon, RAM_BYTES, populated), 0);
	for (uint64_t n = 0; n < PAGES; n++)
		assert_int_equal((populated[n / 64] >> (n % 64)) & 1, n == 5 || n == 200);
	munmap(anon, RAM_BYTES);
}

static void test_diff_holds_exactly_its_dirty_pages(void **state)
{
	uint8_t *ram = new_ram();
	uint64_t dirty[WORDS] = { 0 }, got[WORDS];
	struct memfile_stats st;
	struct stat sb;

	(void)state;
	for (uint64_t n = 0; n < PAGES; n++)
		fill(ram, n, (uint8_t)(n + 1)); /* every page non-zero: only the bitmap decides */
	fill(ram, 7, 0);                        /* a dirty page the guest zeroed: data all the same */
	static const uint64_t pages[] = { 0, 6, 7, 8, 63, 64, 65, 127, 128, 255 };
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		set_bit(dirty, pages[i]);
	assert_int_equal(memfile_save_diff(ram, RAM_BYTES, dirty, path("d1"), &st), 0);
	assert_int_equal(st.pages_written, ARRAY_SIZE(pages));
	assert_int_equal(stat(path("d1"), &sb), 0);
	assert_int_equal(sb.st_size, RAM_BYTES);
	data_pages(path("d1"), got);
	assert_memory_equal(got, dirty, sizeof(dirty));

	/* Nothing dirty: all holes. */
	memset(dirty, 0, sizeof(dirty));
	assert_int_equal(memfile_save_diff(ram, RAM_BYTES, dirty, path("none"), &st), 0);
	assert_int_equal(st.pages_written, 0);
	data_pages(path("none"), got);
	assert_memory_equal(got, dirty, sizeof(dirty));
	free(ram);
}

/*
 * RAM goes a -> b -> c, a Diff taken at each step with the pages changed (one of them zeroed, which
 * a hole could not say). Merging them onto a's Full memory file oldest first gives c, and so does
 * merging the two Diffs first (a chain can be squashed); a Diff alone is not c.
 */
static void test_merge_chain(void **state)
{
	uint8_t *ram = new_ram();
	uint64_t d1[WORDS] = { 0 }, d2[WORDS] = { 0 };
	struct memfile_stats st;

	(void)state;
	for (uint64_t n = 0; n < PAGES; n += 3)
		fill(ram, n, 0xa0);
	assert_int_equal(memfile_save(ram, RAM_BYTES, NULL, path("full"), &st), 0);
	fill(ram, 3, 0);       /* zeroed */
	fill(ram, 4, 0xb1);    /* was zero, a hole of the Full */
	fill(ram, 99, 0xb2);
	set_bit(d1, 3);
	set_bit(d1, 4);
	set_bit(d1, 99);
	assert_int_equal(memfile_save_diff(ram, RAM_BYTES, d1, path("d1"), &st), 0);
	fill(ram, 4, 0xc1);    /* dirty again */
	fill(ram, 6, 0);
	fill(ram, 255, 0xc2);
	set_bit(d2, 4);
	set_bit(d2, 6);
	set_bit(d2, 255);
	assert_int_equal(memfile_save_diff(ram, RAM_BYTES, d2, path("d2"), &st), 0);

	copy_file(path("full"), path("base"));
	assert_int_equal(memfile_merge(path("base"), path("d1"), &st, why, sizeof(why)), 0);
	assert_int_equal(st.pages_written, 3);
	assert_int_equal(memfile_merge(path("base"), path("d2"), &st, why, sizeof(why)), 0);
	assert_int_equal(st.pages_written, 3);
	assert_file_is(path("base"), ram);

	/* Squashed into an empty (all-hole) file: a Diff of both; a plain copy of d1 would fill its holes. */
	int fd = open(path("d12"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, RAM_BYTES), 0);
	close(fd);
	assert_int_equal(memfile_merge(path("d12"), path("d1"), &st, why, sizeof(why)), 0);
	assert_int_equal(memfile_merge(path("d12"), path("d2"), &st, why, sizeof(why)), 0);
	copy_file(path("full"), path("base"));
	assert_int_equal(memfile_merge(path("base"), path("d12"), &st, why, sizeof(why)), 0);
	assert_file_is(path("base"), ram);

	/* d2 alone over the Full misses d1's pages. */
	copy_file(path("full"), path("base"));
	assert_int_equal(memfile_merge(path("base"), path("d2"), &st, why, sizeof(why)), 0);
	uint8_t page[PAGE];
	fd = open(path("base"), O_RDONLY);
	assert_int_equal(pread(fd, page, PAGE, 99 * PAGE), PAGE);
	close(fd);
	assert_int_not_equal(page[0], 0xb2);
	free(ram);
}

static void test_merge_refusals(void **state)
{
	uint8_t *ram = new_ram();
	uint64_t dirty[WORDS] = { 0 };
	struct memfile_stats st;

	(void)state;
	fill(ram, 1, 1);
	set_bit(dirty, 1);
	assert_int_equal(memfile_save(ram, RAM_BYTES, NULL, path("full"), &st), 0);
	assert_int_equal(memfile_save_diff(ram, RAM_BYTES, dirty, path("d1"), &st), 0);
	/* Another size: another guest's RAM. */
	assert_int_equal(memfile_save(ram, RAM_BYTES - 64 * PAGE, NULL, path("other"), &st), 0);
	assert_int_equal(memfile_merge(path("other"), path("d1"), &st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not the same guest RAM"));
	assert_int_equal(memfile_merge(path("d1"), path("d1"), &st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "the same file"));
	assert_int_equal(memfile_merge(path("full"), path("gone"), &st, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "gone: No such file or directory"));
	assert_int_equal(memfile_merge(path("gone"), path("d1"), &st, why, sizeof(why)), -ENOENT);
	assert_int_equal(memfile_merge(dir, path("d1"), &st, why, sizeof(why)), -EISDIR);
	/* Not whole pages. */
	int fd = open(path("odd"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, RAM_BYTES + 1), 0);
	close(fd);
	assert_int_equal(memfile_merge(path("full"), path("odd"), &st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a memory file"));
	/* Nothing was changed by the refusals. */
	assert_file_is(path("full"), ram);
	free(ram);
}

/* memfile_open then memfile_map over ram, the fd closed (the mapping keeps the file and its lock). */
static int map_file(void *ram, const char *file)
{
	int fd = memfile_open(file, RAM_BYTES, why, sizeof(why));

	if (fd < 0)
		return fd;
	int rc = memfile_map(ram, RAM_BYTES, fd, why, sizeof(why));
	close(fd);
	return rc;
}

/*
 * A memory file a VM maps (memfile_map), or a snapshot opened for restores holds open
 * (memfile_open), is not merged into while either stays, and a file being merged into (its
 * exclusive flock held) is not opened.
 */
static void test_no_merge_into_a_mapped_file(void **state)
{
	uint8_t *ram = new_ram();
	uint64_t dirty[WORDS] = { 0 };
	struct memfile_stats st;

	(void)state;
	fill(ram, 2, 2);
	set_bit(dirty, 2);
	assert_int_equal(memfile_save(ram, RAM_BYTES, NULL, path("base"), &st), 0);
	assert_int_equal(memfile_save_diff(ram, RAM_BYTES, dirty, path("d1"), &st), 0);
	void *guest = mmap(NULL, RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(guest != MAP_FAILED);
	assert_int_equal(map_file(guest, path("base")), 0);
	assert_int_equal(((uint8_t *)guest)[2 * PAGE], 2);
	assert_int_equal(memfile_merge(path("base"), path("d1"), &st, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "a running VM maps it"));
	/* Two VMs may map one file (clones of one snapshot). */
	void *clone = mmap(NULL, RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(clone != MAP_FAILED);
	assert_int_equal(map_file(clone, path("base")), 0);
	munmap(guest, RAM_BYTES);
	assert_int_equal(memfile_merge(path("base"), path("d1"), &st, why, sizeof(why)), -EBUSY);
	munmap(clone, RAM_BYTES);
	/* Opened for restores, not mapped yet. */
	int fd = memfile_open(path("base"), RAM_BYTES, why, sizeof(why));
	assert_true(fd >= 0);
	assert_int_equal(memfile_merge(path("base"), path("d1"), &st, why, sizeof(why)), -EBUSY);
	close(fd);
	/* The last mapping and fd gone, the file may be merged into. */
	assert_int_equal(memfile_merge(path("base"), path("d1"), &st, why, sizeof(why)), 0);

	int lock = open(path("base"), O_RDWR);
	assert_true(lock >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0); /* as a merge holds it */
	assert_int_equal(memfile_open(path("base"), RAM_BYTES, why, sizeof(why)), -EWOULDBLOCK);
	assert_non_null(strstr(why, "a Diff is being merged into it"));
	close(lock);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_keeps_zero_pages_as_holes),
		cmocka_unit_test(test_full_reads_only_populated_pages),
		cmocka_unit_test(test_diff_holds_exactly_its_dirty_pages),
		cmocka_unit_test(test_merge_chain),
		cmocka_unit_test(test_merge_refusals),
		cmocka_unit_test(test_no_merge_into_a_mapped_file),
	};
	return cmocka_run_group_tests_name("memfile", tests, setup, teardown);
}
