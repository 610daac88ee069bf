/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small AML (ACPI Machine Language) byte-code builder for kiln's DSDT (ACPI 6.5 chapter 20).
 *
 * The builder writes into a caller-provided buffer. Its emitters return nothing: the first error
 * (-ENOSPC when a write would not fit, -EINVAL for a malformed name or string) sticks in the buffer,
 * later emitters do nothing, and aml_finish() reports it. Nothing is ever written past the
 * capacity. Constructs that carry a PkgLength (Scope, Device, Method, Package, Buffer) are opened
 * with a *_begin() that returns a mark and closed with the matching *_end(mark), which inserts the
 * minimal PkgLength encoding once the body's size is known.
 */
#ifndef KILN_ARCH_X86_AML_H
#define KILN_ARCH_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct aml_buf {
	uint8_t *data;
	size_t cap; /* bytes available at data */
	size_t len; /* bytes written */
	int err;    /* 0, or the first error: -ENOSPC or -EINVAL */
};

/* The largest value a PkgLength can hold: 28 bits (ACPI 6.5 §20.2.4). */
#define AML_PKGLENGTH_MAX 0x0fffffffu

void aml_init(struct aml_buf *b, void *data, size_t cap);
/* Bytes written, or the first error. */
int aml_finish(const struct aml_buf *b) MUST_CHECK;

/* Encodes len as a PkgLength into out; returns its size (1-4 bytes), or -EINVAL above the max. */
int aml_pkglength_encode(uint8_t out[4], uint32_t len) MUST_CHECK;
/* The 32-bit compressed EISA id of a 7-character id such as "PNP0501"; -EINVAL if malformed. */
int aml_eisaid(const char *id, uint32_t *out) MUST_CHECK;

/* Data objects (§20.2.3). */
void aml_integer(struct aml_buf *b, uint64_t v); /* ZeroOp, OneOp or the shortest prefix */
void aml_dword(struct aml_buf *b, uint32_t v);   /* always DWordPrefix */
void aml_string(struct aml_buf *b, const char *s);

/* Names (§20.2.2): "\\_SB_", "_HID", "\\_SB_.COM1"; segments shorter than 4 are padded with '_'. */
void aml_name_string(struct aml_buf *b, const char *path);
/* Name (name, ...): the caller appends the value object. */
void aml_name(struct aml_buf *b, const char *name);
void aml_name_integer(struct aml_buf *b, const char *name, uint64_t v);
void aml_name_str(struct aml_buf *b, const char *name, const char *s);
void aml_name_eisaid(struct aml_buf *b, const char *name, const char *id);

/* Named and data constructs with a PkgLength (§20.2.5). */
size_t aml_scope_begin(struct aml_buf *b, const char *path);
size_t aml_device_begin(struct aml_buf *b, const char *name);
size_t aml_package_begin(struct aml_buf *b, uint8_t nelems);
/* Method (name, nargs, NotSerialized): nargs 0-7; the caller appends its body, then aml_pkg_end. */
size_t aml_method_begin(struct aml_buf *b, const char *name, uint8_t nargs);
void aml_pkg_end(struct aml_buf *b, size_t mark); /* closes a Scope, Device, Method or Package */

/* Notify (path, value): a notification the OS hands to the object's driver (§5.6.6). */
void aml_notify(struct aml_buf *b, const char *path, uint64_t value);

/* ResourceTemplate (): a Buffer of resource descriptors closed by an End Tag (§6.4). */
size_t aml_restemplate_begin(struct aml_buf *b);
void aml_restemplate_end(struct aml_buf *b, size_t mark);

/* Resource descriptors (ACPI 6.5 §6.4). */
void aml_io16(struct aml_buf *b, uint16_t port, uint8_t len);       /* IO (Decode16, p, p, 1, len) */
void aml_irq_noflags(struct aml_buf *b, uint8_t irq);                /* IRQNoFlags () {irq}, 0-15 */
void aml_memory32_fixed(struct aml_buf *b, bool rw, uint32_t base, uint32_t size);
/* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {gsi} */
void aml_ext_interrupt(struct aml_buf *b, uint32_t gsi);

#endif
