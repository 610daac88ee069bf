/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot state file: a versioned, checksummed file of tagged sections (one per vCPU, the VM,
 * each device). Devices and vCPUs never see the layout: they put and get little-endian integers
 * and byte strings in their own section.
 *
 * Layout (all integers little-endian):
 *   header   magic "KILNSNAP" (8 bytes), u16 major, u16 minor, u32 flags (0), u64 body length
 *   body     sections, each: tag (4 ASCII bytes), u32 instance, u64 payload length, payload
 *   trailer  u64 CRC-64/XZ (ECMA-182 polynomial, reflected) of header and body
 * A section's tag is four printable ASCII characters (0x20..0x7e); a (tag, instance) pair appears
 * once. Sections keep the order they were written in.
 *
 * The file is input from a stranger: the reader refuses a file over SNAP_MAX_FILE_BYTES, a wrong
 * magic, another major version (or a newer minor), flags it does not know, a body length that is
 * not the file's, a bad checksum, sections that overrun the body, have a tag that is not printable
 * or repeat a (tag, instance) pair, and more than SNAP_MAX_SECTIONS sections; every value a cursor
 * hands out is bounds-checked, and the checked getters also hold it to a range.
 *
 * Errors are sticky: a writer or cursor that failed once keeps failing and every later put/get is
 * a no-op (gets return 0, false or zero bytes), so a section's code puts or gets everything, then
 * checks once. A get that fails does not advance the cursor: off is where the refused value starts.
 */
#ifndef KILN_SNAPSHOT_SNAP_FILE_H
#define KILN_SNAPSHOT_SNAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SNAP_VERSION_MAJOR 2
#define SNAP_VERSION_MINOR 0
#define SNAP_MAX_FILE_BYTES MiB(16)
#define SNAP_MAX_SECTIONS 4096
#define SNAP_MAX_STR 4095 /* bytes of a snap_put_str string, without its NUL */

#define SNAP_MAGIC "KILNSNAP"
#define SNAP_HEADER_BYTES 24u
#define SNAP_SECTION_HEADER_BYTES 16u
#define SNAP_TRAILER_BYTES 8u

/* A section's tag from four characters: SNAP_TAG('V','C','P','U'). */
#define SNAP_TAG(a, b, c, d) \
	((uint32_t)(uint8_t)(a) | (uint32_t)(uint8_t)(b) << 8 | (uint32_t)(uint8_t)(c) << 16 | \
	 (uint32_t)(uint8_t)(d) << 24)

/* CRC-64/XZ of len bytes, continuing from crc (0 to start): snap_crc64(0, "123456789", 9) is
 * 0x995dc9bbdf1939fa. */
uint64_t snap_crc64(uint64_t crc, const void *data, size_t len);

/* --- writing ------------------------------------------------------------------------------------ */
/*
 * Errors of a writer (the first one sticks): -EINVAL for a put outside a section, a section opened
 * inside another, snap_end without a section, a tag that is not printable, a string that is too
 * long, or a put after snap_writer_image; -EFBIG for a file over SNAP_MAX_FILE_BYTES or
 * SNAP_MAX_SECTIONS; -EEXIST (from snap_writer_image) when a (tag, instance) pair was written
 * twice; -ENOMEM. A writer never produces a file the reader refuses.
 */
struct snap_writer {
	uint8_t *buf;         /* the file: header (filled in by snap_writer_image), body, trailer */
	size_t len, cap;      /* len starts at the header's size: the body is appended after it */
	size_t section_start; /* offset of the open section's header, or SIZE_MAX */
	unsigned int nsections;
	bool sealed;          /* snap_writer_image succeeded: buf[0, len) is the whole file */
	int err;              /* 0, or the first -errno */
};

void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);
/* Opens a section; sections do not nest (opening one while another is open is -EINVAL). */
void snap_begin(struct snap_writer *w, uint32_t tag, uint32_t instance);
void snap_end(struct snap_writer *w);
void snap_put_u8(struct snap_writer *w, uint8_t v);
void snap_put_u16(struct snap_writer *w, uint16_t v);
void snap_put_u32(struct snap_writer *w, uint32_t v);
void snap_put_u64(struct snap_writer *w, uint64_t v);
void snap_put_bool(struct snap_writer *w, bool v);
void snap_put_bytes(struct snap_writer *w, const void *data, size_t len);
/* A length-prefixed (u32) string of at most SNAP_MAX_STR bytes, no NUL inside. */
void snap_put_str(struct snap_writer *w, const char *s);
/*
 * Seals the file in memory (no section may be open) and points *image at it, *len bytes: 0 or the
 * writer's first error. Later puts fail (-EINVAL); calling it again gives the same image, which
 * lives until snap_writer_free.
 */
int snap_writer_image(struct snap_writer *w, const uint8_t **image, size_t *len) MUST_CHECK;
/*
 * Writes the file (snap_writer_image) to a temporary file in path's directory (mode 0600),
 * fsync'd, renamed over path, then fsyncs the directory: 0, the writer's first error, or -errno.
 * On failure no temporary file is left, and path is untouched unless only the directory's fsync
 * failed.
 */
int snap_writer_save(struct snap_writer *w, const char *path) MUST_CHECK;

/* --- reading ------------------------------------------------------------------------------------ */
struct snap_section {
	uint32_t tag, instance;
	const uint8_t *data;  /* the payload, inside the reader's copy of the file */
	uint64_t len;
};

struct snap_reader {
	uint8_t *file;        /* the whole file, read once */
	size_t file_len;
	struct snap_section *sections; /* in file order */
	unsigned int nsections;
	uint16_t minor;       /* the file's minor version, for fields added later */
};

struct snap_cursor {
	const uint8_t *data;
	uint64_t len, off;
	int err;
};

/*
 * Reads and checks path: 0, or -errno with a one-line reason in why (e.g. "bad checksum",
 * "version 2.0, this kiln reads 1.x", "section VCPU/3 overruns the file"). Refusals of the
 * contents are -EBADMSG; a file over SNAP_MAX_FILE_BYTES is -EFBIG (checked before it is read);
 * a path that is not a regular file (after symbolic links) is -EISDIR or -EINVAL; I/O errors
 * are their own -errno. On failure r holds nothing (snap_reader_close is harmless).
 */
int snap_reader_open(struct snap_reader *r, const char *path, char *why, size_t whylen) MUST_CHECK;
/* The same checks on a file already in memory (copied); for tests and the fuzz target. */
int snap_reader_parse(struct snap_reader *r, const void *file, size_t len, char *why,
		      size_t whylen) MUST_CHECK;
void snap_reader_close(struct snap_reader *r);
/* How many sections carry tag (devices of one kind, vCPUs). */
unsigned int snap_count(const struct snap_reader *r, uint32_t tag);
/*
 * A cursor on section (tag, instance): 0, or -ENOENT when the file has none (the cursor then fails
 * every get, and snap_cursor_finish gives -ENOENT).
 */
int snap_open_section(const struct snap_reader *r, uint32_t tag, uint32_t instance,
		      struct snap_cursor *c) MUST_CHECK;

/* Gets fail (-EBADMSG) on a value that would run past the section's end. */
uint8_t snap_get_u8(struct snap_cursor *c);
uint16_t snap_get_u16(struct snap_cursor *c);
uint32_t snap_get_u32(struct snap_cursor *c);
uint64_t snap_get_u64(struct snap_cursor *c);
/* A bool must be 0 or 1. */
bool snap_get_bool(struct snap_cursor *c);
/* A u32 or u64 that must lie in [min, max]; outside it the cursor fails (-EBADMSG). */
uint32_t snap_get_u32_in(struct snap_cursor *c, uint32_t min, uint32_t max);
uint64_t snap_get_u64_in(struct snap_cursor *c, uint64_t min, uint64_t max);
/* len bytes into out (zeroed when the get fails). */
void snap_get_bytes(struct snap_cursor *c, void *out, size_t len);
/*
 * A string written by snap_put_str into out (NUL-terminated); fails if its length prefix is over
 * SNAP_MAX_STR, it holds a NUL, or it does not fit outlen with its NUL. out is "" on failure.
 */
void snap_get_str(struct snap_cursor *c, char *out, size_t outlen);
/* 0 when every get succeeded and the whole section was read; else -EBADMSG (or the first error). */
int snap_cursor_finish(struct snap_cursor *c) MUST_CHECK;

#endif
