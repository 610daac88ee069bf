#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest/debian-boots.sh — the Debian row's boots (bench/debian.sh starts it inside the KVM test
# host, or directly on hardware KVM; busybox sh). Boots the Debian 12 disk image of
# bench/guest/debian-image.sh under kiln and under QEMU's microvm, interleaved A B A B, each boot on a
# fresh copy of the disk, and prints
#   SAMPLE <figure> <kiln|qemu> <value>    debian.kernel_ms, debian.multi_user_ms, debian.exit_ms,
#                                          debian.cpu_ms
#   NOTE <text>                            the failed units each monitor's boots reported
# Exit status: 0; 3 when some boots failed (a finding, in a NOTE); 1 when it could not do its work.
#
# Environment (paths where this runs):
#   KILN STOPWATCH QEMU QEMU_FW QEMU_MACHINE   the monitors, the timer, QEMU's firmware dir and -M
#   TINY                 bench/tiny/ready.elf, to probe QEMU's -cpu choice cheaply
#   DISK KERNEL INITRD   the image and the kernel and initramfs from its /boot
#   RUNS                 boots per monitor
#   WORK                 a directory for the disk copies (tmpfs in the test host)
# shellcheck disable=SC2046,SC2086 # command lines are built as words on purpose (no spaces in paths)
set -u

: "${RUNS:=1}" "${WORK:=/tmp/debian}"
MEM_MIB=512
LIMIT_MS=900000	# per boot: systemd under TCG and nested SVM takes minutes on a busy machine
MARK=KILN-BENCH-MULTI-USER
# The second marker: the first line the guest kernel prints with a timestamp ("[    0.85] ..."; with
# quiet, its first message of level err or above). Time before it is the monitor's start, loading
# the kernel and initramfs, and the kernel's own decompression and early set-up.
KMARK='['
# Debian's own boot line (quiet, root read-only until systemd-remount-fs) with kiln's defaults, the
# same for both monitors. CMDLINE overrides it (e.g. without quiet, to see where a boot's time goes).
: "${CMDLINE:=console=ttyS0 reboot=k panic=-1 pci=off root=/dev/vda ro quiet}"
mkdir -p "$WORK" || exit 1
say() { echo "bench/debian-boots.sh: $*" >&2; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

qemu_base() {
	echo "$QEMU -L $QEMU_FW -M $QEMU_MACHINE -enable-kvm -cpu $QEMU_CPU -smp 1 -m $MEM_MIB" \
		"-nodefaults -no-user-config -nographic -no-reboot -serial stdio"
}
# QEMU's -cpu: `host` unless this KVM refuses it (as bench/linux.sh); the tiny guest's status 0 is
# QEMU's exit code 1 through isa-debug-exit.
QEMU_CPU=host
for c in host host,-arch-capabilities; do
	QEMU_CPU=$c
	r=$($STOPWATCH -m READY -t 60000 -- $(qemu_base) -device isa-debug-exit,iobase=0xf4,iosize=1 -kernel "$TINY")
	[ "$(field status "$r")" = 1 ] && break
	[ $c = host ] || { say "QEMU does not boot the tiny guest here: $r"; exit 1; }
done

# boot SIDE DISK OUT: one boot, to power-off; prints the stopwatch line. Both monitors: 1 vCPU, the
# disk as virtio-blk (QEMU: on virtio-mmio), the serial console, no NIC.
boot() {
	if [ "$1" = kiln ]; then
		$STOPWATCH -m $MARK -m "$KMARK" -t $LIMIT_MS -o "$3" -- "$KILN" run --kernel "$KERNEL" --initrd "$INITRD" \
			--cmdline "$CMDLINE" --cpus 1 --mem ${MEM_MIB}M --disk "$2"
	else
		$STOPWATCH -m $MARK -m "$KMARK" -t $LIMIT_MS -o "$3" -- $(qemu_base) \
			-drive file="$2",format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0 \
			-kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE"
	fi
}

failed_runs=0
failed_units_kiln="" failed_units_qemu=""
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	for side in kiln qemu; do
		# A fresh disk per boot: no boot sees another's journal, fsck state or random seed. (GNU cp,
		# on hardware KVM: reflinked or sparse where the file system allows; in the test host busybox
		# copies it whole into tmpfs.)
		cp "$DISK" "$WORK/disk.img" || { say "cannot copy $DISK to $WORK"; exit 1; }
		r=$(boot $side "$WORK/disk.img" "$WORK/out")
		rm -f "$WORK/disk.img"
		say "debian boot $i $side: $r"
		tr -d '\r' < "$WORK/out" > "$WORK/out.txt"
		# The console (quiet: a few lines) goes to the log.
		sed "s/^/bench\/debian-boots.sh: debian boot $i $side: /" "$WORK/out.txt" >&2
		if [ "$(field status "$r")" != 0 ] || [ "$(field m1_ms "$r")" = NA ]; then
			failed_runs=$((failed_runs + 1))
			say "debian boot $i $side failed (its output is above)"
			continue
		fi
		[ "$(field m2_ms "$r")" = NA ] || echo "SAMPLE debian.kernel_ms $side $(field m2_ms "$r")"
		echo "SAMPLE debian.multi_user_ms $side $(field m1_ms "$r")"
		echo "SAMPLE debian.exit_ms $side $(field exit_ms "$r")"
		echo "SAMPLE debian.cpu_ms $side $(field cpu_ms "$r")"
		# Not anchored: the getty on the console may have put its prompt in front of a line.
		u=$(sed -n 's/.*KILN-BENCH-FAILED //p' "$WORK/out.txt" | tr '\n' ' ')
		if [ $side = kiln ]; then failed_units_kiln="$failed_units_kiln$u"; else failed_units_qemu="$failed_units_qemu$u"; fi
	done
done
for side in kiln qemu; do
	if [ $side = kiln ]; then u=$failed_units_kiln; else u=$failed_units_qemu; fi
	u=$(for x in $u; do echo "$x"; done | sort | uniq -c | awk '{ printf "%s%s (%d)", sep, $2, $1; sep = ", " }')
	echo "NOTE debian: failed units at multi-user.target under $side: ${u:-none}"
done
if [ $failed_runs != 0 ]; then
	echo "NOTE debian: FAILED RUNS: $failed_runs boot(s) failed (the log has their output)"
	exit 3
fi
exit 0
