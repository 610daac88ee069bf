# SPDX-License-Identifier: Apache-2.0
#
# bench/network.sh — sourced by bench/bench.sh: the network rows (bench/linux_net.sh), in a KVM test
# host of their own with ONE CPU (tests/host/README.md, "One CPU": on two, kiln's
# network boots met the emulator's fault and the kiln column stayed empty), or directly on hardware
# KVM. The guest gets its own initramfs: the bench scripts' and Debian's iperf3 with its libraries.
#
# Uses bench.sh's OUT, KILN, SW, QEMU_BIN, QEMU_MACHINE, GUEST, TINY, IP_BIN, NET_RUNS, NET_PINGS,
# IPERF_SECS, where, log, samples, notes, say, problem, note.
# shellcheck disable=SC2154 # those are bench.sh's

IPERF3_BIN=$(command -v iperf3 || true)

# net_initramfs: $OUT/initrd-net.img, kiln's test initramfs with /bench/net.sh and /bench/iperf3/ in
# front (an uncompressed cpio; the kernel unpacks concatenated archives in order). /bench/iperf3/
# holds iperf3, the libraries ldd names for it (lib/) and the loader (lib64/), as fio's disk does
# (bench.sh, fio_disk); only the network boots carry them (~8 MiB).
net_initramfs() {
	local d=$OUT/net-initrd
	rm -rf "$d" && mkdir -p "$d/bench" && cp bench/guest/net.sh "$d/bench/net.sh" || return 1
	bundle_program "$IPERF3_BIN" "$d/bench/iperf3" || return 1
	(cd "$d" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) > "$OUT/net.cpio" || return 1
	cat "$OUT/net.cpio" "$GUEST/initrd.img" > "$OUT/initrd-net.img"
}

net_figures() {
	local rc env cmdline t0
	[ -n "$IPERF3_BIN" ] || { problem "iperf3 is missing (run: make bench, or scripts/install-deps.sh iperf3)"; return 1; }
	net_initramfs || { problem "cannot make the network boots' initramfs"; return 1; }
	mkdir -p "$OUT/qemu-fw" && cp -L /usr/share/qemu/bios-microvm.bin "$OUT/qemu-fw/bios-microvm.bin" || return 1
	say "network rows ($where): $NET_RUNS boot(s) per monitor, $IPERF_SECS s each way with iperf3," \
		"$NET_PINGS pings"
	env="NET_RUNS=$NET_RUNS NET_PINGS=$NET_PINGS IPERF_SECS=$IPERF_SECS QEMU_MACHINE=$QEMU_MACHINE"
	# The guest's command line, as the boot rows read it back from kiln's guest (bench/linux.sh's
	# note): the one-CPU test host then needs no warm-up boot of its own to learn it (empty: it does).
	cmdline=$(sed -n 's/^Linux guests: command line (all monitors): \(console=[^'"'"']*\) kiln\.run=\.\.\.$/\1/p' "$notes")
	t0=$(date +%s)
	if [ "$where" = direct ]; then
		# shellcheck disable=SC2086 # $env is a list of NAME=VALUE words
		env KILN="$KILN" STOPWATCH="$SW" QEMU="$QEMU_BIN" QEMU_FW="$OUT/qemu-fw" IP="$IP_BIN" \
			IPERF3="$IPERF3_BIN" KERNEL="$GUEST/vmlinuz" INITRD="$OUT/initrd-net.img" TINY="$TINY/ready.elf" \
			BASE_CMDLINE="$cmdline" $env sh bench/linux_net.sh > "$OUT/net.out" 2>> "$log"
		rc=$?
	else
		tests/host/run.sh -m 2048 -c 1 -t 1500 -f "$KILN:/payload/kiln" -f "$SW:/payload/stopwatch" \
			-f "$QEMU_BIN:/payload/qemu-system-x86_64" -f "$OUT/qemu-fw:/payload/qemu-fw" \
			-f "$GUEST/vmlinuz:/payload/guest/vmlinuz" -f "$OUT/initrd-net.img:/payload/guest/initrd.img" \
			-f "$TINY/ready.elf:/payload/ready.elf" -f "$IP_BIN:/payload/ip" -f "$IPERF3_BIN:/payload/iperf3" \
			-f bench/linux_lib.sh:/payload/linux_lib.sh -f bench/linux_net.sh:/payload/linux_net.sh -- \
			"KILN=/payload/kiln STOPWATCH=/payload/stopwatch QEMU=/payload/qemu-system-x86_64 QEMU_FW=/payload/qemu-fw IP=/payload/ip IPERF3=/payload/iperf3 KERNEL=/payload/guest/vmlinuz INITRD=/payload/guest/initrd.img TINY=/payload/ready.elf BASE_CMDLINE='$cmdline' $env sh /payload/linux_net.sh" \
			> "$OUT/net.out" 2>> "$log"
		rc=$?
		note "net: in a KVM test host of its own with 1 CPU (tests/host/README.md, \"One CPU\"):" \
			"$(($(date +%s) - t0)) s"
	fi
	grep -v '^SAMPLE \|^NOTE ' "$OUT/net.out" >> "$log"
	sed -n 's/^SAMPLE //p' "$OUT/net.out" | tr -d '\r' >> "$samples"
	sed -n 's/^NOTE //p' "$OUT/net.out" | tr -d '\r' >> "$notes"
	# 3: complete, but some boots failed under a monitor: a finding, not a failure of the bench.
	[ $rc = 0 ] || [ $rc = 3 ] || { problem "the network rows failed (status $rc); see $log"; return 1; }
}
