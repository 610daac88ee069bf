#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/linux.sh — the Linux-guest boot, memory and block rows of `make bench`. Runs INSIDE the KVM
# test host (busybox sh), started by bench/bench.sh through tests/host/run.sh (two CPUs); boots the
# same kernel, initramfs and command line under kiln, QEMU's microvm and, for the boot and memory
# rows, kvmtool, interleaved A B C A B C, and prints one line per measurement:
#   SAMPLE <figure> <kiln|qemu|kvmtool> <value>
# plus "NOTE <text>" lines that bench.sh carries into the report. Nothing here judges a figure. The
# network rows are bench/linux_net.sh's (a one-CPU test host of their own); both source
# bench/linux_lib.sh (its header lists the environment they share).
#
# Environment besides linux_lib.sh's (paths inside the test host):
#   INITRD                        includes /bench/fio.sh and /bench/idle.sh
#   FIO_DISK                      the read-only ext4 image with fio, its libraries and the loader
#   RUNS MEM_RUNS IO_RUNS IO_SECS how many boots per side, and seconds per block job
#   MIN_KERNEL                    the minimal bench kernel, when built (else empty)
# Command lines are built as words on purpose (paths here have no spaces): SC2046, SC2086.
# shellcheck disable=SC2046,SC2086,SC2153
set -u

: "${RUNS:=3}" "${MEM_RUNS:=1}" "${IO_RUNS:=1}" "${IO_SECS:=2}" "${MIN_KERNEL:=}"
DISK=/tmp/bench-disk.img
# shellcheck source=bench/linux_lib.sh
. "$(dirname "$0")/linux_lib.sh"
note "test host: QEMU -cpu $QEMU_CPU"
note "Linux guests: command line (all monitors): $BASE_CMDLINE kiln.run=..."

# --- boot: exec -> READY, exec -> exit, CPU ---------------------------------------------------------
# boots PREFIX KERNEL SIDES
boots() {
	prefix=$1 kernel=$2 sides=$3
	i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		for side in $sides; do
			r=$(boot $side "$kernel" "$w/out" -m READY -- echo READY)
			say "$prefix boot $i $side: $r"
			if [ "$(field status "$r")" != "$(ok_status $side)" ] || [ "$(field m1_ms "$r")" = NA ]; then
				failed "$prefix boot $i $side"
				continue
			fi
			echo "SAMPLE $prefix.ready_ms $side $(field m1_ms "$r")"
			echo "SAMPLE $prefix.exit_ms $side $(field exit_ms "$r")"
			echo "SAMPLE $prefix.cpu_ms $side $(field cpu_ms "$r")"
			if [ $side = kiln ]; then
				s=$(sed -n 's/.*kiln: boot-time:.* setup-cpu=\([0-9.]*\) ms.*/\1/p' "$w/out" | tail -n 1)
				[ -n "$s" ] && echo "SAMPLE $prefix.setup_cpu_ms kiln $s"
			fi
		done
	done
	# memory: the guest prints READY and sleeps; sample the monitor, then kill it.
	i=0
	while [ $i -lt "$MEM_RUNS" ]; do
		i=$((i + 1))
		for side in $sides; do
			r=$(boot $side "$kernel" "$w/out" -m READY -s -k -g $GUEST_KB -- /bench/idle.sh)
			say "$prefix memory $i $side: $r"
			h=$(field hwm_kb "$r") g=$(field guest_kb "$r")
			if [ -z "$h" ] || [ "$h" = NA ]; then
				failed "$prefix memory $i $side"
				continue
			fi
			echo "SAMPLE $prefix.overhead_mib $side $(awk -v h="$h" -v g="$g" 'BEGIN { printf "%.2f", (h - g) / 1024 }')"
			echo "SAMPLE $prefix.guest_touched_mib $side $(awk -v g="$g" 'BEGIN { printf "%.2f", g / 1024 }')"
		done
	done
}

# --- the monitors alone in the test host: the tiny guest, exec -> READY and exit ------------------
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	for side in kiln qemu; do
		if [ $side = kiln ]; then
			r=$($STOPWATCH -m READY -t 60000 -- "$KILN" run --kernel "$TINY" --cpus 1 --mem ${MEM_MIB}M)
		else
			r=$($STOPWATCH -m READY -t 60000 -- $(qemu_base) -kernel "$TINY")
		fi
		say "tiny $i $side: $r"
		if [ "$(field status "$r")" = "$(ok_status $side)" ] && [ "$(field m1_ms "$r")" != NA ]; then
			echo "SAMPLE host-tiny.ready_ms $side $(field m1_ms "$r")"
			echo "SAMPLE host-tiny.exit_ms $side $(field exit_ms "$r")"
		else
			failed_runs=$((failed_runs + 1))
		fi
	done
done

# kvmtool boots bzImages (not the minimal kernel's PVH vmlinux): a column of the Linux rows only.
linux_sides="kiln qemu"
[ -n "$LKVM" ] && linux_sides="kiln qemu kvmtool"
boots linux "$KERNEL" "$linux_sides"

# --- block: virtio-blk on a 64 MiB file in the test host's tmpfs, measured by fio in the guest ------
# bench/guest/fio.sh prints fio's terse (v3) lines, one per job: 3;fio-VERSION;JOB;GROUP;ERROR; then
# the read status from field 6 (KiB, bandwidth KiB/s, IOPS, runtime ms, ...), the write status from
# field 47 (the same fields). MB/s = 10^6 bytes per second.
dd if=/dev/zero of=$DISK bs=1M count=64 2>/dev/null || { say "cannot make $DISK"; exit 1; }
[ -s "${FIO_DISK:-}" ] || { say "no fio disk (FIO_DISK=${FIO_DISK:-})"; exit 1; }
i=0
while [ $i -lt "$IO_RUNS" ]; do
	i=$((i + 1))
	for side in kiln qemu; do
		r=$(WITH_DISK=1 boot $side "$KERNEL" "$w/out" -- sh /bench/fio.sh "$IO_SECS")
		say "block $i $side: $r"
		tr -d '\r' < "$w/out" > "$w/fio.out"
		# fio's own lines go to the log as they are.
		grep '^FIO-DEVICE \|^3;fio-' "$w/fio.out" | sed "s/^/bench\/linux.sh: block $i $side: /" >&2
		if [ "$(field status "$r")" != "$(ok_status $side)" ]; then
			failed "block $i $side"
			continue
		fi
		res=$(awk -F';' -v side=$side '
		$1 != 3 || $2 !~ /^fio-/ || NF < 50 { next }
		$5 != 0 { print "job " $3 ": error " $5; next }
		$3 == "seq_write" { printf "SAMPLE blk.seq_write_mbs %s %.1f\n", side, $48 * 1024 / 1e6 }
		$3 == "seq_read" { printf "SAMPLE blk.seq_read_mbs %s %.1f\n", side, $7 * 1024 / 1e6 }
		$3 == "randread" { printf "SAMPLE blk.randread_iops %s %d\n", side, $8 }
		' "$w/fio.out")
		echo "$res" | grep '^SAMPLE '
		n=$(echo "$res" | grep -c '^SAMPLE ')
		[ "$n" = 3 ] || failed "block $i $side: fio reported $n of 3 jobs $(echo "$res" | grep -v '^SAMPLE ')"
	done
done

if [ -n "$MIN_KERNEL" ]; then
	boots linux-min "$MIN_KERNEL" "kiln qemu"
fi
finish
