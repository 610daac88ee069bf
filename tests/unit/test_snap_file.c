/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot/snap_file.c: the state file's layout, round trips of every put and get, every refusal
 * of a damaged or hostile file (each with its one-line reason), cursor bounds and ranges, the
 * writer's sticky errors, and saving by rename.
 */
#define _GNU_SOURCE /* strndup */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "snapshot/snap_file.h"

#define VCPU SNAP_TAG('V', 'C', 'P', 'U')
#define UART SNAP_TAG('U', 'A', 'R', 'T')
#define EMPT SNAP_TAG('E', 'M', 'P', 'T')

#if defined(__SANITIZE_ADDRESS__)
/* The ENOMEM test makes allocations fail: ASan must then return NULL, as libc does. */
__attribute__((visibility("default"))) const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

/* --- helpers ------------------------------------------------------------------------------------ */
static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/* Rewrites the trailer so that only the check under test can refuse the file. */
static void refresh_crc(uint8_t *f, size_t len)
{
	put_le64(f + len - 8, snap_crc64(0, f, len - 8));
}

/* A file around a body laid out by hand (independently of the writer), checksum included. */
static uint8_t *raw_file(const uint8_t *body, size_t body_len, size_t *len)
{
	uint8_t *f = calloc(1, SNAP_HEADER_BYTES + body_len + SNAP_TRAILER_BYTES);

	assert_non_null(f);
	memcpy(f, "KILNSNAP", 8);
	f[8] = 2; /* major 2, minor 0, flags 0 */
	put_le64(f + 16, body_len);
	if (body_len > 0)
		memcpy(f + SNAP_HEADER_BYTES, body, body_len);
	*len = SNAP_HEADER_BYTES + body_len + SNAP_TRAILER_BYTES;
	refresh_crc(f, *len);
	return f;
}

/* A section header at p; returns the bytes written. */
static size_t raw_section(uint8_t *p, uint32_t tag, uint32_t instance, uint64_t len)
{
	put_le32(p, tag);
	put_le32(p + 4, instance);
	put_le64(p + 8, len);
	return SNAP_SECTION_HEADER_BYTES;
}

/* Parsing f must fail with rc and a reason containing want. */
static void assert_refused(const uint8_t *f, size_t len, int rc, const char *want)
{
	struct snap_reader r;
	char why[160] = "";

	assert_int_equal(snap_reader_parse(&r, f, len, why, sizeof(why)), rc);
	if (strstr(why, want) == NULL)
		fail_msg("reason \"%s\" does not say \"%s\"", why, want);
	assert_null(r.file);
	assert_null(r.sections);
	snap_reader_close(&r);
}

/* A small file of two sections, for the damage tests: the caller frees it. */
static uint8_t *small_file(size_t *len)
{
	struct snap_writer w;
	const uint8_t *img;
	uint8_t *copy;

	snap_writer_init(&w);
	snap_begin(&w, VCPU, 0);
	snap_put_u32(&w, 0xdeadbeef);
	snap_put_str(&w, "ok");
	snap_end(&w);
	snap_begin(&w, UART, 1);
	snap_put_u8(&w, 7);
	snap_end(&w);
	assert_int_equal(snap_writer_image(&w, &img, len), 0);
	copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, img, *len);
	snap_writer_free(&w);
	return copy;
}

struct tmp {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->dir, "/tmp/kiln-snap-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/state", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

/* How many entries dir holds, besides . and .. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* --- the checksum and the layout ---------------------------------------------------------------- */
static void crc64_check_value(void **state)
{
	(void)state;
	/* The catalogue's check value of CRC-64/XZ. */
	assert_true(snap_crc64(0, "123456789", 9) == 0x995dc9bbdf1939faull);
	assert_true(snap_crc64(snap_crc64(0, "1234", 4), "56789", 5) == 0x995dc9bbdf1939faull);
	assert_true(snap_crc64(0, "", 0) == 0);
}

/* The bytes on disk, pinned: a change here is a format change (a new version). */
static void layout_is_pinned(void **state)
{
	static const uint8_t want[] = {
		'K', 'I', 'L', 'N', 'S', 'N', 'A', 'P', 2, 0, 0, 0, 0, 0, 0, 0, /* magic, 2.0, flags */
		23, 0, 0, 0, 0, 0, 0, 0,                                          /* body length */
		'V', 'C', 'P', 'U', 3, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,         /* VCPU/3, 7 bytes */
		0x34, 0x12, 1, 0, 0, 0, 0,                                        /* u16, true, "" */
	};
	struct snap_writer w;
	const uint8_t *img, *again;
	size_t len, again_len;

	(void)state;
	snap_writer_init(&w);
	snap_begin(&w, VCPU, 3);
	snap_put_u16(&w, 0x1234);
	snap_put_bool(&w, true);
	snap_put_str(&w, "");
	snap_end(&w);
	assert_int_equal(snap_writer_image(&w, &img, &len), 0);
	assert_int_equal(len, sizeof(want) + SNAP_TRAILER_BYTES);
	assert_memory_equal(img, want, sizeof(want));
	assert_true(le64_at(img + len - 8) == snap_crc64(0, img, len - 8));
	/* A second call gives the same sealed image. */
	assert_int_equal(snap_writer_image(&w, &again, &again_len), 0);
	assert_ptr_equal(again, img);
	assert_int_equal(again_len, len);
	snap_writer_free(&w);
}

/* --- round trip --------------------------------------------------------------------------------- */
static void put_everything(struct snap_writer *w, uint32_t tag, uint32_t instance, const char *big)
{
	static const uint8_t blob[5] = { 1, 2, 3, 4, 5 };

	snap_begin(w, tag, instance);
	snap_put_u8(w, (uint8_t)(0xa0 + instance));
	snap_put_u16(w, 0xbeef);
	snap_put_u32(w, 0xcafef00d ^ instance);
	snap_put_u64(w, 0x0123456789abcdefull + instance);
	snap_put_bool(w, true);
	snap_put_bool(w, false);
	snap_put_bytes(w, blob, sizeof(blob));
	snap_put_bytes(w, NULL, 0);
	snap_put_str(w, "");
	snap_put_str(w, "ttyS0");
	snap_put_str(w, big);
	snap_put_u32(w, 17);
	snap_put_u64(w, UINT64_MAX);
	snap_end(w);
}

static void get_everything(const struct snap_reader *r, uint32_t tag, uint32_t instance,
			   const char *big)
{
	static char out[SNAP_MAX_STR + 1];
	struct snap_cursor c;
	uint8_t blob[5];

	assert_int_equal(snap_open_section(r, tag, instance, &c), 0);
	assert_int_equal(snap_get_u8(&c), 0xa0 + instance);
	assert_int_equal(snap_get_u16(&c), 0xbeef);
	assert_int_equal(snap_get_u32(&c), 0xcafef00d ^ instance);
	assert_true(snap_get_u64(&c) == 0x0123456789abcdefull + instance);
	assert_true(snap_get_bool(&c));
	assert_false(snap_get_bool(&c));
	snap_get_bytes(&c, blob, sizeof(blob));
	assert_memory_equal(blob, ((uint8_t[]){ 1, 2, 3, 4, 5 }), 5);
	snap_get_bytes(&c, NULL, 0);
	snap_get_str(&c, out, 1);
	assert_string_equal(out, "");
	snap_get_str(&c, out, 6);
	assert_string_equal(out, "ttyS0");
	snap_get_str(&c, out, sizeof(out));
	assert_string_equal(out, big);
	assert_int_equal(snap_get_u32_in(&c, 17, 17), 17);
	assert_true(snap_get_u64_in(&c, 0, UINT64_MAX) == UINT64_MAX);
	assert_int_equal(snap_cursor_finish(&c), 0);
}

static void round_trip(void **state)
{
	struct tmp *t = *state;
	static char big[SNAP_MAX_STR + 1];
	struct snap_writer w;
	struct snap_reader r;
	struct snap_cursor c;
	const uint8_t *img;
	size_t len;
	struct stat st;
	char why[160];

	memset(big, 'x', SNAP_MAX_STR);
	snap_writer_init(&w);
	put_everything(&w, VCPU, 0, big);
	put_everything(&w, UART, 0, big);
	snap_begin(&w, EMPT, 9);
	snap_end(&w);
	put_everything(&w, VCPU, 1, big);
	assert_int_equal(snap_writer_save(&w, t->path), 0);
	assert_int_equal(snap_writer_image(&w, &img, &len), 0);

	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, len);
	assert_int_equal(dir_entries(t->dir), 1); /* no temporary file left */

	assert_int_equal(snap_reader_open(&r, t->path, why, sizeof(why)), 0);
	assert_int_equal(r.file_len, len);
	assert_memory_equal(r.file, img, len);
	assert_int_equal(r.minor, SNAP_VERSION_MINOR);
	assert_int_equal(r.nsections, 4);
	/* file order */
	assert_int_equal(r.sections[0].tag, VCPU);
	assert_int_equal(r.sections[1].tag, UART);
	assert_int_equal(r.sections[2].tag, EMPT);
	assert_int_equal(r.sections[3].instance, 1);
	assert_int_equal(snap_count(&r, VCPU), 2);
	assert_int_equal(snap_count(&r, UART), 1);
	assert_int_equal(snap_count(&r, SNAP_TAG('N', 'O', 'N', 'E')), 0);
	get_everything(&r, VCPU, 1, big);
	get_everything(&r, UART, 0, big);
	get_everything(&r, VCPU, 0, big);
	assert_int_equal(snap_open_section(&r, EMPT, 9, &c), 0);
	assert_int_equal(c.len, 0);
	assert_int_equal(snap_cursor_finish(&c), 0);
	snap_reader_close(&r);
	snap_reader_close(&r); /* harmless twice */
	snap_writer_free(&w);
}

/* A file with no section is a valid (if useless) file; so is a link to a file. */
static void empty_file_and_symlink(void **state)
{
	struct tmp *t = *state;
	struct snap_writer w;
	struct snap_reader r;
	char link[160], why[160];

	snap_writer_init(&w);
	assert_int_equal(snap_writer_save(&w, t->path), 0);
	snap_writer_free(&w);
	snprintf(link, sizeof(link), "%s/link", t->dir);
	assert_int_equal(symlink(t->path, link), 0);
	assert_int_equal(snap_reader_open(&r, link, why, sizeof(why)), 0);
	assert_int_equal(r.file_len, SNAP_HEADER_BYTES + SNAP_TRAILER_BYTES);
	assert_int_equal(r.nsections, 0);
	snap_reader_close(&r);
}

/* --- refusals ----------------------------------------------------------------------------------- */
static void truncated_at_every_length(void **state)
{
	size_t len;
	uint8_t *f = small_file(&len);

	(void)state;
	for (size_t n = 0; n < len; n++)
		assert_refused(f, n, -EBADMSG, n < 32 ? "too short" : "body length");
	free(f);
}

static void every_bit_flip_refused(void **state)
{
	size_t len;
	uint8_t *f = small_file(&len);
	struct snap_reader r;
	char why[160];

	(void)state;
	for (size_t bit = 0; bit < len * 8; bit++) {
		f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		why[0] = '\0';
		assert_int_equal(snap_reader_parse(&r, f, len, why, sizeof(why)), -EBADMSG);
		assert_true(why[0] != '\0');
		f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(snap_reader_parse(&r, f, len, why, sizeof(why)), 0);
	snap_reader_close(&r);
	free(f);
}

static void bad_checksum(void **state)
{
	size_t len;
	uint8_t *f = small_file(&len);

	(void)state;
	f[len - 1] ^= 0x80;
	assert_refused(f, len, -EBADMSG, "bad checksum");
	free(f);
}

/* Each header field refused on its own: the checksum is made right after the damage. */
static void header_refusals(void **state)
{
	size_t len;
	uint8_t *f = small_file(&len);
	uint8_t *g = malloc(len);

	(void)state;
	assert_non_null(g);
	memcpy(g, f, len);
	g[0] = 'X';
	refresh_crc(g, len);
	assert_refused(g, len, -EBADMSG, "bad magic");

	memcpy(g, f, len);
	g[8] = 1;
	refresh_crc(g, len);
	assert_refused(g, len, -EBADMSG, "version 1.0, this kiln reads 2.x");

	memcpy(g, f, len);
	g[10] = SNAP_VERSION_MINOR + 1;
	refresh_crc(g, len);
	assert_refused(g, len, -EBADMSG, "is newer than this kiln's");

	memcpy(g, f, len);
	g[15] = 0x80;
	refresh_crc(g, len);
	assert_refused(g, len, -EBADMSG, "unknown flags 0x80000000");

	memcpy(g, f, len);
	put_le64(g + 16, le64_at(f + 16) - 1);
	refresh_crc(g, len);
	assert_refused(g, len, -EBADMSG, "body length");
	put_le64(g + 16, UINT64_MAX);
	refresh_crc(g, len);
	assert_refused(g, len, -EBADMSG, "body length");
	free(g);
	free(f);
}

static void section_refusals(void **state)
{
	uint8_t body[64] = { 0 };
	size_t n, len;
	uint8_t *f;

	(void)state;
	/* a payload longer than what is left, and one of 2^64 - 1 bytes (no overflow) */
	n = raw_section(body, VCPU, 3, 9);
	f = raw_file(body, n + 8, &len);
	assert_refused(f, len, -EBADMSG, "section VCPU/3 overruns the file (9 bytes, 8 left)");
	free(f);
	raw_section(body, VCPU, 3, UINT64_MAX);
	f = raw_file(body, n + 8, &len);
	assert_refused(f, len, -EBADMSG, "section VCPU/3 overruns the file");
	free(f);

	/* a section header cut off by the end of the body */
	n = raw_section(body, VCPU, 0, 0);
	f = raw_file(body, n + 15, &len);
	assert_refused(f, len, -EBADMSG, "section header at body offset 16 is cut off");
	free(f);

	/* the same (tag, instance) twice, with another section in between */
	n = raw_section(body, UART, 0, 0);
	n += raw_section(body + n, VCPU, 1, 0);
	n += raw_section(body + n, UART, 0, 0);
	f = raw_file(body, n, &len);
	assert_refused(f, len, -EBADMSG, "section UART/0 appears twice");
	free(f);

	/* a tag that is not printable */
	n = raw_section(body, SNAP_TAG('V', 'C', 0x7f, 'U'), 0, 0);
	f = raw_file(body, n, &len);
	assert_refused(f, len, -EBADMSG, "section tag 0x557f4356 at body offset 0 is not 4 printable");
	free(f);
}

/* SNAP_MAX_SECTIONS empty sections are a file; one more is not. */
static void too_many_sections(void **state)
{
	size_t body_len = (SNAP_MAX_SECTIONS + 1) * SNAP_SECTION_HEADER_BYTES, len;
	uint8_t *body = malloc(body_len), *f;
	struct snap_reader r;
	char why[160];

	(void)state;
	assert_non_null(body);
	for (unsigned int i = 0; i <= SNAP_MAX_SECTIONS; i++)
		raw_section(body + i * SNAP_SECTION_HEADER_BYTES, VCPU, i, 0);
	f = raw_file(body, body_len - SNAP_SECTION_HEADER_BYTES, &len);
	assert_int_equal(snap_reader_parse(&r, f, len, why, sizeof(why)), 0);
	assert_int_equal(snap_count(&r, VCPU), SNAP_MAX_SECTIONS);
	snap_reader_close(&r);
	free(f);
	f = raw_file(body, body_len, &len);
	assert_refused(f, len, -EBADMSG, "more than 4096 sections");
	free(f);
	free(body);
}

static void oversized_file(void **state)
{
	struct tmp *t = *state;
	struct snap_reader r;
	char why[160];
	uint8_t *big;
	int fd;

	fd = open(t->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)SNAP_MAX_FILE_BYTES + 1), 0); /* sparse */
	close(fd);
	assert_int_equal(snap_reader_open(&r, t->path, why, sizeof(why)), -EFBIG);
	assert_non_null(strstr(why, "over the 16 MiB limit"));
	assert_null(r.file);

	/* the same size in memory, refused before it is copied */
	big = calloc(1, SNAP_MAX_FILE_BYTES + 1);
	assert_non_null(big);
	assert_refused(big, SNAP_MAX_FILE_BYTES + 1, -EFBIG, "over the 16 MiB limit");
	free(big);
}

static void not_a_regular_file(void **state)
{
	struct tmp *t = *state;
	struct snap_reader r;
	char why[160], fifo[160];

	assert_int_equal(snap_reader_open(&r, t->dir, why, sizeof(why)), -EISDIR);
	assert_non_null(strstr(why, "directory"));
	assert_int_equal(snap_reader_open(&r, "/dev/null", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a regular file"));
	/* a FIFO without a writer: refused, not waited on */
	snprintf(fifo, sizeof(fifo), "%s/fifo", t->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(snap_reader_open(&r, fifo, why, sizeof(why)), -EINVAL);
	assert_int_equal(snap_reader_open(&r, t->path, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "open: "));
	assert_null(r.file);
}

/* A damaged file on disk gets the same refusal as in memory. */
static void truncated_file_on_disk(void **state)
{
	struct tmp *t = *state;
	struct snap_reader r;
	size_t len;
	uint8_t *f = small_file(&len);
	char why[160];
	int fd;

	fd = open(t->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f, len - 1), (ssize_t)len - 1);
	close(fd);
	assert_int_equal(snap_reader_open(&r, t->path, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "body length"));
	free(f);
}

/* --- cursors ------------------------------------------------------------------------------------ */
/* A reader on one section VCPU/0 holding payload. */
static void one_section(struct snap_reader *r, const void *payload, size_t n)
{
	uint8_t body[64];
	size_t hdr = raw_section(body, VCPU, 0, n), len;
	uint8_t *f;
	char why[160];

	assert_true(n <= sizeof(body) - hdr);
	memcpy(body + hdr, payload, n);
	f = raw_file(body, hdr + n, &len);
	assert_int_equal(snap_reader_parse(r, f, len, why, sizeof(why)), 0);
	free(f);
}

static void cursor_overrun_is_sticky(void **state)
{
	struct snap_reader r;
	struct snap_cursor c;
	uint8_t out[4] = { 9, 9, 9, 9 };

	(void)state;
	one_section(&r, "\x01\x02\x03", 3);
	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_int_equal(snap_get_u16(&c), 0x0201);
	assert_int_equal(snap_get_u32(&c), 0); /* 1 byte left */
	assert_int_equal(c.err, -EBADMSG);
	assert_int_equal(c.off, 2);
	assert_int_equal(snap_get_u8(&c), 0); /* sticky, though a byte is left */
	snap_get_bytes(&c, out, sizeof(out));
	assert_memory_equal(out, ((uint8_t[4]){ 0 }), 4);
	assert_int_equal(snap_cursor_finish(&c), -EBADMSG);

	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_true(snap_get_u64(&c) == 0);
	assert_int_equal(c.off, 0);
	assert_int_equal(snap_cursor_finish(&c), -EBADMSG);

	/* every byte read but one: finish refuses the leftover */
	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_int_equal(snap_get_u16(&c), 0x0201);
	assert_int_equal(snap_cursor_finish(&c), -EBADMSG);

	/* a section the file lacks */
	assert_int_equal(snap_open_section(&r, VCPU, 1, &c), -ENOENT);
	assert_int_equal(snap_get_u8(&c), 0);
	assert_int_equal(snap_cursor_finish(&c), -ENOENT);
	snap_reader_close(&r);
}

static void cursor_ranges(void **state)
{
	/* u32 5, u64 2^40, bool 2 */
	static const uint8_t p[] = { 5, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2 };
	struct snap_reader r;
	struct snap_cursor c;

	(void)state;
	one_section(&r, p, sizeof(p));
	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_int_equal(snap_get_u32_in(&c, 6, 10), 0); /* below */
	assert_int_equal(c.err, -EBADMSG);
	assert_int_equal(c.off, 0); /* points at the refused value */

	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_int_equal(snap_get_u32_in(&c, 0, 4), 0); /* above */
	assert_int_equal(snap_cursor_finish(&c), -EBADMSG);

	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_int_equal(snap_get_u32_in(&c, 5, 5), 5);
	assert_true(snap_get_u64_in(&c, 0, (1ull << 40) - 1) == 0);
	assert_int_equal(c.off, 4);
	assert_int_equal(snap_cursor_finish(&c), -EBADMSG);

	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_int_equal(snap_get_u32(&c), 5);
	assert_true(snap_get_u64_in(&c, (1ull << 40) + 1, UINT64_MAX) == 0);
	assert_int_equal(snap_cursor_finish(&c), -EBADMSG);

	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_int_equal(snap_get_u32(&c), 5);
	assert_true(snap_get_u64_in(&c, 1ull << 40, 1ull << 40) == 1ull << 40);
	assert_false(snap_get_bool(&c)); /* 2 is not a bool */
	assert_int_equal(c.off, 12);
	assert_int_equal(snap_cursor_finish(&c), -EBADMSG);
	snap_reader_close(&r);
}

/* Strings: the length prefix is checked against the limit, the section and out; no NUL inside. */
static void cursor_strings(void **state)
{
	static const struct {
		uint8_t bytes[12];
		size_t n, outlen;
		const char *want; /* NULL: refused */
	} cases[] = {
		{ { 3, 0, 0, 0, 'a', 'b', 'c' }, 7, 4, "abc" },
		{ { 3, 0, 0, 0, 'a', 'b', 'c' }, 7, 3, NULL },      /* no room for the NUL */
		{ { 3, 0, 0, 0, 'a', 0, 'c' }, 7, 8, NULL },        /* a NUL inside */
		{ { 4, 0, 0, 0, 'a', 'b', 'c' }, 7, 8, NULL },      /* past the section */
		{ { 0, 0x10, 0, 0 }, 4, 8, NULL },                  /* 4096: over the limit */
		{ { 0xff, 0xff, 0xff, 0xff }, 4, 8, NULL },
		{ { 0, 0, 0 }, 3, 8, NULL },                        /* no whole prefix */
		{ { 0, 0, 0, 0 }, 4, 0, NULL },                     /* nowhere to put even "" */
	};
	char out[8];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct snap_reader r;
		struct snap_cursor c;

		one_section(&r, cases[i].bytes, cases[i].n);
		assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
		memset(out, '?', sizeof(out));
		snap_get_str(&c, out, cases[i].outlen);
		if (cases[i].want) {
			assert_string_equal(out, cases[i].want);
			assert_int_equal(snap_cursor_finish(&c), 0);
		} else {
			if (cases[i].outlen > 0)
				assert_string_equal(out, "");
			else
				assert_int_equal(out[0], '?');
			assert_int_equal(c.off, 0);
			assert_int_equal(snap_cursor_finish(&c), -EBADMSG);
		}
		snap_reader_close(&r);
	}
}

/* --- the writer's errors ------------------------------------------------------------------------ */
static void assert_writer_failed(struct snap_writer *w, int rc)
{
	const uint8_t *img;
	size_t len;

	assert_int_equal(snap_writer_image(w, &img, &len), rc);
	assert_int_equal(w->err, rc);
	snap_begin(w, EMPT, 0); /* sticky: nothing clears or changes it */
	assert_int_equal(snap_writer_image(w, &img, &len), rc);
	snap_writer_free(w);
}

static void writer_misuse(void **state)
{
	static char long_str[SNAP_MAX_STR + 2];
	struct snap_writer w;
	const uint8_t *img;
	size_t len;

	(void)state;
	snap_writer_init(&w); /* nested */
	snap_begin(&w, VCPU, 0);
	snap_begin(&w, VCPU, 1);
	assert_int_equal(w.err, -EINVAL);
	snap_end(&w); /* sticky: no later call clears or changes it */
	snap_begin(&w, UART, 0);
	assert_writer_failed(&w, -EINVAL);

	snap_writer_init(&w); /* a put outside a section */
	snap_put_u8(&w, 1);
	assert_writer_failed(&w, -EINVAL);

	snap_writer_init(&w); /* end without begin */
	snap_end(&w);
	assert_writer_failed(&w, -EINVAL);

	snap_writer_init(&w); /* a tag that is not printable */
	snap_begin(&w, SNAP_TAG('V', 'C', 'P', '\n'), 0);
	assert_writer_failed(&w, -EINVAL);

	snap_writer_init(&w); /* a string over the limit */
	memset(long_str, 'y', SNAP_MAX_STR + 1);
	snap_begin(&w, VCPU, 0);
	snap_put_str(&w, long_str);
	assert_writer_failed(&w, -EINVAL);

	snap_writer_init(&w); /* a section left open */
	snap_begin(&w, VCPU, 0);
	assert_writer_failed(&w, -EINVAL);

	snap_writer_init(&w); /* the same pair twice */
	snap_begin(&w, VCPU, 0);
	snap_end(&w);
	snap_begin(&w, VCPU, 0);
	snap_end(&w);
	assert_writer_failed(&w, -EEXIST);

	snap_writer_init(&w); /* a put after the image was made */
	assert_int_equal(snap_writer_image(&w, &img, &len), 0);
	snap_begin(&w, VCPU, 0);
	assert_writer_failed(&w, -EINVAL);
}

static void writer_limits(void **state)
{
	size_t max_payload = SNAP_MAX_FILE_BYTES - SNAP_HEADER_BYTES - SNAP_SECTION_HEADER_BYTES -
			     SNAP_TRAILER_BYTES;
	uint8_t *big = calloc(1, max_payload + 1);
	struct snap_writer w;
	struct snap_reader r;
	const uint8_t *img;
	size_t len;
	char why[160];

	(void)state;
	assert_non_null(big);
	/* a file of exactly SNAP_MAX_FILE_BYTES is written and read */
	snap_writer_init(&w);
	snap_begin(&w, VCPU, 0);
	snap_put_bytes(&w, big, max_payload);
	snap_end(&w);
	assert_int_equal(snap_writer_image(&w, &img, &len), 0);
	assert_int_equal(len, SNAP_MAX_FILE_BYTES);
	assert_int_equal(snap_reader_parse(&r, img, len, why, sizeof(why)), 0);
	snap_reader_close(&r);
	snap_writer_free(&w);

	/* one byte more is -EFBIG, and it sticks */
	snap_writer_init(&w);
	snap_begin(&w, VCPU, 0);
	snap_put_bytes(&w, big, max_payload);
	snap_put_u8(&w, 0);
	assert_int_equal(w.err, -EFBIG);
	snap_end(&w);
	snap_begin(&w, VCPU, 1);
	assert_writer_failed(&w, -EFBIG);
	free(big);

	/* SNAP_MAX_SECTIONS sections, then one more */
	snap_writer_init(&w);
	for (unsigned int i = 0; i < SNAP_MAX_SECTIONS; i++) {
		snap_begin(&w, UART, i);
		snap_end(&w);
	}
	assert_int_equal(w.err, 0);
	snap_begin(&w, UART, SNAP_MAX_SECTIONS);
	assert_writer_failed(&w, -EFBIG);
}

/*
 * Allocation failure, in a fresh process (this program again, told by the environment) whose
 * address space may grow by only 1 MiB more: the writer's buffer, on its way to 12.5 MiB, cannot
 * grow, and the error sticks. Fresh, because the heap that earlier tests freed would serve the
 * growth without new address space; glibc is told to map every block over 64 KiB (ASan's
 * allocator maps large blocks anyway, and returns NULL as libc does: __asan_default_options).
 * The exit status says what went wrong: 1 no -ENOMEM, 2 not sticky, 10 and up the set-up.
 */
#define ENOMEM_CHILD_ENV "KILN_TEST_SNAP_ENOMEM_CHILD"

static int enomem_child(void)
{
	static uint8_t chunk[64 * 1024];
	struct snap_writer w;
	const uint8_t *img;
	size_t len;
	unsigned long pages = 0;
	struct rlimit old, lim;
	FILE *f = fopen("/proc/self/statm", "r");
	int code = 0;

	if (f == NULL || fscanf(f, "%lu", &pages) != 1 || getrlimit(RLIMIT_AS, &old) < 0)
		return 10;
	fclose(f);
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	snap_writer_init(&w);
	snap_begin(&w, VCPU, 0);
	lim = old;
	lim.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE) + MiB(1);
	if (setrlimit(RLIMIT_AS, &lim) < 0)
		return 11;
	for (int i = 0; i < 200 && w.err == 0; i++)
		snap_put_bytes(&w, chunk, sizeof(chunk));
	code |= w.err == -ENOMEM ? 0 : 1;
	snap_end(&w);
	snap_put_u8(&w, 1);
	code |= snap_writer_image(&w, &img, &len) == -ENOMEM ? 0 : 2;
	snap_writer_free(&w);
	/* back to the old limit: LeakSanitizer's check at exit needs room */
	if (setrlimit(RLIMIT_AS, &old) < 0)
		return 12;
	return code;
}

static void writer_enomem_is_sticky(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv(ENOMEM_CHILD_ENV, "1", 1);
		execl("/proc/self/exe", "test_snap_file", (char *)NULL);
		_exit(13);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* --- saving ------------------------------------------------------------------------------------- */
static void one_section_writer(struct snap_writer *w, uint32_t v)
{
	snap_writer_init(w);
	snap_begin(w, VCPU, 0);
	snap_put_u32(w, v);
	snap_end(w);
}

/* A save replaces the old file whole; a path without a directory is in the working directory. */
static void save_replaces_and_relative_path(void **state)
{
	struct tmp *t = *state;
	struct snap_writer w;
	struct snap_reader r;
	struct snap_cursor c;
	char cwd[256], why[160];

	one_section_writer(&w, 1);
	assert_int_equal(snap_writer_save(&w, t->path), 0);
	snap_writer_free(&w);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t->dir), 0);
	one_section_writer(&w, 2);
	assert_int_equal(snap_writer_save(&w, "state"), 0);
	snap_writer_free(&w);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(dir_entries(t->dir), 1);
	assert_int_equal(snap_reader_open(&r, t->path, why, sizeof(why)), 0);
	assert_int_equal(snap_open_section(&r, VCPU, 0, &c), 0);
	assert_int_equal(snap_get_u32(&c), 2);
	assert_int_equal(snap_cursor_finish(&c), 0);
	snap_reader_close(&r);
}

/* Saving into a directory kiln cannot write: -EACCES (root writes anywhere: drop to nobody). */
static void save_unwritable_directory(void **state)
{
	struct tmp *t = *state;
	pid_t pid;
	int status;

	assert_int_equal(chmod(t->dir, 0555), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct snap_writer w;

		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(10);
		one_section_writer(&w, 1);
		_exit(snap_writer_save(&w, t->path) == -EACCES ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(t->dir, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(dir_entries(t->dir), 0);
}

/* Failures after the temporary file exists remove it: a rename onto a directory, a full disk. */
static void save_failures_leave_no_temp(void **state)
{
	struct tmp *t = *state;
	struct snap_writer w;
	struct rlimit old, lim = { .rlim_cur = 16, .rlim_max = RLIM_INFINITY };
	char inner[160];
	int rc;

	assert_int_equal(mkdir(t->path, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/x", t->path);
	assert_int_equal(mkdir(inner, 0700), 0);
	one_section_writer(&w, 1);
	assert_int_equal(snap_writer_save(&w, t->path), -EISDIR);
	assert_int_equal(dir_entries(t->dir), 1);
	assert_int_equal(dir_entries(t->path), 1);
	assert_int_equal(rmdir(inner), 0);
	assert_int_equal(rmdir(t->path), 0);

	/* a write past RLIMIT_FSIZE fails with EFBIG (SIGXFSZ ignored) */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = snap_writer_save(&w, t->path);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(dir_entries(t->dir), 0);

	/* the writer is not spent by an I/O failure: the same image saves elsewhere */
	assert_int_equal(snap_writer_save(&w, t->path), 0);
	assert_int_equal(dir_entries(t->dir), 1);
	snap_writer_free(&w);

	/* and a writer that failed saves nothing */
	snap_writer_init(&w);
	snap_end(&w);
	assert_int_equal(snap_writer_save(&w, inner), -EINVAL);
	assert_int_equal(dir_entries(t->dir), 1);
	snap_writer_free(&w);
}

int main(void)
{
	if (getenv(ENOMEM_CHILD_ENV) != NULL)
		return enomem_child();

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc64_check_value),
		cmocka_unit_test(layout_is_pinned),
		cmocka_unit_test_setup_teardown(round_trip, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(empty_file_and_symlink, tmp_setup, tmp_teardown),
		cmocka_unit_test(truncated_at_every_length),
		cmocka_unit_test(every_bit_flip_refused),
		cmocka_unit_test(bad_checksum),
		cmocka_unit_test(header_refusals),
		cmocka_unit_test(section_refusals),
		cmocka_unit_test(too_many_sections),
		cmocka_unit_test_setup_teardown(oversized_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(not_a_regular_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(truncated_file_on_disk, tmp_setup, tmp_teardown),
		cmocka_unit_test(cursor_overrun_is_sticky),
		cmocka_unit_test(cursor_ranges),
		cmocka_unit_test(cursor_strings),
		cmocka_unit_test(writer_misuse),
		cmocka_unit_test(writer_limits),
		cmocka_unit_test(writer_enomem_is_sticky),
		cmocka_unit_test_setup_teardown(save_replaces_and_relative_path, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(save_unwritable_directory, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(save_failures_leave_no_temp, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests_name("snap_file", tests, NULL, NULL);
}
