// SPDX-License-Identifier: Apache-2.0
/* AML byte-code builder: see aml.h. Encodings from ACPI 6.5 chapter 20 and §6.4. */
#include "arch/x86/aml.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* Opcodes and prefixes (ACPI 6.5 §20.3, §20.2). */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_ROOT_CHAR '\\'
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_NOTIFY_OP 0x86
#define AML_METHOD_MAX_ARGS 7 /* MethodFlags bits 0-2 (§20.2.5.2) */

/* Resource descriptor tags (ACPI 6.5 §6.4.2 small, §6.4.3 large). */
#define AML_RES_IRQ_NOFLAGS 0x22 /* small item 0x4, length 2 */
#define AML_RES_IO 0x47          /* small item 0x8, length 7 */
#define AML_RES_END_TAG 0x79     /* small item 0xf, length 1 */
#define AML_RES_MEMORY32_FIXED 0x86
#define AML_RES_EXT_INTERRUPT 0x89

#define AML_NAMESEG_LEN 4
#define AML_MAX_SEGS 8 /* deeper paths are not needed by kiln */

void aml_init(struct aml_buf *b, void *data, size_t cap)
{
	b->data = data;
	b->cap = cap;
	b->len = 0;
	b->err = 0;
}

int aml_finish(const struct aml_buf *b)
{
	if (b->err)
		return b->err;
	return b->len > INT_MAX ? -ENOSPC : (int)b->len;
}

static void aml_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

static void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (n > b->cap - b->len) {
		aml_fail(b, -ENOSPC);
		return;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

/* Inserts n bytes at offset at, moving what follows: how a PkgLength goes in front of its body. */
static void aml_insert(struct aml_buf *b, size_t at, const void *p, size_t n)
{
	if (b->err)
		return;
	if (at > b->len) {
		aml_fail(b, -EINVAL);
		return;
	}
	if (n > b->cap - b->len) {
		aml_fail(b, -ENOSPC);
		return;
	}
	memmove(b->data + at + n, b->data + at, b->len - at);
	memcpy(b->data + at, p, n);
	b->len += n;
}

static void put_le(uint8_t *out, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/*
 * ACPI 6.5 §20.2.4: one byte holds 0-63 in bits 0-5. Otherwise bits 7-6 of the lead byte count the
 * bytes that follow (1-3), bits 3-0 hold the low nibble, and each following byte 8 more bits.
 */
int aml_pkglength_encode(uint8_t out[4], uint32_t len)
{
	size_t follow;

	if (len <= 0x3f) {
		out[0] = (uint8_t)len;
		return 1;
	}
	if (len <= 0xfff)
		follow = 1;
	else if (len <= 0xfffff)
		follow = 2;
	else if (len <= AML_PKGLENGTH_MAX)
		follow = 3;
	else
		return -EINVAL;
	out[0] = (uint8_t)(follow << 6 | (len & 0xf));
	put_le(out + 1, len >> 4, follow);
	return (int)follow + 1;
}

/* Encodes an Integer object the shortest way (§20.2.3); returns its size. */
static size_t aml_integer_encode(uint8_t out[9], uint64_t v)
{
	size_t n;

	if (v <= 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	put_le(out + 1, v, n);
	return n + 1;
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t enc[9];

	aml_bytes(b, enc, aml_integer_encode(enc, v));
}

void aml_dword(struct aml_buf *b, uint32_t v)
{
	uint8_t enc[5] = { AML_DWORD_PREFIX };

	put_le(enc + 1, v, 4);
	aml_bytes(b, enc, sizeof(enc));
}

/* String := StringPrefix AsciiCharList NullChar, AsciiChar 0x01-0x7f (§20.2.3). */
void aml_string(struct aml_buf *b, const char *s)
{
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, s, strlen(s) + 1);
}

/* LeadNameChar is 'A'-'Z' or '_'; later NameChars may also be digits (§20.2.2). */
static int aml_namechar_ok(char c, int lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!lead && c >= '0' && c <= '9');
}

/* Parses one NameSeg of 1-4 chars ending at '.' or the end, padding with '_'; returns chars used. */
static int aml_nameseg_parse(const char *s, uint8_t seg[AML_NAMESEG_LEN])
{
	int n = 0;

	while (s[n] && s[n] != '.') {
		if (n == AML_NAMESEG_LEN || !aml_namechar_ok(s[n], n == 0))
			return -EINVAL;
		seg[n] = (uint8_t)s[n];
		n++;
	}
	if (n == 0)
		return -EINVAL;
	memset(seg + n, '_', AML_NAMESEG_LEN - (size_t)n);
	return n;
}

/* NameString := <RootChar NamePath> | NamePath, NamePath a NameSeg, DualNamePath or MultiNamePath. */
void aml_name_string(struct aml_buf *b, const char *path)
{
	uint8_t segs[AML_MAX_SEGS][AML_NAMESEG_LEN];
	size_t nsegs = 0;
	const char *p = path;
	int rooted = *p == AML_ROOT_CHAR;

	p += rooted;
	for (;;) {
		int n = nsegs < AML_MAX_SEGS ? aml_nameseg_parse(p, segs[nsegs]) : -EINVAL;

		if (n < 0) {
			aml_fail(b, -EINVAL);
			return;
		}
		nsegs++;
		p += n;
		if (*p == '\0')
			break;
		p++; /* the '.' */
	}
	if (rooted)
		aml_byte(b, AML_ROOT_CHAR);
	if (nsegs == 2) {
		aml_byte(b, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		aml_byte(b, AML_MULTI_NAME_PREFIX);
		aml_byte(b, (uint8_t)nsegs);
	}
	aml_bytes(b, segs, nsegs * AML_NAMESEG_LEN);
}

void aml_name(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_NAME_OP);
	aml_name_string(b, name);
}

void aml_name_integer(struct aml_buf *b, const char *name, uint64_t v)
{
	aml_name(b, name);
	aml_integer(b, v);
}

void aml_name_str(struct aml_buf *b, const char *name, const char *s)
{
	aml_name(b, name);
	aml_string(b, s);
}

static int aml_hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * EISAID (ACPI 6.5 §19.6.35): three uppercase letters, 5 bits each ('A' = 1), packed big-endian into
 * bits 14-0 of a 16-bit vendor word, then four hex digits as a big-endian 16-bit product id; the
 * four bytes are stored in that order, so read as a little-endian DWord "PNP0501" is 0x0105D041.
 */
int aml_eisaid(const char *id, uint32_t *out)
{
	uint32_t vendor = 0, product = 0;

	if (strlen(id) != 7)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		vendor = vendor << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int d = aml_hexdigit(id[i]);

		if (d < 0)
			return -EINVAL;
		product = product << 4 | (uint32_t)d;
	}
	*out = (vendor >> 8) | (vendor & 0xff) << 8 | (product >> 8) << 16 | (product & 0xff) << 24;
	return 0;
}

void aml_name_eisaid(struct aml_buf *b, const char *name, const char *id)
{
	uint32_t v;

	if (aml_eisaid(id, &v) < 0) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_name(b, name);
	aml_dword(b, v); /* always a DWord, as the ASL EISAID macro gives */
}

size_t aml_scope_begin(struct aml_buf *b, const char *path)
{
	size_t mark;

	aml_byte(b, AML_SCOPE_OP);
	mark = b->len;
	aml_name_string(b, path);
	return mark;
}

size_t aml_device_begin(struct aml_buf *b, const char *name)
{
	size_t mark;

	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_DEVICE_OP);
	mark = b->len;
	aml_name_string(b, name);
	return mark;
}

size_t aml_package_begin(struct aml_buf *b, uint8_t nelems)
{
	size_t mark;

	aml_byte(b, AML_PACKAGE_OP);
	mark = b->len;
	aml_byte(b, nelems);
	return mark;
}

/*
 * DefMethod := MethodOp PkgLength NameString MethodFlags TermList (§20.2.5.2). MethodFlags: bits 0-2
 * the argument count, bit 3 clear = NotSerialized, bits 4-7 the SyncLevel (0).
 */
size_t aml_method_begin(struct aml_buf *b, const char *name, uint8_t nargs)
{
	size_t mark;

	if (nargs > AML_METHOD_MAX_ARGS)
		aml_fail(b, -EINVAL);
	aml_byte(b, AML_METHOD_OP);
	mark = b->len;
	aml_name_string(b, name);
	aml_byte(b, nargs);
	return mark;
}

/* DefNotify := NotifyOp NotifyObject NotifyValue: a SuperName (here a NameString), an Integer (§20.2.5.3). */
void aml_notify(struct aml_buf *b, const char *path, uint64_t value)
{
	aml_byte(b, AML_NOTIFY_OP);
	aml_name_string(b, path);
	aml_integer(b, value);
}

/* The PkgLength counts its own bytes too (§20.2.4): take the first size that holds body + size. */
void aml_pkg_end(struct aml_buf *b, size_t mark)
{
	uint8_t enc[4];
	size_t body;

	if (b->err)
		return;
	body = b->len - mark;
	for (size_t n = 1; n <= sizeof(enc); n++) {
		if (body <= AML_PKGLENGTH_MAX - n &&
		    aml_pkglength_encode(enc, (uint32_t)(body + n)) == (int)n) {
			aml_insert(b, mark, enc, n);
			return;
		}
	}
	aml_fail(b, -ENOSPC);
}

size_t aml_restemplate_begin(struct aml_buf *b)
{
	aml_byte(b, AML_BUFFER_OP);
	return b->len;
}

/*
 * DefBuffer := BufferOp PkgLength BufferSize ByteList (§20.2.5.4). The End Tag's checksum byte is 0,
 * which means "treat the checksum as valid" (§6.4.2.9).
 */
void aml_restemplate_end(struct aml_buf *b, size_t mark)
{
	static const uint8_t end_tag[] = { AML_RES_END_TAG, 0 };
	uint8_t size[9];

	aml_bytes(b, end_tag, sizeof(end_tag));
	if (b->err)
		return;
	aml_insert(b, mark, size, aml_integer_encode(size, b->len - mark));
	aml_pkg_end(b, mark);
}

/* I/O Port Descriptor (§6.4.2.5): 16-bit decode, min = max = port, alignment 1. */
void aml_io16(struct aml_buf *b, uint16_t port, uint8_t len)
{
	uint8_t d[8] = { AML_RES_IO, 0x01 };

	put_le(d + 2, port, 2);
	put_le(d + 4, port, 2);
	d[6] = 1;
	d[7] = len;
	aml_bytes(b, d, sizeof(d));
}

/* IRQ Descriptor without its flags byte (§6.4.2.1): edge, active high, exclusive; IRQs 0-15. */
void aml_irq_noflags(struct aml_buf *b, uint8_t irq)
{
	uint8_t d[3] = { AML_RES_IRQ_NOFLAGS };

	if (irq > 15) {
		aml_fail(b, -EINVAL);
		return;
	}
	put_le(d + 1, 1u << irq, 2);
	aml_bytes(b, d, sizeof(d));
}

/* 32-Bit Fixed Memory Range Descriptor (§6.4.3.4): bit 0 of the information byte is writable. */
void aml_memory32_fixed(struct aml_buf *b, bool rw, uint32_t base, uint32_t size)
{
	uint8_t d[12] = { AML_RES_MEMORY32_FIXED, 9, 0, rw ? 1 : 0 };

	put_le(d + 4, base, 4);
	put_le(d + 8, size, 4);
	aml_bytes(b, d, sizeof(d));
}

/*
 * Extended Interrupt Descriptor (§6.4.3.6) with one interrupt and no resource source. Flags: bit 0
 * consumer, bit 1 edge-triggered, bit 2 clear = active high, bit 3 clear = exclusive.
 */
void aml_ext_interrupt(struct aml_buf *b, uint32_t gsi)
{
	uint8_t d[9] = { AML_RES_EXT_INTERRUPT, 6, 0, 0x03, 1 };

	put_le(d + 5, gsi, 4);
	aml_bytes(b, d, sizeof(d));
}
