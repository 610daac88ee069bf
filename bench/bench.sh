#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/bench.sh — `make bench`: kiln against QEMU's microvm on the same guests, in one run, as ratios.
# usage: bench/bench.sh [--quick]        (make bench [QUICK=1]; see bench/README.md)
#
# 1. Monitor-only figures, directly on this machine's /dev/kvm, with the tiny guests of bench/tiny/.
# 2. Linux-guest figures (the Debian cloud kernel + kiln's initramfs), all monitors in one KVM test
#    host boot (tests/host/run.sh) where this machine's KVM cannot run Linux (PVM, or none), and the
#    network rows in a one-CPU test host of their own (bench/network.sh); or directly on hardware KVM.
# Every figure is measured for both monitors the same way, interleaved A B A B. Prints one table
# (median, min-max, kiln/QEMU ratio) and writes build/bench/results.json. Nothing here asserts a time.
#
# Inputs (make bench builds or installs them): build/kiln, build/bench/{stopwatch,tiny/*.elf},
# build/guest/{vmlinuz,initrd.img}, Debian's fio and mkfs.ext4 (the block figures), iperf3 (the
# network figures). Environment:
# BENCH_LINUX=auto|host|direct|off (where the Linux half runs), BENCH_QEMU_MACHINE (QEMU's -M value),
# KILN_CACHE (where `make bench-kernel` put the minimal kernel).
set -u
# The whole script is one compound command, read before it runs: editing this file cannot derail
# a bench already running.
{
quick=0
case ${1:-} in
--quick) quick=1 ;;
'') ;;
*) echo "usage: bench/bench.sh [--quick]" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
B=build
OUT=$B/bench
KILN=$B/kiln
SW=$OUT/stopwatch
TINY=$OUT/tiny
GUEST=$B/guest
MIN_KERNEL_DIR=${KILN_CACHE:-$HOME/.cache/kiln}/bench-kernel
QEMU_BIN=$(command -v qemu-system-x86_64 || true)
FIO_BIN=$(command -v fio || true)
MKFS_EXT4=$(PATH=$PATH:/usr/sbin:/sbin command -v mkfs.ext4 || true)
# QEMU's machine: microvm with the legacy devices kiln's machine has (the in-kernel PIC; no PIT, as kiln
# has none: its fastest comparable set-up, bench/README.md), the serial port, no option ROMs, and the
# command line left as given. rtc=on: kiln's FADT tells Linux there is no CMOS RTC, QEMU's does not,
# and with rtc=off the guest probes a missing RTC (seconds under TCG).
QEMU_MACHINE=${BENCH_QEMU_MACHINE:-microvm,x-option-roms=off,pic=on,pit=off,rtc=on,isa-serial=on,auto-kernel-cmdline=off}
MEM_MIB=128

if [ $quick = 1 ]; then
	N_TINY=11 N_EXIT=3 RATE_CHUNKS=2 RATE_CHUNK_S=2.5 IDLE_RUNS=1 N_IDLE=20
	RUNS=3 MEM_RUNS=1 IO_RUNS=1 IO_SECS=2 NET_RUNS=1 IPERF_SECS=2
else
	N_TINY=20 N_EXIT=10 RATE_CHUNKS=6 RATE_CHUNK_S=5 IDLE_RUNS=3 N_IDLE=20
	RUNS=10 MEM_RUNS=3 IO_RUNS=3 IO_SECS=5 NET_RUNS=3 IPERF_SECS=5
fi
NET_PINGS=10
# The snapshot rows (bench/snapshot.sh): guest RAM sizes in MiB, snapshots (each restored once) per
# size and monitor; the tiny guest on this machine's KVM, the Linux guest in the test host.
if [ $quick = 1 ]; then
	SNAP_TINY_SIZES=128 SNAP_TINY_RUNS=3 SNAP_SIZES=128 SNAP_RUNS=1
else
	SNAP_TINY_SIZES="128 4096" SNAP_TINY_RUNS=10 SNAP_SIZES="128 1024 4096" SNAP_RUNS=3
fi
# iproute2's ip for the network figures' namespace and tap (busybox ip has neither).
IP_BIN=$(PATH=$PATH:/usr/sbin:/sbin command -v ip || true)

mkdir -p "$OUT" || exit 2
# One bench at a time per tree: runs share build/bench/, and two would also skew each other's figures.
exec 9> "$OUT/.lock"
if ! flock -n 9; then
	echo "bench: another make bench is running in this tree; waiting for it" >&2
	flock 9
fi
samples=$OUT/samples.txt notes=$OUT/notes.txt log=$OUT/bench.log
: > "$samples"; : > "$notes"; : > "$log"
started=$(date +%s)

problems=0	# runs that failed (not slow: failed); bench exits 1 when there were any
say() { echo "bench: $*" >&2; echo "bench: $*" >> "$log"; }
problem() { problems=$((problems + 1)); say "$*"; }
note() { echo "$*" >> "$notes"; }
sample() { echo "$1 $2 $3" >> "$samples"; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
fail() { say "$*"; exit 1; }
# kiln against kvmtool (bench/peers.sh): functions, and its own samples and table.
# shellcheck source=bench/peers.sh
. bench/peers.sh
# The network rows, in a one-CPU test host of their own (bench/network.sh, bench/linux_net.sh).
# shellcheck source=bench/network.sh
. bench/network.sh
# A stock Debian 12 from a disk image (bench/debian.sh): functions.
# shellcheck source=bench/debian.sh
. bench/debian.sh

for f in "$KILN" "$SW" "$TINY/ready.elf" "$TINY/idle.elf" "$TINY/pio.elf" \
	"$TINY/mmio.elf"; do
	[ -e "$f" ] || fail "$f is missing (run: make bench)"
done
[ -n "$QEMU_BIN" ] || fail "qemu-system-x86_64 is missing (run: make bench, or scripts/install-deps.sh qemu-system-x86)"
[ -n "$FIO_BIN" ] || fail "fio is missing (run: make bench, or scripts/install-deps.sh fio)"
[ -n "$MKFS_EXT4" ] || fail "mkfs.ext4 is missing (run: make bench, or scripts/install-deps.sh e2fsprogs)"
[ -n "$IP_BIN" ] || fail "ip is missing (run: make bench, or scripts/install-deps.sh iproute2)"

# --- what was measured, on what -------------------------------------------------------------------
kvm_kind=none
if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then kvm_kind=hardware
elif [ -d /sys/module/kvm_pvm ]; then kvm_kind=pvm
elif [ -e /dev/kvm ]; then kvm_kind=unknown
fi
note "mode: $([ $quick = 1 ] && echo QUICK || echo full); host: $(nproc) CPUs, Linux $(uname -r), /dev/kvm: $kvm_kind"
note "kiln: $($KILN --version 2>&1 | head -n 1) ($(git describe --always --dirty 2>/dev/null || echo no git))"
note "QEMU: $($QEMU_BIN --version | head -n 1) -M $QEMU_MACHINE"
note "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. monitor-only figures with tiny guests, directly on /dev/kvm -------------------------------
kiln_tiny() { echo "$KILN run --kernel $1 --cpus 1 --mem ${MEM_MIB}M ${KILN_EXTRA:-}"; }
qemu_tiny() {
	echo "$QEMU_BIN -M $QEMU_MACHINE -enable-kvm -cpu $QEMU_CPU -smp 1 -m $MEM_MIB -nodefaults" \
		"-no-user-config -nographic -no-reboot -serial stdio" \
		"-device isa-debug-exit,iobase=0xf4,iosize=1 -kernel $1"
}
# The status each monitor exits with when the guest reports 0: QEMU's isa-debug-exit gives (0<<1)|1.
ok_status() { [ "$1" = kiln ] && echo 0 || echo 1; }
cmd_for() { if [ "$1" = kiln ]; then kiln_tiny "$2"; else qemu_tiny "$2"; fi; }

# run1 SIDE GUEST STOPWATCH-OPTS...: one stopwatch run of a tiny guest; prints its result line.
run1() {
	local side=$1 guest=$2
	shift 2
	# shellcheck disable=SC2046
	$SW "$@" -t 30000 -o "$OUT/tiny.out" -- $(cmd_for "$side" "$TINY/$guest.elf")
}

tiny_figures() {
	local i side r st
	# QEMU's -cpu: `host`, unless this KVM refuses it (PVM refuses MSR 0x10a, ARCH_CAPABILITIES).
	QEMU_CPU=host
	r=$(run1 qemu ready -m READY)
	if [ "$(field status "$r")" != 1 ]; then
		QEMU_CPU=host,-arch-capabilities
		r=$(run1 qemu ready -m READY)
		[ "$(field status "$r")" = 1 ] || { problem "QEMU cannot boot the tiny guest: $r"; return 1; }
	fi
	note "tiny guests: QEMU -cpu $QEMU_CPU; both boot bench/tiny/*.elf through PVH"

	say "tiny guests: boot, CPU and memory, $N_TINY runs each, interleaved"
	for i in $(seq "$N_TINY"); do
		for side in kiln qemu; do
			# kiln also prints its own --boot-time line (setup-cpu: CPU before the first KVM_RUN).
			r=$(KILN_EXTRA=--boot-time run1 $side ready -m READY)
			echo "ready $side $r" >> "$log"
			st=$(field status "$r")
			if [ "$st" = "$(ok_status $side)" ] && [ "$(field m1_ms "$r")" != NA ]; then
				sample tiny.ready_ms $side "$(field m1_ms "$r")"
				sample tiny.exit_ms $side "$(field exit_ms "$r")"
				sample tiny.cpu_ms $side "$(field cpu_ms "$r")"
				sample tiny.peak_rss_mib $side "$(awk -v k="$(field maxrss_kb "$r")" 'BEGIN { printf "%.2f", k / 1024 }')"
				if [ $side = kiln ]; then
					st=$(sed -n 's/.*kiln: boot-time:.* setup-cpu=\([0-9.]*\) ms.*/\1/p' "$OUT/tiny.out")
					[ -n "$st" ] && sample tiny.setup_cpu_ms kiln "$st"
				fi
			else
				problem "tiny ready run $i under $side failed: $r"
			fi
			r=$(run1 $side idle -m READY -s -k -g $((MEM_MIB * 1024)))
			echo "idle $side $r" >> "$log"
			if [ "$(field hwm_kb "$r")" != NA ] && [ -n "$(field hwm_kb "$r")" ]; then
				sample tiny.cpu_ready_ms $side "$(field cpu_ready_ms "$r")"
				sample tiny.overhead_mib $side "$(awk -v h="$(field hwm_kb "$r")" -v g="$(field guest_kb "$r")" 'BEGIN { printf "%.2f", (h - g) / 1024 }')"
			else
				problem "tiny idle run $i under $side failed: $r"
			fi
		done
	done

	say "tiny guests: exit round trips, $N_EXIT runs each"
	local kind n
	n=$(sed -n 's/^#define BENCH_EXITS \([0-9]*\).*/\1/p' bench/tiny/bench.h)
	for i in $(seq "$N_EXIT"); do
		for kind in pio mmio; do
			for side in kiln qemu; do
				r=$(run1 $side $kind -m READY -m DONE)
				echo "$kind $side $r" >> "$log"
				if [ "$(field status "$r")" = "$(ok_status $side)" ] && [ "$(field m2_ms "$r")" != NA ]; then
					sample tiny.${kind}_exit_us $side "$(awk -v a="$(field m1_ms "$r")" -v b="$(field m2_ms "$r")" -v n="$n" 'BEGIN { printf "%.3f", (b - a) * 1000 / n }')"
				else
					problem "tiny $kind run $i under $side failed: $r"
				fi
			done
		done
	done

	say "tiny guests: VMs per second, 2 at a time, $RATE_CHUNKS x ${RATE_CHUNK_S} s each, alternating"
	for i in $(seq "$RATE_CHUNKS"); do
		for side in kiln qemu; do
			# shellcheck disable=SC2046
			r=$($SW rate -j 2 -d "$RATE_CHUNK_S" -e "$(ok_status $side)" -- $(cmd_for $side "$TINY/ready.elf"))
			echo "rate $side $r" >> "$log"
			[ "$(field failed "$r")" = 0 ] || problem "VMs/s chunk $i under $side: some runs failed: $r"
			sample tiny.vms_per_s $side "$(field vms_per_s "$r")"
		done
	done

	say "tiny guests: $N_IDLE idle VMs at once, $IDLE_RUNS time(s) each"
	for i in $(seq "$IDLE_RUNS"); do
		for side in kiln qemu; do
			# shellcheck disable=SC2046
			r=$($SW idle -n "$N_IDLE" -m READY -g $((MEM_MIB * 1024)) -t 60000 -- \
				$(cmd_for $side "$TINY/idle.elf"))
			echo "idle$N_IDLE $side $r" >> "$log"
			if [ "$(field ready "$r")" = "$N_IDLE" ]; then
				sample tiny.idle_rss_mib $side "$(awk -v k="$(field rss_kb "$r")" 'BEGIN { printf "%.1f", k / 1024 }')"
				sample tiny.idle_pss_mib $side "$(awk -v k="$(field pss_kb "$r")" 'BEGIN { printf "%.1f", k / 1024 }')"
			else
				problem "$N_IDLE idle VMs under $side: only $(field ready "$r") became ready"
			fi
		done
	done
}

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	tiny_figures || note "tiny guests: QEMU could not boot them here; see $log"
	peer_figures || peer_note "kvmtool: the run failed part-way; see $log"
else
	note "tiny guests: not measured: /dev/kvm is not usable here"
fi

# --- 2. Linux-guest figures -------------------------------------------------------------------------
where=${BENCH_LINUX:-auto}
if [ "$where" = auto ]; then
	if [ $kvm_kind = hardware ]; then where=direct; else where=host; fi
fi
min_kernel=""
for k in vmlinux bzImage; do
	[ -s "$MIN_KERNEL_DIR/$k" ] && { min_kernel=$MIN_KERNEL_DIR/$k; break; }
done
[ -n "$min_kernel" ] || note "minimal bench kernel: not built, its rows are skipped (make bench-kernel builds it into $MIN_KERNEL_DIR)"

# bundle_program BIN DIR: DIR/<BIN's name>, the shared libraries ldd names for it in DIR/lib and the
# dynamic loader as DIR/lib64/ld-linux-x86-64.so.2, for the guest to run as
# `DIR/lib64/ld-linux-x86-64.so.2 --library-path DIR/lib DIR/<name>` (its own libraries, not the guest's).
bundle_program() {
	local bin=$1 d=$2 l libs loader
	mkdir -p "$d/lib" "$d/lib64" && cp -L "$bin" "$d/" || return 1
	libs=$(ldd "$bin") || { say "ldd $bin failed"; return 1; }
	if echo "$libs" | grep -q 'not found'; then
		say "$bin: its libraries are not all there: $(echo "$libs" | grep 'not found' | tr -s ' \t\n' ' ')"
		return 1
	fi
	for l in $(echo "$libs" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		cp -L "$l" "$d/lib/" || return 1
	done
	loader=$(echo "$libs" | awk '$1 ~ /^\/.*ld-linux-x86-64/ { print $1 }')
	[ -n "$loader" ] || { say "ldd names no ld-linux-x86-64 for $bin"; return 1; }
	cp -L "$loader" "$d/lib64/ld-linux-x86-64.so.2"
}

# fio_disk: $OUT/fio.img, the block boots' second disk: a read-only ext4 image with this machine's fio,
# the shared libraries ldd names for it (lib/) and the dynamic loader (lib64/), for
# bench/guest/fio.sh to run as `/mnt/lib64/ld-linux-x86-64.so.2 --library-path /mnt/lib /mnt/fio`.
# fio needs ~60 libraries (librbd, librados, ...: ~80 MiB): on a disk of their own they stay out of
# the initramfs, so the boot figures do not carry them.
fio_disk() {
	local d=$OUT/fio-disk kib
	rm -rf "$d" && bundle_program "$FIO_BIN" "$d" || return 1
	# Room for the files plus the file system's own blocks; no journal (mounted read-only).
	kib=$(du -sk "$d" | cut -f1)
	rm -f "$OUT/fio.img"
	"$MKFS_EXT4" -q -F -L kiln-fio -b 4096 -O ^has_journal -m 0 -E root_owner=0:0 -d "$d" "$OUT/fio.img" \
		"$((kib + kib / 8 + 4096))k" > /dev/null || { say "mkfs.ext4 of $OUT/fio.img failed"; return 1; }
	note "block: fio $(dpkg-query -W -f='${Version}' fio 2>/dev/null) (Debian's) in the guest, from a" \
		"read-only ext4 disk ($(find "$d/lib" -type f | wc -l) libraries and the loader, $((kib >> 10)) MiB)"
}

linux_figures() {
	local extra=$OUT/initrd-extra
	fio_disk || { problem "cannot make the fio disk"; return 1; }
	# The bench initramfs: kiln's test initramfs with /bench/fio.sh and /bench/idle.sh added as a
	# second, uncompressed cpio archive in front (the kernel unpacks concatenated archives in order).
	rm -rf "$extra" && mkdir -p "$extra/bench" || return 1
	cp bench/guest/fio.sh "$extra/bench/fio.sh" || return 1
	printf '#!/bin/sh\necho READY\nexec sleep 100000\n' > "$extra/bench/idle.sh"
	chmod +x "$extra/bench/idle.sh"
	(cd "$extra" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) > "$OUT/bench.cpio" || return 1
	cat "$OUT/bench.cpio" "$GUEST/initrd.img" > "$OUT/initrd-bench.img" || return 1
	rm -rf "$OUT/qemu-fw" && mkdir -p "$OUT/qemu-fw" || return 1
	cp -L /usr/share/qemu/bios-microvm.bin "$OUT/qemu-fw/bios-microvm.bin" || return 1

	local env="RUNS=$RUNS MEM_RUNS=$MEM_RUNS IO_RUNS=$IO_RUNS IO_SECS=$IO_SECS QEMU_MACHINE=$QEMU_MACHINE"
	local rc
	# kvmtool's column of the Linux boot rows (bench/peers.sh builds lkvm, or says why not).
	[ -n "$LKVM" ] || peer_kvmtool_build
	if [ "$where" = direct ]; then
		note "Linux guests: run directly on this machine's KVM"
		# shellcheck disable=SC2086 # $env is a list of NAME=VALUE words
		env KILN="$KILN" STOPWATCH="$SW" QEMU="$QEMU_BIN" QEMU_FW="$OUT/qemu-fw" LKVM="$LKVM" \
			FIO_DISK="$OUT/fio.img" \
			KERNEL="$GUEST/vmlinuz" INITRD="$OUT/initrd-bench.img" TINY="$TINY/ready.elf" \
			MIN_KERNEL="$min_kernel" $env sh bench/linux.sh > "$OUT/linux.out" 2>> "$log"
		rc=$?
	else
		note "Linux guests: inside KVM test hosts (tests/host/run.sh, QEMU TCG + nested KVM; 2 CPUs, the network rows 1): compare ratios, not absolute figures"
		local files=(-f "$KILN:/payload/kiln" -f "$SW:/payload/stopwatch"
			-f "$QEMU_BIN:/payload/qemu-system-x86_64" -f "$OUT/qemu-fw:/payload/qemu-fw"
			-f "$GUEST/vmlinuz:/payload/guest/vmlinuz" -f "$OUT/initrd-bench.img:/payload/guest/initrd.img"
			-f "$TINY/ready.elf:/payload/ready.elf" -f bench/linux.sh:/payload/linux.sh
			-f bench/linux_lib.sh:/payload/linux_lib.sh -f "$OUT/fio.img:/payload/fio.img")
		local mk="" lk=""
		if [ -n "$min_kernel" ]; then
			files+=(-f "$min_kernel:/payload/guest/min-kernel")
			mk=/payload/guest/min-kernel
		fi
		if [ -n "$LKVM" ]; then
			files+=(-f "$LKVM:/payload/lkvm")
			lk=/payload/lkvm
		fi
		tests/host/run.sh -m 3072 -c 2 -t 1500 "${files[@]}" -- \
			"KILN=/payload/kiln STOPWATCH=/payload/stopwatch QEMU=/payload/qemu-system-x86_64 QEMU_FW=/payload/qemu-fw LKVM=$lk FIO_DISK=/payload/fio.img KERNEL=/payload/guest/vmlinuz INITRD=/payload/guest/initrd.img TINY=/payload/ready.elf MIN_KERNEL=$mk $env sh /payload/linux.sh" \
			> "$OUT/linux.out" 2>> "$log"
		rc=$?
	fi
	grep -v '^SAMPLE \|^NOTE ' "$OUT/linux.out" >> "$log"
	sed -n 's/^SAMPLE //p' "$OUT/linux.out" | tr -d '\r' >> "$samples"
	sed -n 's/^NOTE //p' "$OUT/linux.out" | tr -d '\r' >> "$notes"
	# 3: complete, but some boots failed under a monitor: a finding (a NOTE line says so), not a
	# failure of the bench; `make check` runs QUICK only to see the bench complete.
	[ $rc = 0 ] || [ $rc = 3 ] || { problem "the Linux-guest half failed (status $rc); see $log"; return 1; }
}

if [ "$where" = off ]; then
	note "Linux guests: not measured (BENCH_LINUX=off)"
else
	say "Linux guests ($where): $RUNS boots per monitor, $IO_RUNS block run(s) of 3 x $IO_SECS s"
	linux_figures || note "Linux guests: the run failed part-way; rows without samples are empty (see $log)"
	net_figures || note "net: the run failed part-way; rows without samples are empty (see $log)"
fi

# --- snapshot and restore: one counting guest saved and brought back by each monitor ---------------
# bench/snapshot.sh runs the same way here (tiny guest, bench/tiny/count.S) and in the test host
# (Linux guest, bench/guest/count.sh); see bench/README.md, "Snapshot and restore".

# snapshot_collect FILE STATUS: FILE's SAMPLE and NOTE lines into the samples and notes, the rest into
# the log; STATUS 3 (some runs failed) is a finding, anything else but 0 a problem.
snapshot_collect() {
	grep -v '^SAMPLE \|^NOTE ' "$1" >> "$log"
	sed -n 's/^SAMPLE //p' "$1" | tr -d '\r' >> "$samples"
	sed -n 's/^NOTE //p' "$1" | tr -d '\r' >> "$notes"
	[ "$2" = 0 ] || [ "$2" = 3 ] || { problem "snapshot rows: $1: status $2; see $log"; return 1; }
}

snapshot_tiny() {
	if [ ! -e "$TINY/count.elf" ] || [ ! -e "$OUT/sockchat" ]; then
		problem "snapshot rows: $TINY/count.elf or $OUT/sockchat is missing (run: make bench)"
		return 1
	fi
	say "snapshot rows, tiny guest: $SNAP_TINY_RUNS snapshot(s) and restore(s) per monitor of $SNAP_TINY_SIZES MiB"
	KILN=$top/$KILN STOPWATCH=$top/$SW SOCKCHAT=$top/$OUT/sockchat QEMU=$QEMU_BIN QEMU_MACHINE=$QEMU_MACHINE \
		QEMU_CPU=${QEMU_CPU:-} PROBE=$top/$TINY/ready.elf KERNEL=$top/$TINY/count.elf INITRD='' \
		PREFIX=snap-tiny SIZES="$SNAP_TINY_SIZES" RUNS=$SNAP_TINY_RUNS LIMIT_MS=30000 WORK="$top/$OUT/snap-tiny" \
		sh bench/snapshot.sh > "$OUT/snap-tiny.out" 2>> "$log"
	snapshot_collect "$OUT/snap-tiny.out" $?
}

snapshot_linux() {
	local extra=$OUT/snap-initrd m host_mib=3072 rc
	# The initramfs: kiln's test initramfs with /bench/count.sh in front (as linux_figures does).
	rm -rf "$extra" && mkdir -p "$extra/bench" && cp bench/guest/count.sh "$extra/bench/count.sh" || return 1
	(cd "$extra" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) > "$OUT/snap.cpio" || return 1
	cat "$OUT/snap.cpio" "$GUEST/initrd.img" > "$OUT/initrd-snap.img" || return 1
	mkdir -p "$OUT/qemu-fw" && cp -L /usr/share/qemu/bios-microvm.bin "$OUT/qemu-fw/bios-microvm.bin" || return 1
	say "snapshot rows, Linux guest ($where): $SNAP_RUNS snapshot(s) and restore(s) per monitor of $SNAP_SIZES MiB"
	if [ "$where" = direct ]; then
		KILN=$top/$KILN STOPWATCH=$top/$SW SOCKCHAT=$top/$OUT/sockchat QEMU=$QEMU_BIN QEMU_FW=$top/$OUT/qemu-fw \
			QEMU_MACHINE=$QEMU_MACHINE PROBE=$top/$TINY/ready.elf KERNEL=$top/$GUEST/vmlinuz \
			INITRD=$top/$OUT/initrd-snap.img PREFIX=snap-linux SIZES="$SNAP_SIZES" RUNS=$SNAP_RUNS LIMIT_MS=180000 \
			WORK=$top/$OUT/snap-linux sh bench/snapshot.sh > "$OUT/snap-linux.out" 2>> "$log"
		rc=$?
	else
		# The test host holds the largest guest's RAM: QEMU maps it whole (the kernel's overcommit
		# heuristic refuses a mapping larger than the test host's RAM), kiln with MAP_NORESERVE.
		for m in $SNAP_SIZES; do
			[ $((m + 1024)) -le $host_mib ] || host_mib=$((m + 1024))
		done
		tests/host/run.sh -m $host_mib -c 2 -t 1500 -f "$KILN:/payload/kiln" -f "$SW:/payload/stopwatch" \
			-f "$OUT/sockchat:/payload/sockchat" -f "$QEMU_BIN:/payload/qemu-system-x86_64" \
			-f "$OUT/qemu-fw:/payload/qemu-fw" -f "$GUEST/vmlinuz:/payload/guest/vmlinuz" \
			-f "$OUT/initrd-snap.img:/payload/guest/initrd.img" -f "$TINY/ready.elf:/payload/ready.elf" \
			-f bench/snapshot.sh:/payload/snapshot.sh -- \
			"KILN=/payload/kiln STOPWATCH=/payload/stopwatch SOCKCHAT=/payload/sockchat QEMU=/payload/qemu-system-x86_64 QEMU_FW=/payload/qemu-fw QEMU_MACHINE=$QEMU_MACHINE PROBE=/payload/ready.elf KERNEL=/payload/guest/vmlinuz INITRD=/payload/guest/initrd.img PREFIX=snap-linux SIZES='$SNAP_SIZES' RUNS=$SNAP_RUNS LIMIT_MS=180000 WORK=/tmp/snap sh /payload/snapshot.sh" \
			> "$OUT/snap-linux.out" 2>> "$log"
		rc=$?
		note "snapshot rows, Linux guest: in a test host of its own, $host_mib MiB, 2 CPUs"
	fi
	snapshot_collect "$OUT/snap-linux.out" $rc
}

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	snapshot_tiny || note "snapshot rows, tiny guest: the run failed; see $log"
fi
if [ "$where" != off ]; then
	snapshot_linux || note "snapshot rows, Linux guest: the run failed part-way; rows without samples are empty (see $log)"
fi

if [ "$where" != off ]; then
	debian_figures || note "debian: the run failed part-way; its rows may be empty (see $log)"
fi

note "elapsed: $(($(date +%s) - started)) s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 3. the table and results.json ---------------------------------------------------------------
# id|label|unit|better. A row with no samples on either side prints "-"; "n/a:" rows are not measured.
cat > "$OUT/figures.txt" <<EOF
tiny.ready_ms|tiny: exec -> READY line|ms|lower
tiny.exit_ms|tiny: exec -> exit|ms|lower
tiny.cpu_ms|tiny: CPU per VM (user+sys)|ms|lower
tiny.cpu_ready_ms|tiny: CPU until READY|ms|lower
tiny.setup_cpu_ms|tiny: CPU before 1st KVM_RUN (kiln --boot-time)|ms|lower
tiny.peak_rss_mib|tiny: peak RSS|MiB|lower
tiny.overhead_mib|tiny: peak RSS - guest RAM touched|MiB|lower
tiny.vms_per_s|tiny: VMs/s, 2 at a time|VMs/s|higher
tiny.idle_rss_mib|tiny: $N_IDLE idle VMs, total RSS|MiB|lower
tiny.idle_pss_mib|tiny: $N_IDLE idle VMs, total PSS|MiB|lower
tiny.pio_exit_us|tiny: exit round trip, PIO write|us|lower
tiny.mmio_exit_us|tiny: exit round trip, MMIO write|us|lower
host-tiny.ready_ms|test host, tiny: exec -> READY line|ms|lower
host-tiny.exit_ms|test host, tiny: exec -> exit|ms|lower
linux.ready_ms|linux: exec -> READY line|ms|lower
linux.exit_ms|linux: exec -> exit (-- echo READY)|ms|lower
linux.cpu_ms|linux: CPU per VM (monitor + vCPU)|ms|lower
linux.setup_cpu_ms|linux: CPU before 1st KVM_RUN (kiln --boot-time)|ms|lower
linux.overhead_mib|linux: peak RSS - guest RAM touched|MiB|lower
linux.guest_touched_mib|linux: guest RAM touched at READY|MiB|info
blk.seq_write_mbs|block: sequential write, 1 MiB O_DIRECT|MB/s|higher
blk.seq_read_mbs|block: sequential read, 1 MiB O_DIRECT|MB/s|higher
blk.randread_iops|block: 4 KiB random read, QD1 O_DIRECT|IOPS|higher
net.iperf_g2h|net: TCP guest -> host (iperf3, ${IPERF_SECS} s)|MB/s|higher
net.iperf_h2g|net: TCP host -> guest (iperf3 -R, ${IPERF_SECS} s)|MB/s|higher
net.ping|net: ping round trip (median of $NET_PINGS)|ms|lower
EOF
if [ -n "$min_kernel" ]; then
	cat >> "$OUT/figures.txt" <<EOF
linux-min.ready_ms|minimal kernel: exec -> READY line|ms|lower
linux-min.exit_ms|minimal kernel: exec -> exit|ms|lower
linux-min.cpu_ms|minimal kernel: CPU per VM|ms|lower
linux-min.setup_cpu_ms|minimal kernel: CPU before 1st KVM_RUN (kiln)|ms|lower
linux-min.overhead_mib|minimal kernel: peak RSS - guest RAM touched|MiB|lower
EOF
else
	echo "linux-min.ready_ms|minimal kernel: exec -> READY line|ms|n/a: not built (make bench-kernel)" >> "$OUT/figures.txt"
fi

# mib_label MIB: "128 MiB", "4 GiB".
mib_label() { if [ $(($1 % 1024)) = 0 ]; then echo "$(($1 / 1024)) GiB"; else echo "$1 MiB"; fi; }
# snapshot_rows PREFIX WHAT SIZES: the snapshot rows of one guest (bench/snapshot.sh's figures).
snapshot_rows() {
	local p=$1 what=$2 m
	echo "$p.pause_ms|snapshot, $what: pause (QEMU: stop)|ms|lower"
	for m in $3; do
		echo "$p.$m.create_ms|snapshot, $what $(mib_label "$m"): create, paused|ms|lower"
		echo "$p.$m.disk_mib|snapshot, $what $(mib_label "$m"): files on disk (du)|MiB|lower"
	done
	echo "$p.state_kib|snapshot, $what: kiln's state file|KiB|info"
	for m in $3; do
		echo "$p.$m.restore_ms|restore, $what $(mib_label "$m"): exec -> 1st count line|ms|lower"
		echo "$p.$m.restore_rss_mib|restore, $what $(mib_label "$m"): RSS at 1st count line|MiB|lower"
	done
}
{ snapshot_rows snap-tiny tiny "$SNAP_TINY_SIZES"; snapshot_rows snap-linux linux "$SNAP_SIZES"; } >> "$OUT/figures.txt"
debian_rows >> "$OUT/figures.txt"

awk -f bench/report.awk -v quick=$quick -v json="$OUT/results.json" -v notes="$notes" \
	"$OUT/figures.txt" "$samples"
peer_report
say "results: $OUT/results.json, $OUT/results-kvmtool.json; samples: $samples, $peer_samples; log: $log"
[ $problems = 0 ] || { say "$problems problem(s): some runs failed (see $log)"; exit 1; }
exit 0
}
