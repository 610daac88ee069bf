/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snap-edit IN OUT EDIT: a copy of the state file IN with one thing changed, its checksum made
 * anew, so that a restore of OUT reaches the check the edit is for (arm64_snapshot.sh):
 *   arch NAME         the ARCH section says NAME (another machine's snapshot)
 *   reg-id ID         vCPU 0's first register is ID (hex), its size field left as it was
 *   truncate-regs     vCPU 0's register list loses its last 12 bytes (a value cut short)
 * Sections are copied in order, through the same writer kiln uses. Exits 0, or 1 with a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap_file.h"

#define TAG_ARCH SNAP_TAG('A', 'R', 'C', 'H')
#define TAG_ACPU SNAP_TAG('A', 'C', 'P', 'U')
/* ACPU/n: u32 mp_state, u32 count, then the first register's u64 id */
#define ACPU_FIRST_ID_OFFSET 8

static int usage(void)
{
	fputs("usage: snap-edit IN OUT arch NAME | reg-id HEX | truncate-regs\n", stderr);
	return 1;
}

static void copy_section(struct snap_writer *w, const struct snap_section *s, const char *edit, const char *arg)
{
	bool vcpu0 = s->tag == TAG_ACPU && s->instance == 0;
	uint64_t len = s->len;

	snap_begin(w, s->tag, s->instance);
	if (s->tag == TAG_ARCH && strcmp(edit, "arch") == 0) {
		snap_put_str(w, arg);
	} else if (vcpu0 && strcmp(edit, "reg-id") == 0 && len >= ACPU_FIRST_ID_OFFSET + 8) {
		uint64_t id = strtoull(arg, NULL, 16);

		snap_put_bytes(w, s->data, ACPU_FIRST_ID_OFFSET);
		snap_put_u64(w, id);
		snap_put_bytes(w, s->data + ACPU_FIRST_ID_OFFSET + 8, len - ACPU_FIRST_ID_OFFSET - 8);
	} else {
		if (vcpu0 && strcmp(edit, "truncate-regs") == 0 && len > 12)
			len -= 12;
		snap_put_bytes(w, s->data, len);
	}
	snap_end(w);
}

int main(int argc, char **argv)
{
	struct snap_reader r;
	struct snap_writer w;
	char why[256];
	int rc;

	if (argc < 4 || ((strcmp(argv[3], "arch") == 0 || strcmp(argv[3], "reg-id") == 0) && argc != 5) ||
	    (strcmp(argv[3], "truncate-regs") == 0 && argc != 4))
		return usage();
	if (snap_reader_open(&r, argv[1], why, sizeof(why)) < 0) {
		fprintf(stderr, "snap-edit: %s: %s\n", argv[1], why);
		return 1;
	}
	snap_writer_init(&w);
	for (unsigned int i = 0; i < r.nsections; i++)
		copy_section(&w, &r.sections[i], argv[3], argc > 4 ? argv[4] : "");
	rc = snap_writer_save(&w, argv[2]);
	snap_writer_free(&w);
	snap_reader_close(&r);
	if (rc < 0) {
		fprintf(stderr, "snap-edit: %s: %s\n", argv[2], strerror(-rc));
		return 1;
	}
	return 0;
}
