#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/clones_linux.sh KILN CLONE_START GUEST_DIR [RUNS]: the Linux clone rows of the full `make
# bench` (issue 12, "Measure and report"). One snapshot of a 256 MiB Linux guest that counts on its
# console (bench/guest/count.sh, as in bench/snapshot.sh) is started as 1, 4 and 16 clones at once
# (`kiln restore --clones N --console-out FIFO%i`), RUNS times each (default 3), and the same guest
# is booted fresh 16 times at once (16 `kiln run`, once). bench/tools/clone_start times each VM from
# the start to its first whole `count` line (a clone: its first line after the resume); when every
# VM has printed, it runs this script's --sample, which adds up the PSS (/proc/PID/smaps_rollup) of
# every kiln process and reads the host's used memory (MemTotal - MemAvailable); the host's used
# memory is also read just before the start. Prints a table of medians over the runs, and the ratios
# clones / fresh boots. Nothing is asserted: the figures are for reading (bench/README.md).
#
# Runs in a KVM test host of 5 GiB (tests/host/run.sh: 16 fresh guests' 256 MiB fit in it whole)
# where this machine's KVM cannot run Linux, directly on hardware KVM, not at all with
# BENCH_LINUX=off (as bench/bench.sh). In the test host (or directly) it runs as
#   clones_linux.sh --inside   with KILN CLONE_START KERNEL INITRD RUNS WORK in the environment
# and prints its raw lines (`clones N ...`, `fresh N ...`), which the outer call turns into the table.
set -u

MEM_MIB=256 AFTER=20 FRESH=16 HOST_MIB=$((16 * 256 + 1024))

# used_kb: the host's used memory, MemTotal - MemAvailable, in KiB.
used_kb() {
	awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { print t - a }' /proc/meminfo
}

# ppid PID: the parent of process PID.
ppid() { awk '/^PPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# --sample (clone_start -x): while every VM is up: the sum of the PSS of every kiln process that
# clone_start started (each `kiln run`; the --clones parent and its clones, a generation below), how
# many there are, and the host's used memory.
if [ "${1:-}" = --sample ]; then
	: "${CLONE_START_PID:?}"
	pss=0 procs=0
	for p in $(pidof kiln); do
		[ "$(ppid "$p")" = "$CLONE_START_PID" ] || [ "$(ppid "$(ppid "$p")")" = "$CLONE_START_PID" ] || continue
		k=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
		[ -n "$k" ] || continue
		pss=$((pss + k)) procs=$((procs + 1))
	done
	echo "pss_kb=$pss kiln_procs=$procs used_after_kb=$(used_kb)"
	exit 0
fi

if [ "${1:-}" = --inside ]; then
	: "${KILN:?}" "${CLONE_START:?}" "${KERNEL:?}" "${INITRD:?}" "${WORK:?}" "${RUNS:=3}"
	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	w=$WORK
	rm -rf "$w" && mkdir -p "$w" || exit 2
	pid=
	trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$w"' EXIT
	trap 'exit 130' INT TERM
	say() { echo "clones_linux: $*" >&2; }

	# The guest boots, counts, and is snapshotted once it has counted to $AFTER; then killed.
	"$KILN" run --kernel "$KERNEL" --initrd "$INITRD" --cpus 1 --mem ${MEM_MIB}M --api-sock "$w/api" \
		-- sh /bench/count.sh </dev/null >"$w/boot.out" 2>&1 &
	pid=$!
	end=$(($(date +%s) + 300))
	until grep -q "^count $AFTER" "$w/boot.out"; do
		if ! kill -0 $pid 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
			say "the guest did not count to $AFTER; its output:"; tail -n 20 "$w/boot.out" >&2
			exit 1
		fi
		sleep 0.2
	done
	"$KILN" snapshot --api-sock "$w/api" "$w/snap" || { say "kiln snapshot failed"; exit 1; }
	kill -KILL $pid
	wait $pid 2>/dev/null
	pid=
	say "snapshot: $(du -k "$w/snap/state" "$w/snap/mem" | tr '\t\n' '= ')(KiB on disk)"

	# one KIND N ARGS...: one start of N VMs by clone_start ARGS; prints its figures on one line.
	one() {
		kind=$1 n=$2
		shift 2
		sync
		before=$(used_kb)
		r=$("$CLONE_START" -n "$n" -m count -t 600000 -e "$w/err" -x "sh $self --sample" "$@" | tr '\n' ' ')
		echo "$kind $n used_before_kb=$before $r"
		sleep 2	# the VMs' memory goes back to the host before the next start
	}
	for run in $(seq "$RUNS"); do
		for n in 1 4 16; do
			one clones $n -f "$w/fifo%i" -- "$KILN" restore --clones $n --console-out "$w/fifo%i" "$w/snap"
		done
		say "clones: run $run of $RUNS done"
	done
	one fresh $FRESH -- "$KILN" run --kernel "$KERNEL" --initrd "$INITRD" --cpus 1 --mem ${MEM_MIB}M -- sh /bench/count.sh
	[ -s "$w/err" ] && { say "the VMs' standard error:"; tail -n 20 "$w/err" >&2; }
	exit 0
fi

# --- the outer call: make bench's full run --------------------------------------------------------
[ $# -ge 3 ] || { echo "usage: $0 KILN CLONE_START GUEST_DIR [RUNS]" >&2; exit 2; }
kiln=$1 watch=$2 guest=$3 runs=${4:-3}
out=$(dirname "$kiln")/bench
where=${BENCH_LINUX:-auto}
if [ "$where" = auto ]; then
	if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then where=direct; else where=host; fi
fi
[ "$where" != off ] || { echo "Linux clone rows: not measured (BENCH_LINUX=off)"; exit 0; }

# The initramfs: kiln's test initramfs with /bench/count.sh in front (as bench/bench.sh's snapshot rows).
extra=$out/clones-initrd
rm -rf "$extra" && mkdir -p "$extra/bench" && cp bench/guest/count.sh "$extra/bench/count.sh" || exit 2
(cd "$extra" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) >"$out/clones.cpio" || exit 2
cat "$out/clones.cpio" "$guest/initrd.img" >"$out/initrd-clones.img" || exit 2
raw=$out/clones-linux.out
echo "Linux clone rows ($where): 1, 4, 16 clones of one ${MEM_MIB} MiB snapshot, $runs runs; $FRESH fresh boots, once" >&2
if [ "$where" = direct ]; then
	KILN=$kiln CLONE_START=$watch KERNEL=$guest/vmlinuz INITRD=$out/initrd-clones.img RUNS=$runs \
		WORK=$(pwd)/$out/clones-linux sh "$0" --inside >"$raw" 2>"$out/clones-linux.log"
else
	tests/host/run.sh -m $HOST_MIB -c 2 -t 1500 -f "$kiln:/payload/kiln" -f "$watch:/payload/clone_start" \
		-f "$guest/vmlinuz:/payload/guest/vmlinuz" -f "$out/initrd-clones.img:/payload/guest/initrd.img" \
		-f "$0:/payload/clones_linux.sh" -- \
		"KILN=/payload/kiln CLONE_START=/payload/clone_start KERNEL=/payload/guest/vmlinuz INITRD=/payload/guest/initrd.img RUNS=$runs WORK=/tmp/clones sh /payload/clones_linux.sh --inside" \
		>"$raw" 2>"$out/clones-linux.log"
fi
rc=$?
tr -d '\r' <"$raw" | grep -v '^clones \|^fresh ' >>"$out/clones-linux.log"
[ $rc = 0 ] || { echo "Linux clone rows: failed (status $rc); see $out/clones-linux.log" >&2; exit 1; }

# The table: per kind and N, the medians over the runs; MiB; then the ratios clones / fresh.
tr -d '\r' <"$raw" | grep '^clones \|^fresh ' | awk -v mem=$MEM_MIB -v where="$where" -v hostmib=$HOST_MIB '
function med(key,   n, i, j, t, a) {
	n = cnt[key]
	for (i = 1; i <= n; i++) a[i] = v[key, i]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function put(row, name, x) { k = row SUBSEP name; v[k, ++cnt[k]] = x }
{
	row = $1 " " $2; delete f
	for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	if (f["started"] != $2) { bad[row]++; next }
	put(row, "median", f["median_ms"]); put(row, "max", f["max_ms"])
	put(row, "pss", f["pss_kb"] / 1024); put(row, "before", f["used_before_kb"] / 1024)
	put(row, "after", f["used_after_kb"] / 1024); put(row, "added", (f["used_after_kb"] - f["used_before_kb"]) / 1024)
	put(row, "procs", f["kiln_procs"])
}
function fig(row, name) { return cnt[row SUBSEP name] ? med(row SUBSEP name) : "" }
END {
	printf "Linux guest, %d MiB, clones of one snapshot (kiln restore --clones N) and fresh boots (kiln run), started at once\n", mem
	printf "%-24s %3s %10s %10s %9s %11s %11s %11s %11s %5s\n", "how", "N", "median_ms", "max_ms", "pss_mib",
		"pss_mib/VM", "used_before", "used_after", "used_added", "procs"
	split("clones 1,clones 4,clones 16,fresh 16", order, ",")
	for (o = 1; o <= 4; o++) {
		row = order[o]; split(row, p, " ")
		label = p[1] == "clones" ? "kiln restore --clones" : "kiln run (fresh boots)"
		if (bad[row]) printf "# %s %s: %d run(s) where not every VM printed\n", label, p[2], bad[row]
		if (fig(row, "median") == "") { printf "%-24s %3s %10s\n", label, p[2], "-"; continue }
		printf "%-24s %3d %10.0f %10.0f %9.1f %11.2f %11.0f %11.0f %11.0f %5d\n", label, p[2], fig(row, "median"),
			fig(row, "max"), fig(row, "pss"), fig(row, "pss") / p[2], fig(row, "before"), fig(row, "after"),
			fig(row, "added"), fig(row, "procs")
	}
	f16 = "fresh 16"; c16 = "clones 16"
	if (fig(f16, "median") != "" && fig(c16, "median") != "") {
		printf "clones 16 / fresh 16: time to first output median %.3f, max %.3f; sum of PSS %.3f; used memory added %.3f\n",
			fig(c16, "median") / fig(f16, "median"), fig(c16, "max") / fig(f16, "max"),
			fig(c16, "pss") / fig(f16, "pss"), fig(c16, "added") / fig(f16, "added")
		for (o = 1; o <= 2; o++) {
			row = order[o]; split(row, p, " ")
			if (fig(row, "pss") != "")
				printf "clones %d / fresh, per VM: PSS %.3f; used memory added %.3f\n", p[2],
					(fig(row, "pss") / p[2]) / (fig(f16, "pss") / 16), (fig(row, "added") / p[2]) / (fig(f16, "added") / 16)
		}
	}
	printf "  medians over the runs; MiB; used = MemTotal - MemAvailable of the %s, before the start and when every VM had printed\n",
		where == "host" ? "KVM test host (" hostmib " MiB, 2 CPUs, TCG: compare ratios)" : "host"
}'
