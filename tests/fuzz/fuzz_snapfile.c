/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the snapshot state file (snapshot/snap_file.c) from a stranger.
 *
 * Input: a 1-byte prefix, then the file image.
 *   prefix bit 0  set the header's body length to the image's (len - 32) before parsing
 *   prefix bit 1  then recompute the checksum over the image
 * A random mutation almost never keeps the length and the CRC right, so without these bits the
 * fuzzer would stop at the header; with both clear, the length and checksum refusals are fuzzed.
 *
 * A refused file must be -EBADMSG with a one-line reason and leave the reader empty. An accepted
 * one must be what the format says (sections in order, each inside the body, printable tags, no
 * repeated pair, counts right); every section is then read with a mix of getters chosen by the
 * section's own bytes (each get is preceded by an opcode byte), and each result is checked
 * against a decoding of the same bytes done here: a get succeeds exactly when its value lies in
 * the section (and its range), fails without moving the cursor otherwise, and the failure sticks.
 * Finally the file is written again by the writer: the image must parse to the same sections and,
 * at this kiln's minor version, be the input byte for byte.
 *
 * Seeds (tests/fuzz/corpus/snapfile/): the prefix byte, then a file snap_writer_image wrote (a
 * throwaway program linked with build/rel/libkiln-core.a; the layout is pinned by the unit test).
 *   empty            prefix 0; no section (32 bytes)
 *   devices          prefix 0; VCPU/0 and VCPU/1 (u64, u32, bool), UART/0 (u8, u16, str "ttyS0"),
 *                    VIRT/3 (u32, u64, 4 bytes)
 *   devices_fixups   prefix 3; devices with its body length and checksum zeroed
 *   devices_bad_crc  prefix 0; devices with the checksum's low bit flipped (refused)
 *   getters          prefix 0; GETS/0, an opcode stream in which every get succeeds: opcodes 0-3
 *                    (u8..u64), 4 (bool 1), 13 (u32 in [4, 4]), 141 (u64 in [17 << 34, 17 << 34]),
 *                    54 (6 bytes), 39 (str "abc", outlen 8)
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_check.h"
#include "snapshot/snap_file.h"

#define FUZZ_FIX_BODY_LEN 0x01
#define FUZZ_FIX_CRC 0x02

static uint64_t fuzz_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The file is what the format says it is, and the reader's index matches it. */
static void fuzz_check_structure(const struct snap_reader *r, const uint8_t *f, size_t len)
{
	size_t pos = SNAP_HEADER_BYTES;

	fuzz_check(r->file_len == len && memcmp(r->file, f, len) == 0);
	fuzz_check(r->minor <= SNAP_VERSION_MINOR);
	fuzz_check(r->nsections <= SNAP_MAX_SECTIONS);
	for (unsigned int i = 0; i < r->nsections; i++) {
		const struct snap_section *s = &r->sections[i];
		unsigned int same_tag = 0;

		fuzz_check(len - SNAP_TRAILER_BYTES - pos >= SNAP_SECTION_HEADER_BYTES);
		fuzz_check(s->tag == fuzz_le(f + pos, 4) && s->instance == fuzz_le(f + pos + 4, 4));
		fuzz_check(s->len == fuzz_le(f + pos + 8, 8));
		pos += SNAP_SECTION_HEADER_BYTES;
		fuzz_check(s->data == r->file + pos);
		fuzz_check(s->len <= len - SNAP_TRAILER_BYTES - pos);
		pos += s->len;
		for (int k = 0; k < 4; k++) {
			uint8_t ch = (uint8_t)(s->tag >> (8 * k));
			fuzz_check(ch >= 0x20 && ch <= 0x7e);
		}
		for (unsigned int j = 0; j < r->nsections; j++) {
			same_tag += r->sections[j].tag == s->tag;
			fuzz_check(j == i || r->sections[j].tag != s->tag ||
				   r->sections[j].instance != s->instance);
		}
		fuzz_check(snap_count(r, s->tag) == same_tag);
	}
	fuzz_check(pos == len - SNAP_TRAILER_BYTES);
}

/* After a get of n bytes from before (the value ok by its own rule): moved, or failed in place. */
static void fuzz_check_get(const struct snap_cursor *c, uint64_t before, uint64_t n, bool ok)
{
	if (ok && n <= c->len - before) {
		fuzz_check(c->err == 0 && c->off == before + n);
	} else {
		fuzz_check(c->err == -EBADMSG && c->off == before);
	}
}

static void fuzz_get_int(struct snap_cursor *c, unsigned int n)
{
	uint64_t before = c->off, avail = c->len - c->off, v;

	if (n == 1)
		v = snap_get_u8(c);
	else if (n == 2)
		v = snap_get_u16(c);
	else if (n == 4)
		v = snap_get_u32(c);
	else
		v = snap_get_u64(c);
	fuzz_check_get(c, before, n, true);
	fuzz_check(v == (n <= avail ? fuzz_le(c->data + before, n) : 0));
}

/* A range from the opcode's argument: everything, one value, a span, or nothing at all. */
static void fuzz_range(uint8_t arg, uint64_t limit, uint64_t *min, uint64_t *max)
{
	uint64_t base = ((uint64_t)arg << (2 * arg)) & limit;

	switch (arg % 4) {
	case 0:
		*min = 0;
		*max = limit;
		break;
	case 1:
		*min = *max = base;
		break;
	case 2:
		*min = base;
		*max = base + (limit - base) / (arg + 1);
		break;
	default:
		*min = 1;
		*max = 0;
		break;
	}
}

static void fuzz_get_in(struct snap_cursor *c, uint8_t arg, bool wide)
{
	uint64_t before = c->off, avail = c->len - c->off, n = wide ? 8 : 4, min, max, v;
	uint64_t raw = n <= avail ? fuzz_le(c->data + before, n) : 0;

	fuzz_range(arg, wide ? UINT64_MAX : UINT32_MAX, &min, &max);
	if (wide)
		v = snap_get_u64_in(c, min, max);
	else
		v = snap_get_u32_in(c, (uint32_t)min, (uint32_t)max);
	fuzz_check_get(c, before, n, raw >= min && raw <= max);
	fuzz_check(v == (c->err == 0 ? raw : 0));
}

static void fuzz_get_bool(struct snap_cursor *c)
{
	uint64_t before = c->off, avail = c->len - c->off;
	uint8_t raw = avail ? c->data[before] : 0;
	bool v = snap_get_bool(c);

	fuzz_check_get(c, before, 1, raw <= 1);
	fuzz_check(v == (c->err == 0 && raw == 1));
}

static void fuzz_get_bytes(struct snap_cursor *c, size_t n)
{
	uint8_t out[32], zero[32] = { 0 };
	uint64_t before = c->off;

	memset(out, 0xa5, sizeof(out));
	snap_get_bytes(c, out, n);
	fuzz_check_get(c, before, n, true);
	fuzz_check(memcmp(out, c->err == 0 ? c->data + before : zero, n) == 0);
}

static void fuzz_get_str(struct snap_cursor *c, size_t outlen)
{
	char out[SNAP_MAX_STR + 1];
	uint64_t before = c->off, avail = c->len - c->off, n = 0;
	bool ok = false;

	memset(out, 'Z', sizeof(out));
	if (avail >= 4) {
		n = fuzz_le(c->data + before, 4);
		ok = n <= SNAP_MAX_STR && n < outlen && n <= avail - 4 &&
		     memchr(c->data + before + 4, '\0', n) == NULL;
	}
	snap_get_str(c, out, outlen);
	fuzz_check_get(c, before, 4 + n, ok);
	if (c->err == 0)
		fuzz_check(memcmp(out, c->data + before + 4, n) == 0 && out[n] == '\0');
	else
		fuzz_check(outlen == 0 ? out[0] == 'Z' : out[0] == '\0');
}

/*
 * Opcode bytes pick the next get: the low 3 bits the getter, the high 5 its argument (range,
 * byte count, room for a string). Runs until the section is read or the cursor fails.
 */
static void fuzz_read_section(const struct snap_reader *r, const struct snap_section *s)
{
	static const size_t outlens[] = { 0, 1, 2, 4, 8, 16, SNAP_MAX_STR, SNAP_MAX_STR + 1 };
	struct snap_cursor c;

	fuzz_check(snap_open_section(r, s->tag, s->instance, &c) == 0);
	fuzz_check(c.data == s->data && c.len == s->len && c.off == 0 && c.err == 0);
	/* a section left unread is refused */
	fuzz_check(snap_cursor_finish(&c) == (s->len ? -EBADMSG : 0));
	fuzz_check(snap_open_section(r, s->tag, s->instance, &c) == 0);
	while (c.err == 0 && c.off < c.len) {
		uint8_t op = snap_get_u8(&c), arg = op >> 3;

		switch (op % 8) {
		case 0:
		case 1:
		case 2:
		case 3:
			fuzz_get_int(&c, 1u << (op % 4)); /* u8, u16, u32, u64 */
			break;
		case 4:
			fuzz_get_bool(&c);
			break;
		case 5:
			fuzz_get_in(&c, arg, arg & 16);
			break;
		case 6:
			fuzz_get_bytes(&c, arg);
			break;
		default:
			fuzz_get_str(&c, outlens[arg % ARRAY_SIZE(outlens)]);
			break;
		}
		fuzz_check(c.off <= c.len);
	}
	if (c.err == 0) {
		fuzz_check(c.off == c.len && snap_cursor_finish(&c) == 0);
	} else {
		uint64_t at = c.off;
		/* sticky: nothing more is handed out, nothing moves */
		fuzz_check(snap_get_u8(&c) == 0 && snap_get_u64(&c) == 0 && c.off == at);
		fuzz_check(snap_cursor_finish(&c) == -EBADMSG);
	}
}

/* A pair the file lacks gives -ENOENT and a cursor that hands out nothing. */
static void fuzz_check_missing(const struct snap_reader *r)
{
	uint32_t tag = SNAP_TAG('N', 'O', 'N', 'E'), instance = 0;
	struct snap_cursor c;

	if (r->nsections > 0) {
		tag = r->sections[0].tag;
		instance = r->sections[0].instance + 1;
	}
	for (unsigned int i = 0; i < r->nsections; i++)
		if (r->sections[i].tag == tag && r->sections[i].instance == instance)
			return;
	fuzz_check(snap_open_section(r, tag, instance, &c) == -ENOENT);
	fuzz_check(snap_get_u32(&c) == 0 && snap_cursor_finish(&c) == -ENOENT);
}

/* The writer, given the same sections, writes a file that reads back the same. */
static void fuzz_rewrite(const struct snap_reader *r, const uint8_t *f, size_t len)
{
	struct snap_writer w;
	struct snap_reader again;
	const uint8_t *img;
	size_t img_len;

	snap_writer_init(&w);
	for (unsigned int i = 0; i < r->nsections; i++) {
		snap_begin(&w, r->sections[i].tag, r->sections[i].instance);
		snap_put_bytes(&w, r->sections[i].data, r->sections[i].len);
		snap_end(&w);
	}
	fuzz_check(snap_writer_image(&w, &img, &img_len) == 0);
	if (r->minor == SNAP_VERSION_MINOR)
		fuzz_check(img_len == len && memcmp(img, f, len) == 0);
	fuzz_check(snap_reader_parse(&again, img, img_len, NULL, 0) == 0);
	fuzz_check(again.nsections == r->nsections);
	for (unsigned int i = 0; i < r->nsections; i++) {
		const struct snap_section *a = &again.sections[i], *b = &r->sections[i];
		fuzz_check(a->tag == b->tag && a->instance == b->instance && a->len == b->len);
		fuzz_check(memcmp(a->data, b->data, a->len) == 0);
	}
	snap_reader_close(&again);
	snap_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct snap_reader r;
	char why[256];
	uint8_t *f;
	int rc;

	if (len < 1)
		return 0;
	len--;
	f = malloc(len ? len : 1);
	fuzz_check(f != NULL);
	memcpy(f, data + 1, len);
	if (len >= SNAP_HEADER_BYTES + SNAP_TRAILER_BYTES) {
		uint64_t body = htole64(len - SNAP_HEADER_BYTES - SNAP_TRAILER_BYTES), crc;
		if (data[0] & FUZZ_FIX_BODY_LEN)
			memcpy(f + 16, &body, 8);
		if (data[0] & FUZZ_FIX_CRC) {
			crc = htole64(snap_crc64(0, f, len - SNAP_TRAILER_BYTES));
			memcpy(f + len - SNAP_TRAILER_BYTES, &crc, 8);
		}
	}
	why[0] = '\0';
	rc = snap_reader_parse(&r, f, len, why, sizeof(why));
	if (rc < 0) {
		fuzz_check(rc == -EBADMSG);
		fuzz_check(why[0] != '\0' && strchr(why, '\n') == NULL);
		fuzz_check(r.file == NULL && r.sections == NULL && r.nsections == 0);
	} else {
		fuzz_check(rc == 0);
		fuzz_check_structure(&r, f, len);
		for (unsigned int i = 0; i < r.nsections; i++)
			fuzz_read_section(&r, &r.sections[i]);
		fuzz_check_missing(&r);
		fuzz_rewrite(&r, f, len);
		snap_reader_close(&r);
	}
	free(f);
	return 0;
}
