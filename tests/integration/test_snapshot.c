/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_snapshot COUNT_ELF DIR: snapshot and restore through kiln.h only, on the tiny guest
 * tests/tiny/count.S, which counts 1..2500 on the UART, one number a line, and exits with status 50.
 * A booted guest is paused and snapshotted, and its VM destroyed; a VM restored from the snapshot
 * must go on counting at the next number (no gap, no repeat); it is snapshotted again (a chain of
 * two) and the second restore must count to the end and report the status. A restore that starts
 * paused stays silent until resumed. Damaged, truncated and mismatched files are refused with one
 * line, and so is a snapshot whose disk changed size. Diff snapshots of a guest that tracks dirty
 * pages, merged onto their Full base, restore too (check_diff_snapshots). Two clones restored from
 * the first snapshot, opened once, run at once and both count on. The files go to DIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kiln/kiln.h>

#define COUNT_END 2500
#define COUNT_STATUS 50 /* (1 + ... + 2500) mod 100 */
#define OUT_CAP (64 * 1024)

static int passed, failed;

static void check(int ok, const char *name)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (ok)
		passed++;
	else
		failed++;
}

/* A VM and both ends of its console (kiln writes to the caller's fd: it stays open while the VM lives). */
struct guest {
	struct kiln_vm *vm;
	int out, out_write;
	char buf[OUT_CAP];
	size_t len;
	size_t carried; /* bytes of buf carried over from the snapshotted VM's last, unfinished line */
};

/* The snapshotted VM's unfinished last line, which its restore goes on printing. */
static char carry[32];

/* Reads the console until it has `lines` more lines than before, or ms pass without any. */
static void read_lines(struct guest *g, unsigned int lines, int ms)
{
	struct pollfd p = { .fd = g->out, .events = POLLIN };
	unsigned int seen = 0;

	while (seen < lines && g->len < OUT_CAP - 1 && poll(&p, 1, ms) > 0) {
		ssize_t n = read(g->out, g->buf + g->len, OUT_CAP - 1 - g->len);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			seen += g->buf[g->len + (size_t)i] == '\n';
		g->len += (size_t)n;
	}
	g->buf[g->len] = '\0';
}

/*
 * The numbers in g's output must run first, first+1, ... with nothing else between; returns the
 * last, or 0 when the run is broken (or empty).
 */
static unsigned long counts_from(const struct guest *g, unsigned long first)
{
	unsigned long want = first, last = 0;
	const char *p = g->buf;
	char *end;

	while (*p) {
		unsigned long n = strtoul(p, &end, 10);
		if (*end == '\0' && strchr(p, '\n') == NULL)
			break; /* the guest was paused mid-number: its restore prints the rest */
		if (end == p || *end != '\n' || n != want)
			return 0;
		last = n;
		want++;
		p = end + 1;
	}
	return last;
}

static int console_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}

static char disk_path[4096];

/* A 1 MiB disk for the guest: the snapshot must carry its virtio-blk device too. */
static int make_disk(const char *dir)
{
	snprintf(disk_path, sizeof(disk_path), "%s/disk.img", dir);
	int fd = open(disk_path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	int rc = fd >= 0 && ftruncate(fd, 1 << 20) == 0 ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return rc;
}

static int boot_tracking(struct guest *g, const char *elf, bool track_dirty_pages)
{
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	int fds[2];

	if (console_pipe(fds) < 0)
		return -errno;
	kiln_config_init(&cfg);
	cfg.kernel_path = elf;
	cfg.mem_bytes = 32u << 20;
	cfg.console_in_fd = -1;
	cfg.console_out_fd = fds[1];
	cfg.rng = true;
	cfg.disks[0] = (struct kiln_disk){ .path = disk_path };
	cfg.ndisks = 1;
	cfg.track_dirty_pages = track_dirty_pages;
	g->out = fds[0];
	g->out_write = fds[1];
	g->len = 0;
	int rc = kiln_vm_create(&cfg, &g->vm, &err);
	if (rc == 0)
		rc = kiln_vm_start(g->vm, &err);
	if (rc < 0)
		fprintf(stderr, "boot: %s\n", err.msg);
	return rc;
}

static int boot(struct guest *g, const char *elf)
{
	return boot_tracking(g, elf, false);
}

/* rs for a restore into g, its console a new pipe; g's output starts with the snapshot's carry. */
static int restore_init(struct guest *g, struct kiln_restore *rs)
{
	int fds[2];

	if (console_pipe(fds) < 0)
		return -errno;
	kiln_restore_init(rs);
	rs->console_in_fd = -1;
	rs->console_out_fd = fds[1];
	g->out = fds[0];
	g->out_write = fds[1];
	g->len = g->carried = strlen(carry);
	memcpy(g->buf, carry, g->len + 1);
	g->vm = NULL;
	return 0;
}

static int restore_tracking(struct guest *g, const char *state, const char *mem, bool paused,
			    enum kiln_track_dirty track, struct kiln_error *err)
{
	struct kiln_restore rs;
	int rc = restore_init(g, &rs);

	if (rc < 0)
		return rc;
	rs.state_path = state;
	rs.mem_path = mem;
	rs.paused = paused;
	rs.track_dirty_pages = track;
	rc = kiln_vm_restore(&rs, &g->vm, err);
	if (rc == 0)
		rc = kiln_vm_start(g->vm, err);
	return rc;
}

static int restore(struct guest *g, const char *state, const char *mem, bool paused, struct kiln_error *err)
{
	return restore_tracking(g, state, mem, paused, KILN_TRACK_DIRTY_SAVED, err);
}

static void finish(struct guest *g)
{
	kiln_vm_destroy(g->vm);
	g->vm = NULL;
	close(g->out);
	close(g->out_write);
}

/*
 * Clones: two VMs restored from one snapshot opened once (kiln_snapshot_open), both running at
 * once in this process, the second on a disk of its own (disk_overrides); the snapshot is closed
 * while they run. Each counts on from where the snapshot was taken.
 */
static void check_clones(const char *state, const char *mem, unsigned long first, const char *dir)
{
	static struct guest clones[2];
	struct kiln_error err = { "" };
	struct kiln_snapshot *snap = NULL;
	char own_disk[4096];
	int rc = 0;

	snprintf(own_disk, sizeof(own_disk), "%s/clone-disk.img", dir);
	int fd = open(own_disk, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	check(rc == 0 && kiln_snapshot_open(state, mem, &snap, &err) == 0, "a snapshot is opened once for its clones");
	for (int i = 0; i < 2 && rc == 0 && snap; i++) {
		struct kiln_restore rs;

		rc = restore_init(&clones[i], &rs);
		if (i == 1) {
			rs.disk_overrides[0] = (struct kiln_disk_override){ .id = "drive0", .path = own_disk };
			rs.n_disk_overrides = 1;
		}
		if (rc == 0)
			rc = kiln_vm_restore_from(snap, &rs, &clones[i].vm, &err);
		if (rc == 0)
			rc = kiln_vm_start(clones[i].vm, &err);
	}
	kiln_snapshot_close(snap);
	check(snap && rc == 0, "two clones are restored from it and run at once, in one process");
	if (rc < 0 || snap == NULL) {
		fprintf(stderr, "clones: %s\n", err.msg);
		return;
	}
	check(strcmp(kiln_vm_config(clones[0].vm)->disks[0].path, disk_path) == 0 &&
		      strcmp(kiln_vm_config(clones[1].vm)->disks[0].path, own_disk) == 0,
	      "the first clone has the snapshot's disk, the second the disk its override gave it");
	for (int i = 0; i < 2; i++) {
		read_lines(&clones[i], 200, 5000);
		check(counts_from(&clones[i], first + 1) >= first + 200,
		      i ? "the second clone counts on from the snapshot" : "the first clone counts on from the snapshot");
		finish(&clones[i]);
	}
}

/*
 * Pauses g, reads what was already on its way, and snapshots it with flags (KILN_SNAPSHOT_DIFF or
 * 0): the last number counted, or 0.
 */
static unsigned long pause_and_snapshot_flags(struct guest *g, unsigned long first, const char *state,
					      const char *mem, unsigned int flags)
{
	struct kiln_error err = { "" };

	if (kiln_vm_pause(g->vm) < 0)
		return 0;
	read_lines(g, UINT32_MAX, 100);
	unsigned long last = counts_from(g, first);
	const char *tail = strrchr(g->buf, '\n');
	tail = tail ? tail + 1 : g->buf;
	size_t n = strnlen(tail, sizeof(carry) - 1);
	memcpy(carry, tail, n);
	carry[n] = '\0';
	if (kiln_vm_snapshot_flags(g->vm, state, mem, flags, &err) < 0) {
		fprintf(stderr, "snapshot: %s\n", err.msg);
		return 0;
	}
	return last;
}

static unsigned long pause_and_snapshot(struct guest *g, unsigned long first, const char *state, const char *mem)
{
	return pause_and_snapshot_flags(g, first, state, mem, 0);
}

/* The memory file holds the guest's RAM, but only the pages it wrote take room. */
static void check_memory_file(const char *mem)
{
	struct stat st;

	check(stat(mem, &st) == 0 && st.st_size == (32 << 20), "the memory file is the guest's 32 MiB");
	check(stat(mem, &st) == 0 && st.st_blocks * 512 < (1 << 20),
	      "the memory file is sparse: under 1 MiB on disk for a guest that wrote a few pages");
}

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* Writes a copy of src to dst with byte `at` changed (or cut to `at` bytes when truncate). */
static int damaged_copy(const char *src, const char *dst, long at, bool truncate)
{
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	int c, rc = in && out ? 0 : -1;

	for (long i = 0; rc == 0 && (c = fgetc(in)) != EOF; i++) {
		if (truncate && i == at)
			break;
		fputc(i == at ? c ^ 0x40 : c, out);
	}
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	return rc;
}

static void check_refused(const char *what, const char *state, const char *mem)
{
	struct kiln_error err = { "" };
	struct guest g;
	char name[512];

	int rc = restore(&g, state, mem, false, &err);
	snprintf(name, sizeof(name), "a restore from %s is refused with one line (%s)", what, err.msg);
	check(rc < 0 && err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL, name);
	finish(&g);
}

static void check_hostile_files(const char *dir, const char *state, const char *mem)
{
	char bad[4096], small_mem[4096];

	path_in(bad, sizeof(bad), dir, "bad.state");
	damaged_copy(state, bad, 200, false);
	check_refused("a state file with a flipped bit", bad, mem);
	damaged_copy(state, bad, 100, true);
	check_refused("a truncated state file", bad, mem);
	check_refused("a memory file as the state file", mem, mem);
	path_in(small_mem, sizeof(small_mem), dir, "small.mem");
	int fd = open(small_mem, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	check(fd >= 0 && ftruncate(fd, 16 << 20) == 0, "a 16 MiB memory file is made");
	if (fd >= 0)
		close(fd);
	check_refused("a memory file of another size", state, small_mem);
	path_in(bad, sizeof(bad), dir, "missing.state");
	check_refused("a missing state file", bad, mem);
	check(truncate(disk_path, 2 << 20) == 0, "the guest's disk grows to 2 MiB");
	check_refused("a snapshot whose disk changed size", state, mem);
}

/* The bytes a file takes on disk: its data, holes taking none. */
static long long data_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_blocks * 512 : -1;
}

/* out: an empty (all-hole) memory file of 32 MiB with each of layers[0..n) merged onto it in turn. */
static int merge_layers(const char *out, const char *const *layers, unsigned int n)
{
	struct kiln_error err = { "" };
	int fd = open(out, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	int rc = fd >= 0 && ftruncate(fd, 32 << 20) == 0 ? 0 : -1;

	if (fd >= 0)
		close(fd);
	for (unsigned int i = 0; rc == 0 && i < n; i++)
		if ((rc = kiln_snapshot_merge(out, layers[i], &err)) < 0)
			fprintf(stderr, "merge %s: %s\n", layers[i], err.msg);
	return rc;
}

/* A restored g counts from `from` to the end and reports the status its memory adds up to. */
static void check_counts_to_end(struct guest *g, unsigned long from, const char *what)
{
	struct kiln_exit e;
	char name[256];

	read_lines(g, COUNT_END, 10000);
	snprintf(name, sizeof(name), "%s: the count goes on from %lu to the end, no gap, no repeat", what, from);
	check(counts_from(g, from) == COUNT_END, name);
	snprintf(name, sizeof(name), "%s: the guest reports the status its memory adds up to", what);
	check(kiln_vm_wait(g->vm, &e) == 0 && e.reason == KILN_EXIT_STATUS && e.guest_status == COUNT_STATUS, name);
}

/*
 * Diff snapshots: a guest that tracks dirty pages is snapshotted Full, runs on, and Diff; the Diff
 * holds a few pages where the Full holds all the guest wrote; merged onto the Full, it restores
 * and counts on. The restored guest (tracking, as saved) takes a Diff of its own: the chain Full,
 * Diff, Diff restores too. A guest restored without tracking, or booted without, refuses a Diff.
 */
static void check_diff_snapshots(const char *dir, const char *elf)
{
	char full_state[4096], full_mem[4096], d1_state[4096], d1_mem[4096], d2_state[4096], d2_mem[4096];
	char merged[4096], big[4096];
	struct kiln_error err = { "" };
	struct guest g;

	path_in(full_state, sizeof(full_state), dir, "f.state");
	path_in(full_mem, sizeof(full_mem), dir, "f.mem");
	path_in(d1_state, sizeof(d1_state), dir, "d1.state");
	path_in(d1_mem, sizeof(d1_mem), dir, "d1.mem");
	path_in(d2_state, sizeof(d2_state), dir, "d2.state");
	path_in(d2_mem, sizeof(d2_mem), dir, "d2.mem");
	path_in(merged, sizeof(merged), dir, "merged.mem");
	path_in(big, sizeof(big), dir, "big.mem");

	check(boot_tracking(&g, elf, true) == 0, "a guest that tracks dirty pages boots");
	read_lines(&g, 200, 5000);
	unsigned long full_stop = pause_and_snapshot(&g, 1, full_state, full_mem);
	check(full_stop >= 200, "it is snapshotted Full");
	check(kiln_vm_resume(g.vm) == 0, "and resumed");
	read_lines(&g, 200, 5000);
	unsigned long d1_stop = pause_and_snapshot_flags(&g, 1, d1_state, d1_mem, KILN_SNAPSHOT_DIFF);
	check(d1_stop > full_stop, "then snapshotted Diff");
	finish(&g);
	check(data_bytes(d1_mem) > 0 && data_bytes(d1_mem) * 4 <= data_bytes(full_mem),
	      "the Diff's memory file holds at most a quarter of the Full's data");

	const char *one[] = { full_mem, d1_mem };
	check(merge_layers(merged, one, 2) == 0, "the Diff is merged onto (a copy of) the Full");
	check(restore(&g, d1_state, merged, false, &err) == 0, "the merged Diff is restored");
	check(kiln_snapshot_merge(merged, d1_mem, &err) == -EBUSY && strstr(err.msg, "a running VM maps it"),
	      "a merge into the memory file a running VM maps is refused");
	read_lines(&g, 200, 5000);
	unsigned long d2_stop = pause_and_snapshot_flags(&g, d1_stop + 1, d2_state, d2_mem, KILN_SNAPSHOT_DIFF);
	check(d2_stop > d1_stop, "the restored guest counts on and takes a Diff of its own");
	finish(&g);
	const char *chain[] = { full_mem, d1_mem, d2_mem };
	check(merge_layers(merged, chain, 3) == 0, "the chain Full, Diff, Diff is merged");
	check(restore(&g, d2_state, merged, false, &err) == 0, "and restored");
	check_counts_to_end(&g, d2_stop + 1, "the chain Full, Diff, Diff");
	finish(&g);

	check(restore_tracking(&g, d2_state, merged, true, KILN_TRACK_DIRTY_OFF, &err) == 0,
	      "restored without dirty page tracking (paused)");
	check(kiln_vm_snapshot_flags(g.vm, d2_state, d2_mem, KILN_SNAPSHOT_DIFF, &err) == -EINVAL &&
	      strstr(err.msg, "track_dirty_pages") != NULL, "a Diff of it is refused, naming track_dirty_pages");
	check(kiln_vm_snapshot_flags(g.vm, d2_state, d2_mem, 1u << 7, &err) == -EINVAL &&
	      strstr(err.msg, "0x80") != NULL, "an unknown snapshot flag is refused, named");
	check(kiln_vm_config(g.vm)->track_dirty_pages == false, "its configuration says it does not track");
	finish(&g);

	int fd = open(big, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	check(fd >= 0 && ftruncate(fd, 64 << 20) == 0, "a 64 MiB memory file is made");
	if (fd >= 0)
		close(fd);
	check(kiln_snapshot_merge(big, d1_mem, &err) == -EINVAL && strchr(err.msg, '\n') == NULL &&
	      strstr(err.msg, "not the same guest RAM") != NULL,
	      "a Diff merged onto another guest's memory file is refused with one line");
}

int main(int argc, char **argv)
{
	struct kiln_error err = { "" };
	char s1[4096], m1[4096], s2[4096], m2[4096];
	struct kiln_exit e;
	struct guest g;

	if (argc != 3) {
		fprintf(stderr, "usage: test_snapshot COUNT_ELF DIR\n");
		return 2;
	}
	path_in(s1, sizeof(s1), argv[2], "1.state");
	path_in(m1, sizeof(m1), argv[2], "1.mem");
	path_in(s2, sizeof(s2), argv[2], "2.state");
	path_in(m2, sizeof(m2), argv[2], "2.mem");

	check(make_disk(argv[2]) == 0, "a disk for the guest is made");
	check(boot(&g, argv[1]) == 0, "the counting guest boots, with a disk and an entropy device");
	read_lines(&g, 200, 5000);
	check(kiln_vm_snapshot(g.vm, s1, m1, &err) == -EINVAL, "a running VM is not snapshotted");
	unsigned long first_stop = pause_and_snapshot(&g, 1, s1, m1);
	check(kiln_vm_snapshot_flags(g.vm, s1, m1, KILN_SNAPSHOT_DIFF, &err) == -EINVAL &&
	      strstr(err.msg, "dirty page tracking") != NULL, "a VM that does not track dirty pages takes no Diff");
	check(first_stop >= 200, "a VM paused midway is snapshotted");
	finish(&g);
	check_memory_file(m1);
	check_clones(s1, m1, first_stop, argv[2]);

	check(restore(&g, s1, m1, false, &err) == 0, "the snapshot is restored and started");
	read_lines(&g, 200, 5000);
	check(counts_from(&g, first_stop + 1) >= first_stop + 200,
	      "the restored guest counts on from the next number, no gap, no repeat");
	unsigned long second_stop = pause_and_snapshot(&g, first_stop + 1, s2, m2);
	check(second_stop > first_stop, "the restored VM is snapshotted in turn");
	finish(&g);

	check(restore(&g, s2, m2, true, &err) == 0, "the second snapshot is restored, paused");
	read_lines(&g, 1, 300);
	check(g.len == g.carried, "a VM restored paused prints nothing");
	check(kiln_vm_resume(g.vm) == 0, "it resumes");
	read_lines(&g, COUNT_END - (unsigned int)second_stop, 10000);
	check(counts_from(&g, second_stop + 1) == COUNT_END, "it counts on from the second snapshot to the end");
	if (counts_from(&g, second_stop + 1) != COUNT_END)
		fprintf(stderr, "from %lu: %.200s ... %s\n", second_stop + 1, g.buf,
			g.len > 200 ? g.buf + g.len - 200 : "");
	check(kiln_vm_wait(g.vm, &e) == 0 && e.reason == KILN_EXIT_STATUS && e.guest_status == COUNT_STATUS,
	      "the guest reports the status its memory adds up to");
	finish(&g);

	check_hostile_files(argv[2], s1, m1);
	check(truncate(disk_path, 1 << 20) == 0, "the guest's disk is 1 MiB again");
	check_diff_snapshots(argv[2], argv[1]);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
