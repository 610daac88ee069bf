# SPDX-License-Identifier: Apache-2.0
#
# bench/debian.sh — the Debian row of `make bench`, sourced by bench/bench.sh (bash): a stock Debian 12
# booted from a raw ext4 disk image with systemd, Debian's cloud kernel and its initramfs-tools
# initramfs, timed from exec to multi-user.target (a marker line) and to power-off (the monitor's
# exit), kiln against QEMU's microvm. See bench/README.md, "A stock distribution: Debian 12".
#   debian_figures   builds the image once (bench/guest/debian-image.sh, cached in
#                    ${KILN_CACHE:-~/.cache/kiln}/debian-image) and runs bench/guest/debian-boots.sh in a
#                    KVM test host of its own (or directly on hardware KVM); SAMPLE and NOTE lines go
#                    to bench.sh's samples and notes
#   debian_rows      the rows for bench.sh's figures.txt
# Uses bench.sh's variables (quick, where, RUNS, OUT, KILN, SW, TINY, QEMU_BIN, QEMU_MACHINE) and
# functions (say, note, problem). BENCH_DEBIAN_RUNS: boots per monitor (default RUNS; each boot takes
# minutes in the test host).

DEBIAN_DIR=${KILN_CACHE:-$HOME/.cache/kiln}/debian-image

# QUICK leaves the row out: on a fresh machine the image build (2.5-6 min here, mostly downloads),
# the test host's start with the image (1-2 min) and one boot per monitor (0.5-3 min each) would add
# 5-13 min to `make check`, more than the ~5 min it may.
DEBIAN_QUICK_SKIP="QUICK leaves the Debian 12 disk row out (image build + one boot per monitor in a test host: 5-13 min); make bench runs it"

debian_figures() {
	local d=$DEBIAN_DIR runs=${BENCH_DEBIAN_RUNS:-$RUNS} t0 rc out=$OUT/debian.out
	if [ $quick = 1 ]; then
		note "debian: $DEBIAN_QUICK_SKIP"
		return 0
	fi
	t0=$(date +%s)
	bench/guest/debian-image.sh "$d" >> "$log" 2>&1 || { problem "debian: cannot build the image in $d (see $log)"; return 1; }
	if [ $(($(date +%s) - t0)) -gt 5 ]; then
		note "debian: image built in this run ($(($(date +%s) - t0)) s): $(paste -sd';' "$d/image.txt" | sed 's/;/; /g')"
	else
		note "debian: image (cached in $d): $(paste -sd';' "$d/image.txt" | sed 's/;/; /g')"
	fi
	say "debian: $runs boot(s) per monitor to multi-user.target and power-off ($where)"
	local env="RUNS=$runs QEMU_MACHINE=$QEMU_MACHINE"
	mkdir -p "$OUT/qemu-fw" && cp -L /usr/share/qemu/bios-microvm.bin "$OUT/qemu-fw/bios-microvm.bin" ||
		{ problem "debian: cannot copy QEMU's bios-microvm.bin"; return 1; }
	if [ "$where" = direct ]; then
		# shellcheck disable=SC2086 # $env is a list of NAME=VALUE words
		env KILN="$KILN" STOPWATCH="$SW" QEMU="$QEMU_BIN" QEMU_FW="$OUT/qemu-fw" TINY="$TINY/ready.elf" \
			DISK="$d/disk.img" KERNEL="$d/vmlinuz" INITRD="$d/initrd.img" WORK="$OUT/debian" $env \
			sh bench/guest/debian-boots.sh > "$out" 2>> "$log"
		rc=$?
	else
		# The test host holds the image in its initramfs and one copy per boot in /tmp (both RAM).
		tests/host/run.sh -m 2560 -c 2 -t $((600 + runs * 2 * 900)) -f "$KILN:/payload/kiln" \
			-f "$SW:/payload/stopwatch" -f "$QEMU_BIN:/payload/qemu-system-x86_64" \
			-f "$OUT/qemu-fw:/payload/qemu-fw" -f "$TINY/ready.elf:/payload/ready.elf" \
			-f "$d/disk.img:/payload/debian/disk.img" -f "$d/vmlinuz:/payload/debian/vmlinuz" \
			-f "$d/initrd.img:/payload/debian/initrd.img" -f bench/guest/debian-boots.sh:/payload/debian-boots.sh -- \
			"KILN=/payload/kiln STOPWATCH=/payload/stopwatch QEMU=/payload/qemu-system-x86_64 QEMU_FW=/payload/qemu-fw TINY=/payload/ready.elf DISK=/payload/debian/disk.img KERNEL=/payload/debian/vmlinuz INITRD=/payload/debian/initrd.img WORK=/tmp/debian $env sh /payload/debian-boots.sh" \
			> "$out" 2>> "$log"
		rc=$?
		note "debian: in a test host of its own, 2560 MiB, 2 CPUs"
	fi
	grep -v '^SAMPLE \|^NOTE ' "$out" >> "$log"
	sed -n 's/^SAMPLE //p' "$out" | tr -d '\r' >> "$samples"
	sed -n 's/^NOTE //p' "$out" | tr -d '\r' >> "$notes"
	# 3: some boots failed under a monitor: a finding (NOTE), as in the Linux half.
	[ $rc = 0 ] || [ $rc = 3 ] || { problem "debian: the boots failed (status $rc); see $log"; return 1; }
}

debian_rows() {
	if [ $quick = 1 ]; then
		echo "debian.multi_user_ms|debian 12 disk: exec -> multi-user.target|ms|n/a: not in QUICK (see the notes)"
		return
	fi
	echo "debian.kernel_ms|debian 12 disk: exec -> kernel's 1st console line|ms|lower"
	echo "debian.multi_user_ms|debian 12 disk: exec -> multi-user.target|ms|lower"
	echo "debian.exit_ms|debian 12 disk: exec -> power-off (exit)|ms|lower"
	echo "debian.cpu_ms|debian 12 disk: CPU per VM (monitor + vCPU)|ms|lower"
}
