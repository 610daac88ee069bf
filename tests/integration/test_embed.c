/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_embed COUNTER STATUS: drives libkiln through kiln.h only, as an embedding program would. The
 * tiny guest COUNTER (tests/tiny/counter.S) prints a..z in a loop; pausing must stop its output,
 * resuming must continue the sequence exactly where it stopped, and kiln_vm_stop must end it. Metrics
 * and disk updates are exercised on the same VM. The exit fd must stay quiet while that VM runs and
 * become readable on kiln_vm_stop, and on its own when STATUS (tests/tiny/status.S) ends its VM.
 * Last, kiln_vm_destroy_before_exit hands the VM's last reference to a child process.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

static int passed, failed;

static void check(int ok, const char *name)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (ok)
		passed++;
	else
		failed++;
}

/* Reads what arrives on fd for about ms milliseconds, appending to buf; returns the bytes read. */
static size_t read_for(int fd, char *buf, size_t cap, size_t *len, int ms)
{
	size_t before = *len;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (int waited = 0; waited < ms && *len < cap; waited += 10) {
		if (poll(&p, 1, 10) <= 0)
			continue;
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n > 0)
			*len += (size_t)n;
	}
	return *len - before;
}

/* Every letter follows the one before it (a..z, then a again): nothing lost, nothing repeated. */
static int letters_continue(const char *buf, size_t len)
{
	for (size_t i = 1; i < len; i++) {
		char want = buf[i - 1] == 'z' ? 'a' : (char)(buf[i - 1] + 1);
		if (buf[i] != want)
			return 0;
	}
	return len > 0;
}

/* Writes a 1 MiB file and returns its path (static storage). */
static const char *make_disk(const char *name)
{
	static char paths[2][64];
	static int n;
	char *path = paths[n++ % 2];
	snprintf(path, sizeof(paths[0]), "/tmp/kiln-embed-%d-%s.img", (int)getpid(), name);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return NULL;
	close(fd);
	return path;
}

static void check_metrics(struct kiln_vm *vm)
{
	char buf[4096] = "";
	FILE *f = tmpfile();

	check(f && kiln_vm_write_metrics(vm, fileno(f)) == 0, "metrics are written");
	if (f) {
		rewind(f);
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	unsigned long long io = 0;
	const char *p = strstr(buf, "\"io\":");
	check(buf[0] == '{' && strstr(buf, "}\n") != NULL, "metrics are one JSON object and a newline");
	check(p && sscanf(p, "\"io\":%llu", &io) == 1 && io > 0, "metrics count the guest's port I/O exits");
	check(strstr(buf, "\"virtio-blk0\":{\"kicks\":") != NULL, "metrics list the disk's counters");
}

/* Whether fd is readable within ms milliseconds. */
static int readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* A guest that ends by itself makes the exit fd readable, with no kiln_vm_stop and no polling. */
static void check_exit_fd_on_guest_exit(const char *kernel)
{
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	struct kiln_vm *vm;
	struct kiln_exit e;

	kiln_config_init(&cfg);
	cfg.kernel_path = kernel;
	cfg.mem_bytes = 16 << 20;
	cfg.console_in_fd = cfg.console_out_fd = -1;
	if (kiln_vm_create(&cfg, &vm, &err) < 0) {
		check(0, err.msg);
		return;
	}
	int fd = kiln_vm_exit_fd(vm);
	check(fd >= 0 && !readable_within(fd, 0), "the exit fd is quiet before start");
	check(kiln_vm_start(vm, &err) == 0, "the status guest starts");
	check(readable_within(fd, 10000), "the exit fd becomes readable when the guest ends");
	check(kiln_vm_get_state(vm) == KILN_VM_STOPPED, "state is Stopped once the exit fd is readable");
	check(kiln_vm_wait(vm, &e) == 0 && e.reason == KILN_EXIT_STATUS && e.guest_status == 42,
	      "the guest's own status ended it");
	check(readable_within(fd, 0), "the exit fd stays readable");
	kiln_vm_destroy(vm);
	check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "kiln_vm_destroy closes the exit fd");
}

/* The VM fds (anon_inode:kvm-vm) this process holds, from /proc/self/fd; -1 without /proc. */
static int count_vm_fds(void)
{
	char path[300], target[64];
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir("/proc/self/fd");

	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		ssize_t len = readlink(path, target, sizeof(target) - 1);

		if (len > 0) {
			target[len] = '\0';
			n += strcmp(target, "anon_inode:kvm-vm") == 0;
		}
	}
	closedir(dir);
	return n;
}

/*
 * kiln_vm_destroy_before_exit, last (it is for a process that exits next): this process lets go of
 * the VM at once, and a child process, which ends by itself, holds its last reference.
 */
static void check_destroy_before_exit(const char *kernel)
{
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	struct kiln_vm *vm;
	struct kiln_exit e;
	int status;

	kiln_config_init(&cfg);
	cfg.kernel_path = kernel;
	cfg.mem_bytes = 16 << 20;
	cfg.console_in_fd = cfg.console_out_fd = -1;
	if (kiln_vm_create(&cfg, &vm, &err) < 0 || kiln_vm_start(vm, &err) < 0) {
		check(0, err.msg);
		return;
	}
	check(kiln_vm_wait(vm, &e) == 0 && e.guest_status == 42, "the status guest runs to its end");
	int exit_fd = kiln_vm_exit_fd(vm), before = count_vm_fds();

	kiln_vm_destroy_before_exit(vm);
	check(fcntl(exit_fd, F_GETFD) < 0 && errno == EBADF, "kiln_vm_destroy_before_exit frees the VM's fds");
	check(before < 0 || (before == 1 && count_vm_fds() == 0), "and closes the VM's own fd here");
	pid_t pid = waitpid(-1, &status, 0);
	check(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "KVM's teardown ran in a child process, which ended by itself");
}

static void check_disk_update(struct kiln_vm *vm, const char *next)
{
	struct kiln_error err = { "" };

	check(kiln_vm_update_disk(vm, 0, next, &err) == 0, "the disk can be pointed at another file");
	check(kiln_vm_update_disk(vm, 0, "/nonexistent/disk.img", &err) < 0 &&
		      strstr(err.msg, "/nonexistent/disk.img") != NULL,
	      "a missing file is refused, naming it");
	check(kiln_vm_update_disk(vm, 5, next, &err) == -EINVAL, "an unknown disk index is refused");
}

int main(int argc, char **argv)
{
	static char out[1 << 20];
	size_t len = 0;
	struct kiln_config cfg;
	struct kiln_error err = { "" };
	struct kiln_vm *vm;
	struct kiln_exit e;
	int pipefd[2];

	if (argc != 3 || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "usage: test_embed COUNTER_KERNEL STATUS_KERNEL\n");
		return 2;
	}
	kiln_config_init(&cfg);
	cfg.kernel_path = argv[1];
	cfg.mem_bytes = 16 << 20;
	cfg.console_in_fd = -1;
	cfg.console_out_fd = pipefd[1];
	const char *first = make_disk("a"), *second = make_disk("b");
	cfg.disks[0] = (struct kiln_disk){ .path = first };
	cfg.ndisks = 1;
	if (kiln_vm_create(&cfg, &vm, &err) < 0 || kiln_vm_start(vm, &err) < 0) {
		printf("not ok - the counter guest starts (%s)\n0 passed, 1 failed\n", err.msg);
		return 1;
	}
	check(kiln_vm_get_state(vm) == KILN_VM_RUNNING, "state is Running after start");
	check(read_for(pipefd[0], out, sizeof(out), &len, 300) > 0, "the guest prints while running");
	int exit_fd = kiln_vm_exit_fd(vm);
	check(exit_fd >= 0 && !readable_within(exit_fd, 0), "the exit fd is not readable while running");

	check(kiln_vm_pause(vm) == 0, "pause succeeds");
	check(kiln_vm_get_state(vm) == KILN_VM_PAUSED, "state is Paused");
	read_for(pipefd[0], out, sizeof(out), &len, 50); /* bytes written before the vCPU parked */
	check(read_for(pipefd[0], out, sizeof(out), &len, 500) == 0, "no output while paused");
	check(!readable_within(exit_fd, 0), "the exit fd is not readable while paused");
	check(kiln_vm_pause(vm) == -EINVAL, "pausing a paused VM is refused");

	check(kiln_vm_resume(vm) == 0, "resume succeeds");
	check(kiln_vm_get_state(vm) == KILN_VM_RUNNING, "state is Running after resume");
	check(read_for(pipefd[0], out, sizeof(out), &len, 300) > 0, "the guest prints again");
	check(letters_continue(out, len), "the output continues where it stopped, no byte lost");
	check(kiln_vm_resume(vm) == -EINVAL, "resuming a running VM is refused");

	check_metrics(vm);
	check_disk_update(vm, second);

	check(!readable_within(exit_fd, 0), "the exit fd is still not readable");
	kiln_vm_pause(vm);
	kiln_vm_stop(vm);
	check(readable_within(exit_fd, 0), "the exit fd is readable as soon as kiln_vm_stop returns");
	check(kiln_vm_wait(vm, &e) == 0 && e.reason == KILN_EXIT_STOPPED, "a paused VM stops");
	check(kiln_vm_get_state(vm) == KILN_VM_STOPPED, "state is Stopped");
	kiln_vm_destroy(vm);
	check_exit_fd_on_guest_exit(argv[2]);
	check_destroy_before_exit(argv[2]);
	unlink(first);
	unlink(second);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
