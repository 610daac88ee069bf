/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/args.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api_cmd.h"
#include "cli/common_opts.h"
#include "cli/snapshot_cmd.h"

enum { OPT_CPUS = CLI_OPT_OWN, OPT_VERSION, OPT_DISK, OPT_CONSOLE, OPT_RNG, OPT_VIRTIO_CMDLINE, OPT_NET,
       OPT_VSOCK, OPT_API_SOCK, OPT_TRACK_DIRTY };

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "mem", required_argument, NULL, 'm' },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "virtio-cmdline", no_argument, NULL, OPT_VIRTIO_CMDLINE },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "track-dirty-pages", no_argument, NULL, OPT_TRACK_DIRTY },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *f)
{
	fputs("usage: kiln run --kernel PATH [--initrd PATH] [--cmdline STR] [--cpus N] [--mem SIZE]\n"
	      "                [--disk PATH[,ro][,serial=ID]]... [--net tap=NAME[,mac=MAC]]...\n"
	      "                [--vsock cid=N,uds=PATH] [--console serial|virtio] [--rng]\n"
	      "                [--virtio-cmdline] [--api-sock PATH] [--track-dirty-pages] [--boot-time]\n"
	      "                [--log-level LEVEL] [-- CMD [ARGS...]]\n"
	      "       kiln snapshot --api-sock PATH [--resume] [--diff] DIR\n"
	      "       kiln restore [--api-sock PATH] [--net-tap ID=TAP]... [--disk-path ID=PATH]...\n"
	      "                    [--vsock-uds PATH] [--paused] [--clock-realtime]\n"
	      "                    [--[no-]track-dirty-pages] [--console-in PATH] [--console-out PATH]\n"
	      "                    [--log-file PATH] [--clones N] [--boot-time] [--log-level LEVEL] DIR\n"
	      "       kiln snapshot-merge BASE_MEM DIFF_MEM\n"
	      "       kiln --api-sock PATH [--config-file FILE] [--id ID] [--http-api-max-payload-size N]\n"
	      "            [--boot-time] [--log-level LEVEL]\n"
	      "       kiln --config-file FILE [--no-api] [--id ID] [--boot-time] [--log-level LEVEL]\n"
	      "       kiln --help | --version\n"
	      "\n"
	      "Boots a Linux guest under KVM with its console on this terminal.\n"
	      "\n"
	      "  -k, --kernel PATH    bzImage, or ELF vmlinux with a PVH entry note\n"
	      "  -i, --initrd PATH    initial ramdisk\n"
	      "  -c, --cmdline STR    guest kernel command line (default: \"" DEFAULT_CMDLINE "\")\n"
	      "      --cpus N         vCPUs (default 1)\n"
	      "  -m, --mem SIZE       guest RAM: 512M, 2G, ... ; a bare number is MiB (default 512M)\n"
	      "      --disk SPEC      a virtio-blk disk backed by a file: PATH[,ro][,serial=ID]; repeatable\n"
	      "      --net SPEC       a virtio-net NIC on an existing tap device: tap=NAME[,mac=MAC];\n"
	      "                       repeatable\n"
	      "      --vsock SPEC     a virtio-vsock device: cid=N (>= 3),uds=PATH (host side, as in\n"
	      "                       Firecracker: CONNECT <port> on PATH; guest connects reach PATH_<port>)\n"
	      "      --console C      serial (ttyS0, default) or virtio (hvc0)\n"
	      "      --rng            a virtio-rng device fed from the host's getrandom()\n"
	      "      --virtio-cmdline also name the virtio devices on the kernel command line\n"
	      "                       (virtio_mmio.device=), for kernels without ACPI discovery\n"
	      "      --api-sock PATH  also serve Firecracker's REST API on this Unix socket while the\n"
	      "                       guest runs (pause, resume, snapshot: see kiln snapshot)\n"
	      "      --track-dirty-pages\n"
	      "                       record the pages the guest writes, for Diff snapshots\n"
	      "      --boot-time      print on stderr the ms from start to the guest's boot-ready marker\n"
	      "                       and to the VM's exit (kiln restore: to the guest's first run)\n"
	      "      --log-level L    error, warn (default), info or debug\n"
	      "  -- CMD [ARGS...]     run CMD in the guest (kiln's guest init) and exit with its status\n"
	      "\n"
	      "kiln snapshot pauses the guest of the kiln serving --api-sock PATH and writes it to\n"
	      "DIR/state and DIR/mem (DIR is made if missing); the guest stays paused unless --resume.\n"
	      "      --diff           a Diff snapshot: DIR/mem holds only the pages written since the\n"
	      "                       guest's previous snapshot (it needs --track-dirty-pages)\n"
	      "kiln restore runs a snapshot's guest again, from DIR/state and DIR/mem, on this terminal:\n"
	      "      --net-tap ID=TAP the snapshot's NIC ID (netN: kiln run's Nth --net, from 0; through\n"
	      "                       the API, its iface_id) uses tap TAP; repeatable\n"
	      "      --disk-path ID=PATH the snapshot's disk ID (its serial, or driveN: the Nth disk, from\n"
	      "                       0) uses file PATH, of the disk's size; repeatable\n"
	      "      --vsock-uds PATH the vsock device's host socket is PATH instead of the snapshot's\n"
	      "      --paused         the guest stays paused until PATCH /vm resumes it (needs --api-sock)\n"
	      "      --clock-realtime the guest's clock moves on by the host's time since the snapshot\n"
	      "      --track-dirty-pages, --no-track-dirty-pages\n"
	      "                       record dirty pages or not (default: as the snapshot's guest did)\n"
	      "      --console-in PATH, --console-out PATH  the console's input and output files\n"
	      "      --log-file PATH  kiln's messages are appended to PATH instead of standard error\n"
	      "      --clones N       N guests from the snapshot, one process each, read once; in the\n"
	      "                       values above and --api-sock, %i is the clone's index (0..N-1), %% a\n"
	      "                       %; each clone's tap, writable disk, sockets and console output\n"
	      "                       need %i. Exit status: 0 if every clone's is, else the first other\n"
	      "                       clone's (by index); a line for each clone as it ends\n"
	      "kiln snapshot-merge copies the pages of a Diff snapshot's DIFF_MEM over BASE_MEM, the\n"
	      "memory file of the snapshot before it, in place: BASE_MEM then goes with the Diff's state.\n"
	      "\n"
	      "With --api-sock, kiln answers Firecracker's REST API (HTTP on that Unix socket) and boots\n"
	      "the guest on PUT /actions InstanceStart; with --config-file it boots from Firecracker's\n"
	      "JSON config file (and serves the API too if --api-sock is also given). The console is\n"
	      "this terminal either way, and kiln exits when the guest ends.\n"
	      "\n"
	      "Exit status: the guest command's status (0 if the guest ended without one and no CMD was\n"
	      "given); 122 CMD given but no status reported; 123 the guest crashed; 124 the guest kernel\n"
	      "panicked; 125 kiln failed (bad flag, file, snapshot or /dev/kvm).\n",
	      f);
}

static int suffix_shift(const char *suffix)
{
	static const struct { const char *names[3]; int shift; } units[] = {
		{ { "K", "KiB", "KB" }, 10 },
		{ { "M", "MiB", "MB" }, 20 },
		{ { "G", "GiB", "GB" }, 30 },
		{ { "T", "TiB", "TB" }, 40 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		for (size_t j = 0; j < 3; j++)
			if (strcasecmp(suffix, units[i].names[j]) == 0)
				return units[i].shift;
	return -1;
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	int shift = 20; /* a bare number is MiB */

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0') {
		shift = suffix_shift(end);
		if (shift < 0)
			return -EINVAL;
	}
	if (n > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = (uint64_t)n << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned int *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	unsigned long n = strtoul(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || n > UINT32_MAX)
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

/* "a,,b", "a," or ",a": strtok_r would skip the empty field, and a typo would pass unnoticed. */
static bool has_empty_field(const char *spec)
{
	size_t len = strlen(spec);

	return len == 0 || spec[0] == ',' || spec[len - 1] == ',' || strstr(spec, ",,") != NULL;
}

int cli_parse_disk(char *spec, struct kiln_disk *d, char *err, size_t errlen)
{
	char *save = NULL;

	if (spec[0] == '\0' || spec[0] == ',')
		return fail_einval(err, errlen, "--disk '%s': no file path", spec);
	if (has_empty_field(spec))
		return fail_einval(err, errlen, "--disk '%s': an empty option (a stray ',')", spec);
	char *path = strtok_r(spec, ",", &save);
	*d = (struct kiln_disk){ .path = path };
	for (char *opt = strtok_r(NULL, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (strcmp(opt, "ro") == 0) {
			d->read_only = true;
		} else if (strncmp(opt, "serial=", 7) == 0) {
			d->serial = opt + 7;
		} else {
			return fail_einval(err, errlen, "--disk %s: unknown option '%s' (use ro or serial=ID)",
					   path, opt);
		}
	}
	return 0;
}

/* Copies a device flag's value into spec (size bytes), where the parser splits it in place. */
static int copy_spec(const char *flag, const char *arg, char *spec, size_t size, char *err, size_t errlen)
{
	size_t len = strlen(arg);

	if (len >= size)
		return fail_einval(err, errlen, "%s: value of %zu bytes is too long", flag, len);
	memcpy(spec, arg, len + 1);
	return 0;
}

static int parse_disk_option(const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	unsigned int i = o->cfg.ndisks;

	if (i == KILN_MAX_DISKS)
		return fail_einval(err, errlen, "--disk %s: at most %d disks", arg, KILN_MAX_DISKS);
	int rc = copy_spec("--disk", arg, o->buf.disk_specs[i], sizeof(o->buf.disk_specs[i]), err, errlen);
	if (rc == 0)
		rc = cli_parse_disk(o->buf.disk_specs[i], &o->cfg.disks[i], err, errlen);
	if (rc == 0)
		o->cfg.ndisks++;
	return rc;
}

int cli_parse_net(char *spec, struct kiln_net *n, char *err, size_t errlen)
{
	char *save = NULL;

	*n = (struct kiln_net){ 0 };
	if (has_empty_field(spec))
		return fail_einval(err, errlen, "--net '%s': an empty option (a stray ',')", spec);
	for (char *opt = strtok_r(spec, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (strncmp(opt, "tap=", 4) == 0 && opt[4]) {
			n->tap = opt + 4;
		} else if (strncmp(opt, "mac=", 4) == 0) {
			if (parse_mac(opt + 4, n->mac) < 0)
				return fail_einval(err, errlen, "--net %s: not a MAC address (XX:XX:XX:XX:XX:XX)", opt);
			n->mac_set = true;
		} else {
			return fail_einval(err, errlen, "--net: unknown option '%s' (use tap=NAME[,mac=MAC])",
					   opt);
		}
	}
	if (n->tap == NULL)
		return fail_einval(err, errlen, "--net: tap=NAME is required");
	return 0;
}

static int parse_net_option(const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	unsigned int i = o->cfg.nnets;

	if (i == KILN_MAX_NETS)
		return fail_einval(err, errlen, "--net %s: at most %d NICs", arg, KILN_MAX_NETS);
	int rc = copy_spec("--net", arg, o->buf.net_specs[i], sizeof(o->buf.net_specs[i]), err, errlen);
	if (rc == 0)
		rc = cli_parse_net(o->buf.net_specs[i], &o->cfg.nets[i], err, errlen);
	if (rc == 0)
		o->cfg.nnets++;
	return rc;
}

int cli_parse_vsock(char *spec, struct kiln_vsock *v, char *err, size_t errlen)
{
	char *save = NULL;
	bool have_cid = false;

	*v = (struct kiln_vsock){ 0 };
	if (has_empty_field(spec))
		return fail_einval(err, errlen, "--vsock '%s': an empty option (a stray ',')", spec);
	for (char *opt = strtok_r(spec, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (strncmp(opt, "cid=", 4) == 0) {
			if (parse_uint(opt + 4, &v->guest_cid) < 0)
				return fail_einval(err, errlen, "--vsock %s: not a number", opt);
			have_cid = true;
		} else if (strncmp(opt, "uds=", 4) == 0 && opt[4]) {
			v->uds_path = opt + 4;
		} else {
			return fail_einval(err, errlen, "--vsock: unknown option '%s' (use cid=N,uds=PATH)",
					   opt);
		}
	}
	if (!have_cid || v->uds_path == NULL)
		return fail_einval(err, errlen, "--vsock: both cid=N and uds=PATH are required");
	/* kiln_config_validate refuses the other reserved CIDs; 0 would read there as "no vsock device". */
	if (v->guest_cid == 0)
		return fail_einval(err, errlen, "--vsock cid=0: reserved; a guest CID is 3 or above");
	return 0;
}

static int parse_option(int opt, const char *arg, struct cli_options *o, char *err, size_t errlen)
{
	switch (opt) {
	case 'k':
		o->cfg.kernel_path = arg;
		return 0;
	case 'i':
		o->cfg.initrd_path = arg;
		return 0;
	case 'c':
		o->user_cmdline = arg;
		return 0;
	case OPT_CPUS:
		if (parse_uint(arg, &o->cfg.vcpus) < 0)
			return fail_einval(err, errlen, "--cpus %s: not a whole number", arg);
		return 0;
	case 'm':
		if (cli_parse_size(arg, &o->cfg.mem_bytes) < 0)
			return fail_einval(err, errlen, "--mem %s: not a size (examples: 512M, 2G, 1024)", arg);
		return 0;
	case OPT_DISK:
		return parse_disk_option(arg, o, err, errlen);
	case OPT_NET:
		return parse_net_option(arg, o, err, errlen);
	case OPT_VSOCK:
		if (copy_spec("--vsock", arg, o->buf.vsock_spec, sizeof(o->buf.vsock_spec), err, errlen) < 0)
			return -EINVAL;
		return cli_parse_vsock(o->buf.vsock_spec, &o->cfg.vsock, err, errlen);
	case OPT_CONSOLE:
		if (strcmp(arg, "serial") == 0)
			o->cfg.console = KILN_CONSOLE_SERIAL;
		else if (strcmp(arg, "virtio") == 0)
			o->cfg.console = KILN_CONSOLE_VIRTIO;
		else
			return fail_einval(err, errlen, "--console %s: use serial or virtio", arg);
		return 0;
	case OPT_RNG:
		o->cfg.rng = true;
		return 0;
	case OPT_VIRTIO_CMDLINE:
		o->cfg.virtio_cmdline = true;
		return 0;
	case OPT_VERSION:
		o->action = CLI_VERSION;
		return 0;
	case OPT_API_SOCK:
		o->api_sock = arg;
		return 0;
	case OPT_TRACK_DIRTY:
		o->cfg.track_dirty_pages = true;
		return 0;
	default:
		return cli_common_option(opt, arg, o, err, errlen);
	}
}

static int parse_run(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
	int opt;

	optind = 1; /* argv[0] is "run" */
	opterr = 0; /* kiln prints its own one-line errors */
	while ((opt = getopt_long(argc, argv, "+k:i:c:m:h", run_options, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			const char *bad = argv[optind - 1];
			if (optopt && strchr("kicm", optopt))
				return fail_einval(err, errlen, "%s: needs a value", bad);
			return fail_einval(err, errlen, "unknown option '%s' (see kiln run --help)", bad);
		}
		int rc = parse_option(opt, optarg, o, err, errlen);
		if (rc < 0)
			return rc;
		if (o->action != CLI_RUN)
			return 0;
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return fail_einval(err, errlen, "unexpected argument '%s' (a guest command goes after --)",
				   argv[optind]);
	if (optind < argc) {
		o->guest_argv = &argv[optind];
		o->guest_argc = argc - optind;
	}
	if (o->cfg.kernel_path == NULL)
		return fail_einval(err, errlen, "--kernel is required (see kiln run --help)");
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
	memset(o, 0, offsetof(struct cli_options, buf));
	kiln_config_init(&o->cfg);
	api_cmd_defaults(o);
	o->log_level = LOG_WARN;
	if (argc < 2)
		return fail_einval(err, errlen, "no command (see kiln --help)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		o->action = CLI_HELP;
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		o->action = CLI_VERSION;
		return 0;
	}
	if (strncmp(argv[1], "--", 2) == 0)
		return api_cmd_parse(argc, argv, o, err, errlen); /* Firecracker's command line */
	if (strcmp(argv[1], "snapshot") == 0)
		return snapshot_cmd_parse(argc - 1, argv + 1, o, err, errlen);
	if (strcmp(argv[1], "restore") == 0)
		return restore_cmd_parse(argc - 1, argv + 1, o, err, errlen);
	if (strcmp(argv[1], "snapshot-merge") == 0)
		return merge_cmd_parse(argc - 1, argv + 1, o, err, errlen);
	if (strcmp(argv[1], "run") != 0)
		return fail_einval(err, errlen, "unknown command '%s' (see kiln --help)", argv[1]);
	return parse_run(argc - 1, argv + 1, o, err, errlen);
}

/* Bytes that stand for themselves in kiln.run=; everything else becomes %XX (tests/guest/init.c). */
static bool is_plain(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("._/:=+@^-", c) != NULL);
}

int cli_build_cmdline(const char *base, char *const *argv, int argc, char *out, size_t outlen)
{
	size_t len = (size_t)snprintf(out, outlen, "%s", base);

	if (len >= outlen)
		return -E2BIG;
	if (argc == 0)
		return 0;
	len += (size_t)snprintf(out + len, outlen - len, " kiln.run=");
	for (int i = 0; i < argc && len < outlen; i++) {
		if (i > 0)
			out[len++] = ',';
		for (const unsigned char *p = (const unsigned char *)argv[i]; *p && len < outlen; p++) {
			if (is_plain(*p))
				out[len++] = (char)*p;
			else
				len += (size_t)snprintf(out + len, outlen - len, "%%%02X", *p);
		}
	}
	if (len >= outlen)
		return -E2BIG;
	out[len] = '\0';
	return 0;
}
