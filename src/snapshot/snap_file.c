/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot state file (layout and rules in snap_file.h): the writer builds the whole file in
 * one growable buffer and saves it by rename; the reader reads the whole file once, checks
 * everything it can check without knowing what the sections mean, and hands out cursors that
 * bound every get. The checksum is in crc64.c.
 */
#define _GNU_SOURCE /* mkostemp */
#include "snapshot/snap_file.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_NO_SECTION SIZE_MAX
#define SNAP_MIN_FILE_BYTES (SNAP_HEADER_BYTES + SNAP_TRAILER_BYTES)
#define SNAP_FIRST_CAP 4096u

/* Header field offsets. */
#define SNAP_OFF_MAJOR 8
#define SNAP_OFF_MINOR 10
#define SNAP_OFF_FLAGS 12
#define SNAP_OFF_BODY_LEN 16

static uint16_t snap_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t snap_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t snap_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void snap_put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void snap_put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void snap_put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static bool snap_tag_valid(uint32_t tag)
{
	for (int i = 0; i < 4; i++) {
		uint8_t ch = (uint8_t)(tag >> (8 * i));
		if (ch < 0x20 || ch > 0x7e)
			return false;
	}
	return true;
}

/* "VCPU", or the tag in hex when it is not printable. */
static const char *snap_tag_name(uint32_t tag, char buf[16])
{
	if (!snap_tag_valid(tag)) {
		snprintf(buf, 16, "0x%08" PRIx32, tag);
		return buf;
	}
	for (int i = 0; i < 4; i++)
		buf[i] = (char)(tag >> (8 * i));
	buf[4] = '\0';
	return buf;
}

static uint64_t snap_section_key(const struct snap_section *s)
{
	return (uint64_t)s->tag << 32 | s->instance;
}

static int snap_key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sets *dup to a (tag, instance) key that appears twice: 1 if there is one, 0 if not, -ENOMEM. */
static int snap_find_duplicate(const struct snap_section *s, unsigned int n, uint64_t *dup)
{
	uint64_t *keys;
	int found = 0;

	if (n < 2)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (keys == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		keys[i] = snap_section_key(&s[i]);
	qsort(keys, n, sizeof(*keys), snap_key_cmp);
	for (unsigned int i = 1; i < n && !found; i++) {
		if (keys[i] == keys[i - 1]) {
			*dup = keys[i];
			found = 1;
		}
	}
	free(keys);
	return found;
}

/*
 * The section at body[*off]: 1 and *s filled and *off moved past it, 0 at the body's end, or
 * -EBADMSG with the reason in why. n is how many sections came before it.
 */
static int snap_next_section(const uint8_t *body, uint64_t len, uint64_t *off, unsigned int n,
			     struct snap_section *s, char *why, size_t whylen)
{
	const uint8_t *h = body + *off;
	char name[16];

	if (*off == len)
		return 0;
	if (len - *off < SNAP_SECTION_HEADER_BYTES)
		return fail_with(why, whylen, -EBADMSG, "section header at body offset %" PRIu64
				 " is cut off by the end of the file", *off);
	if (n == SNAP_MAX_SECTIONS)
		return fail_with(why, whylen, -EBADMSG, "more than %u sections", SNAP_MAX_SECTIONS);
	s->tag = snap_le32(h);
	s->instance = snap_le32(h + 4);
	s->len = snap_le64(h + 8);
	if (!snap_tag_valid(s->tag))
		return fail_with(why, whylen, -EBADMSG, "section tag %s at body offset %" PRIu64
				 " is not 4 printable ASCII characters", snap_tag_name(s->tag, name), *off);
	*off += SNAP_SECTION_HEADER_BYTES;
	if (s->len > len - *off)
		return fail_with(why, whylen, -EBADMSG, "section %s/%" PRIu32 " overruns the file (%"
				 PRIu64 " bytes, %" PRIu64 " left)", snap_tag_name(s->tag, name),
				 s->instance, s->len, len - *off);
	s->data = body + *off;
	*off += s->len;
	return 1;
}

/*
 * Walks the body twice: once to check its structure and count the sections, once to list them
 * into *out (allocated, exactly as many as there are). 0, -EBADMSG (why says where), -ENOMEM.
 */
static int snap_index(const uint8_t *body, uint64_t len, struct snap_section **out,
		      unsigned int *nout, char *why, size_t whylen)
{
	struct snap_section s, *list;
	uint64_t off = 0;
	unsigned int n = 0;
	int rc;

	while ((rc = snap_next_section(body, len, &off, n, &s, why, whylen)) == 1)
		n++;
	if (rc < 0)
		return rc;
	list = calloc(n ? n : 1, sizeof(*list));
	if (list == NULL)
		return fail_with(why, whylen, -ENOMEM, "out of memory for %u sections", n);
	off = 0;
	for (unsigned int i = 0; i < n; i++)
		(void)snap_next_section(body, len, &off, i, &list[i], NULL, 0);
	*out = list;
	*nout = n;
	return 0;
}

/* --- writing ------------------------------------------------------------------------------------ */
void snap_writer_init(struct snap_writer *w)
{
	*w = (struct snap_writer){ .len = SNAP_HEADER_BYTES, .section_start = SNAP_NO_SECTION };
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	snap_writer_init(w);
}

/* Room for n more bytes in a file of at most limit bytes (the body leaves room for the trailer). */
static bool snap_reserve(struct snap_writer *w, size_t n, size_t limit)
{
	size_t need, cap;
	uint8_t *p;

	if (n > limit - w->len) {
		w->err = -EFBIG;
		return false;
	}
	need = w->len + n;
	if (need <= w->cap)
		return true;
	cap = w->cap ? w->cap : SNAP_FIRST_CAP;
	while (cap < need)
		cap *= 2;
	if (cap > SNAP_MAX_FILE_BYTES)
		cap = SNAP_MAX_FILE_BYTES;
	p = realloc(w->buf, cap);
	if (p == NULL) {
		w->err = -ENOMEM;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void snap_append(struct snap_writer *w, const void *data, size_t n)
{
	if (!snap_reserve(w, n, SNAP_MAX_FILE_BYTES - SNAP_TRAILER_BYTES))
		return;
	if (n > 0)
		memcpy(w->buf + w->len, data, n);
	w->len += n;
}

/* A put into the open section. */
static void snap_put(struct snap_writer *w, const void *data, size_t n)
{
	if (w->err)
		return;
	if (w->section_start == SNAP_NO_SECTION) {
		w->err = -EINVAL;
		return;
	}
	snap_append(w, data, n);
}

void snap_begin(struct snap_writer *w, uint32_t tag, uint32_t instance)
{
	uint8_t h[SNAP_SECTION_HEADER_BYTES];
	size_t start = w->len;

	if (w->err)
		return;
	if (w->sealed || w->section_start != SNAP_NO_SECTION || !snap_tag_valid(tag)) {
		w->err = -EINVAL;
		return;
	}
	if (w->nsections == SNAP_MAX_SECTIONS) {
		w->err = -EFBIG;
		return;
	}
	snap_put_le32(h, tag);
	snap_put_le32(h + 4, instance);
	snap_put_le64(h + 8, 0); /* the payload's length, filled in by snap_end */
	snap_append(w, h, sizeof(h));
	if (w->err)
		return;
	w->section_start = start;
	w->nsections++;
}

void snap_end(struct snap_writer *w)
{
	if (w->err)
		return;
	if (w->section_start == SNAP_NO_SECTION) {
		w->err = -EINVAL;
		return;
	}
	snap_put_le64(w->buf + w->section_start + 8,
		      w->len - w->section_start - SNAP_SECTION_HEADER_BYTES);
	w->section_start = SNAP_NO_SECTION;
}

void snap_put_u8(struct snap_writer *w, uint8_t v)
{
	snap_put(w, &v, sizeof(v));
}

void snap_put_u16(struct snap_writer *w, uint16_t v)
{
	uint8_t b[sizeof(v)];

	snap_put_le16(b, v);
	snap_put(w, b, sizeof(b));
}

void snap_put_u32(struct snap_writer *w, uint32_t v)
{
	uint8_t b[sizeof(v)];

	snap_put_le32(b, v);
	snap_put(w, b, sizeof(b));
}

void snap_put_u64(struct snap_writer *w, uint64_t v)
{
	uint8_t b[sizeof(v)];

	snap_put_le64(b, v);
	snap_put(w, b, sizeof(b));
}

void snap_put_bool(struct snap_writer *w, bool v)
{
	snap_put_u8(w, v ? 1 : 0);
}

void snap_put_bytes(struct snap_writer *w, const void *data, size_t len)
{
	snap_put(w, data, len);
}

void snap_put_str(struct snap_writer *w, const char *s)
{
	size_t n = strnlen(s, SNAP_MAX_STR + 1);

	if (w->err)
		return;
	if (n > SNAP_MAX_STR) {
		w->err = -EINVAL;
		return;
	}
	snap_put_u32(w, (uint32_t)n);
	snap_put(w, s, n);
}

/* The writer's own sections are well formed by construction; only a repeated pair can be wrong. */
static int snap_writer_check_unique(struct snap_writer *w)
{
	struct snap_section *list;
	unsigned int n;
	uint64_t dup;
	int rc;

	rc = snap_index(w->buf + SNAP_HEADER_BYTES, w->len - SNAP_HEADER_BYTES, &list, &n, NULL, 0);
	if (rc < 0)
		return rc;
	rc = snap_find_duplicate(list, n, &dup);
	free(list);
	return rc > 0 ? -EEXIST : rc;
}

int snap_writer_image(struct snap_writer *w, const uint8_t **image, size_t *len)
{
	uint8_t *h;

	if (w->err)
		return w->err;
	if (!w->sealed) {
		if (w->section_start != SNAP_NO_SECTION)
			return w->err = -EINVAL;
		if (!snap_reserve(w, SNAP_TRAILER_BYTES, SNAP_MAX_FILE_BYTES))
			return w->err;
		w->err = snap_writer_check_unique(w);
		if (w->err)
			return w->err;
		h = w->buf;
		memcpy(h, SNAP_MAGIC, 8);
		snap_put_le16(h + SNAP_OFF_MAJOR, SNAP_VERSION_MAJOR);
		snap_put_le16(h + SNAP_OFF_MINOR, SNAP_VERSION_MINOR);
		snap_put_le32(h + SNAP_OFF_FLAGS, 0);
		snap_put_le64(h + SNAP_OFF_BODY_LEN, w->len - SNAP_HEADER_BYTES);
		snap_put_le64(w->buf + w->len, snap_crc64(0, w->buf, w->len));
		w->len += SNAP_TRAILER_BYTES;
		w->sealed = true;
	}
	*image = w->buf;
	*len = w->len;
	return 0;
}

static int snap_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync of path's directory, so that the rename survives a crash. */
static int snap_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = 0;

	if (slash == NULL)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int snap_writer_save(struct snap_writer *w, const char *path)
{
	static const char suffix[] = ".tmp-XXXXXX";
	const uint8_t *image;
	size_t len;
	char *tmp;
	int fd, rc;

	rc = snap_writer_image(w, &image, &len);
	if (rc < 0)
		return rc;
	tmp = malloc(strlen(path) + sizeof(suffix));
	if (tmp == NULL)
		return -ENOMEM;
	strcpy(tmp, path);
	strcat(tmp, suffix);
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		rc = -errno;
		goto out_free;
	}
	rc = snap_write_all(fd, image, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		goto out_free;
	}
	rc = snap_sync_dir(path);
out_free:
	free(tmp);
	return rc;
}

/* --- reading ------------------------------------------------------------------------------------ */
/* The header of a file of len bytes (at least the header and trailer): what it says must hold. */
static int snap_check_header(const uint8_t *f, size_t len, uint16_t *minor, char *why, size_t whylen)
{
	uint16_t major = snap_le16(f + SNAP_OFF_MAJOR);
	uint32_t flags = snap_le32(f + SNAP_OFF_FLAGS);
	uint64_t body_len = snap_le64(f + SNAP_OFF_BODY_LEN);

	*minor = snap_le16(f + SNAP_OFF_MINOR);
	if (memcmp(f, SNAP_MAGIC, 8) != 0)
		return fail_with(why, whylen, -EBADMSG, "not a kiln snapshot (bad magic)");
	if (major != SNAP_VERSION_MAJOR)
		return fail_with(why, whylen, -EBADMSG, "version %u.%u, this kiln reads %u.x", major,
				 *minor, SNAP_VERSION_MAJOR);
	if (*minor > SNAP_VERSION_MINOR)
		return fail_with(why, whylen, -EBADMSG, "version %u.%u is newer than this kiln's %u.%u",
				 major, *minor, SNAP_VERSION_MAJOR, SNAP_VERSION_MINOR);
	if (flags != 0)
		return fail_with(why, whylen, -EBADMSG, "unknown flags 0x%" PRIx32, flags);
	if (body_len != len - SNAP_MIN_FILE_BYTES)
		return fail_with(why, whylen, -EBADMSG, "the header's body length %" PRIu64
				 " is not the file's %zu", body_len, len - SNAP_MIN_FILE_BYTES);
	return 0;
}

static int snap_check_file(struct snap_reader *r, char *why, size_t whylen)
{
	const uint8_t *f = r->file;
	size_t len = r->file_len;
	uint64_t dup;
	char name[16];
	int rc;

	if (len < SNAP_MIN_FILE_BYTES)
		return fail_with(why, whylen, -EBADMSG, "the file is %zu bytes, too short for a kiln "
				 "snapshot (at least %u)", len, SNAP_MIN_FILE_BYTES);
	rc = snap_check_header(f, len, &r->minor, why, whylen);
	if (rc < 0)
		return rc;
	if (snap_crc64(0, f, len - SNAP_TRAILER_BYTES) != snap_le64(f + len - SNAP_TRAILER_BYTES))
		return fail_with(why, whylen, -EBADMSG, "bad checksum: the file is damaged");
	rc = snap_index(f + SNAP_HEADER_BYTES, len - SNAP_MIN_FILE_BYTES, &r->sections, &r->nsections, why, whylen);
	if (rc < 0)
		return rc;
	rc = snap_find_duplicate(r->sections, r->nsections, &dup);
	if (rc < 0)
		return fail_with(why, whylen, rc, "out of memory for %u sections", r->nsections);
	if (rc > 0)
		return fail_with(why, whylen, -EBADMSG, "section %s/%" PRIu32 " appears twice",
				 snap_tag_name((uint32_t)(dup >> 32), name), (uint32_t)dup);
	return 0;
}

/* Checks the file r->file holds (r owns it, at most SNAP_MAX_FILE_BYTES): 0, or the refusal with
 * r emptied. */
static int snap_reader_take(struct snap_reader *r, char *why, size_t whylen)
{
	int rc = snap_check_file(r, why, whylen);

	if (rc < 0)
		snap_reader_close(r);
	return rc;
}

int snap_reader_parse(struct snap_reader *r, const void *file, size_t len, char *why, size_t whylen)
{
	*r = (struct snap_reader){ 0 };
	if (len > SNAP_MAX_FILE_BYTES)
		return fail_with(why, whylen, -EFBIG, "the file is %zu bytes, over the %" PRIu64
				 " MiB limit", len, SNAP_MAX_FILE_BYTES >> 20);
	r->file = malloc(len ? len : 1);
	if (r->file == NULL)
		return fail_with(why, whylen, -ENOMEM, "out of memory for a %zu-byte file", len);
	if (len > 0)
		memcpy(r->file, file, len);
	r->file_len = len;
	return snap_reader_take(r, why, whylen);
}

/* Reads exactly len bytes of fd into buf. */
static int snap_read_all(int fd, uint8_t *buf, size_t len, char *why, size_t whylen)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_with(why, whylen, -errno, "read: %s", strerror(errno));
		if (n == 0)
			return fail_with(why, whylen, -EBADMSG, "the file shrank while it was read");
		done += (size_t)n;
	}
	return 0;
}

/* Opens path (following symbolic links: a link to a snapshot is legitimate) as a regular file of
 * at most SNAP_MAX_FILE_BYTES; *size is its size. */
static int snap_open_file(const char *path, size_t *size, char *why, size_t whylen)
{
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fail_with(why, whylen, -errno, "open: %s", strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = fail_with(why, whylen, -errno, "stat: %s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = fail_with(why, whylen, -EISDIR, "a directory, not a snapshot file");
	else if (!S_ISREG(st.st_mode))
		rc = fail_with(why, whylen, -EINVAL, "not a regular file");
	else if ((uint64_t)st.st_size > SNAP_MAX_FILE_BYTES)
		rc = fail_with(why, whylen, -EFBIG, "the file is %jd bytes, over the %" PRIu64
			       " MiB limit", (intmax_t)st.st_size, SNAP_MAX_FILE_BYTES >> 20);
	else
		rc = 0;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*size = (size_t)st.st_size;
	return fd;
}

int snap_reader_open(struct snap_reader *r, const char *path, char *why, size_t whylen)
{
	size_t size = 0;
	int fd, rc;

	*r = (struct snap_reader){ 0 };
	fd = snap_open_file(path, &size, why, whylen);
	if (fd < 0)
		return fd;
	r->file = malloc(size ? size : 1);
	if (r->file == NULL) {
		close(fd);
		return fail_with(why, whylen, -ENOMEM, "out of memory for a %zu-byte file", size);
	}
	r->file_len = size;
	rc = snap_read_all(fd, r->file, size, why, whylen);
	close(fd);
	if (rc < 0) {
		snap_reader_close(r);
		return rc;
	}
	return snap_reader_take(r, why, whylen);
}

void snap_reader_close(struct snap_reader *r)
{
	free(r->sections);
	free(r->file);
	*r = (struct snap_reader){ 0 };
}

unsigned int snap_count(const struct snap_reader *r, uint32_t tag)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->nsections; i++)
		n += r->sections[i].tag == tag;
	return n;
}

int snap_open_section(const struct snap_reader *r, uint32_t tag, uint32_t instance,
		      struct snap_cursor *c)
{
	for (unsigned int i = 0; i < r->nsections; i++) {
		const struct snap_section *s = &r->sections[i];
		if (s->tag == tag && s->instance == instance) {
			*c = (struct snap_cursor){ .data = s->data, .len = s->len };
			return 0;
		}
	}
	*c = (struct snap_cursor){ .err = -ENOENT };
	return -ENOENT;
}

/* --- cursor ------------------------------------------------------------------------------------- */
/* The next n bytes, or NULL (and the cursor fails) when fewer are left. */
static const uint8_t *snap_take(struct snap_cursor *c, size_t n)
{
	const uint8_t *p;

	if (c->err)
		return NULL;
	if (n > c->len - c->off) {
		c->err = -EBADMSG;
		return NULL;
	}
	p = c->data + c->off;
	c->off += n;
	return p;
}

/* A value read from off was refused: the cursor fails and points back at it. */
static void snap_refuse(struct snap_cursor *c, uint64_t off)
{
	c->err = -EBADMSG;
	c->off = off;
}

uint8_t snap_get_u8(struct snap_cursor *c)
{
	const uint8_t *p = snap_take(c, 1);

	return p ? p[0] : 0;
}

uint16_t snap_get_u16(struct snap_cursor *c)
{
	const uint8_t *p = snap_take(c, 2);

	return p ? snap_le16(p) : 0;
}

uint32_t snap_get_u32(struct snap_cursor *c)
{
	const uint8_t *p = snap_take(c, 4);

	return p ? snap_le32(p) : 0;
}

uint64_t snap_get_u64(struct snap_cursor *c)
{
	const uint8_t *p = snap_take(c, 8);

	return p ? snap_le64(p) : 0;
}

bool snap_get_bool(struct snap_cursor *c)
{
	uint64_t off = c->off;
	uint8_t v = snap_get_u8(c);

	if (v > 1) {
		snap_refuse(c, off);
		return false;
	}
	return v == 1;
}

uint32_t snap_get_u32_in(struct snap_cursor *c, uint32_t min, uint32_t max)
{
	uint64_t off = c->off;
	uint32_t v = snap_get_u32(c);

	if (c->err == 0 && (v < min || v > max)) {
		snap_refuse(c, off);
		return 0;
	}
	return v;
}

uint64_t snap_get_u64_in(struct snap_cursor *c, uint64_t min, uint64_t max)
{
	uint64_t off = c->off;
	uint64_t v = snap_get_u64(c);

	if (c->err == 0 && (v < min || v > max)) {
		snap_refuse(c, off);
		return 0;
	}
	return v;
}

void snap_get_bytes(struct snap_cursor *c, void *out, size_t len)
{
	const uint8_t *p = snap_take(c, len);

	if (len == 0)
		return;
	if (p)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

void snap_get_str(struct snap_cursor *c, char *out, size_t outlen)
{
	uint64_t off = c->off;
	uint32_t n = snap_get_u32(c);
	const uint8_t *p;

	if (outlen > 0)
		out[0] = '\0';
	if (c->err)
		return;
	if (n > SNAP_MAX_STR || n >= outlen) {
		snap_refuse(c, off);
		return;
	}
	p = snap_take(c, n);
	if (p == NULL || memchr(p, '\0', n) != NULL) {
		snap_refuse(c, off);
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

int snap_cursor_finish(struct snap_cursor *c)
{
	if (c->err == 0 && c->off != c->len)
		c->err = -EBADMSG;
	return c->err;
}
