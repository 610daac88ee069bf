/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the kernel-loader fuzz targets (fuzz_pvh.c, fuzz_bzimage.c) share: a small guest whose RAM
 * [0, ram_bytes) is one buffer behind a gmem, the rest of the buffer poisoned for ASan; a load of a
 * crafted kernel file with an initrd and command line chosen by the input; and the checks that hold
 * for either format (nothing written outside the places a loader may write, the command line,
 * the initrd and the memory map as reported).
 *
 * Input: a BOOT_HARNESS_HEADER-byte header, then the kernel file after the target's fixed prefix.
 *   byte 0    RAM size: 1 MiB + (b + 1) * 4 KiB (the loader needs RAM above 1 MiB)
 *   byte 1    initrd size: b * 64 bytes (0: none)
 *   byte 2-3  command line length, little-endian
 */
#ifndef KILN_TESTS_FUZZ_BOOT_HARNESS_H
#define KILN_TESTS_FUZZ_BOOT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arch/x86/boot.h"
#include "mem/gmem.h"

#define BOOT_HARNESS_HEADER 4

#define boot_check(cond)            \
	do {                        \
		if (!(cond))        \
			abort();    \
	} while (0)

struct boot_run {
	uint8_t *ram;
	uint64_t ram_bytes;
	struct gmem m;
	uint8_t *kernel; /* the file as loaded: prefix then the input, in an allocation of its size */
	size_t kernel_size;
	struct x86_boot_input in;
	size_t cmdline_len;
	struct x86_entry entry;
	char err[256];
	int ret;
};

/*
 * Builds the run from the input (false when it is too short) and loads it. prefix goes before the
 * input's file bytes; force_at/force (force_len bytes) then overwrite the file where it is long
 * enough (a format's magic, so that the fuzzer does not spend its time on it).
 */
bool boot_harness_load(struct boot_run *r, const uint8_t *data, size_t len, const uint8_t *prefix,
		       size_t prefix_len, size_t force_at, const void *force, size_t force_len);
void boot_harness_free(struct boot_run *r);

/*
 * Checks that hold after any load: an error is one line and a kind the loader documents; nothing
 * outside [boot_block, +4 KiB), the command line at X86_CMDLINE_ADDR and RAM from 1 MiB changed.
 */
void boot_harness_check_common(const struct boot_run *r, gpa_t boot_block);

/* A range of guest RAM the loader wrote: a kernel segment or the initrd. */
struct boot_range {
	gpa_t start;
	uint64_t size;
};

/*
 * After a successful load: RAM from 1 MiB is untouched outside the n ranges (which lie inside it;
 * empty ones are skipped).
 */
void boot_harness_check_high(const struct boot_run *r, struct boot_range *ranges, unsigned int n);

/* After a successful load: the command line is at X86_CMDLINE_ADDR, whole. */
void boot_harness_check_cmdline(const struct boot_run *r);

/*
 * After a successful load: the initrd reported at gpa (size bytes) is the input's, page-aligned,
 * above lowest, and inside RAM; without one, both are 0.
 */
void boot_harness_check_initrd(const struct boot_run *r, gpa_t gpa, uint64_t size, gpa_t lowest);

/* After a successful load: the memory map at table (count entries of entry_size bytes). */
void boot_harness_check_e820(const struct boot_run *r, gpa_t table, uint64_t count, unsigned int entry_size);

/* Little-endian values from RAM (checked: inside the buffer) and from the file (0 past its end). */
uint64_t boot_ram_get(const struct boot_run *r, gpa_t gpa, unsigned int len);
uint64_t boot_file_get(const struct boot_run *r, uint64_t off, unsigned int len);

/* True when [off, off + len) lies inside the file. */
bool boot_file_has(const struct boot_run *r, uint64_t off, uint64_t len);

#endif
