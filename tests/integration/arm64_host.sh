#!/bin/sh
# shellcheck disable=SC2016 # guest commands are single-quoted: the guest shell expands them
# tests/integration/arm64_host.sh — the arm64 KVM test host (tests/host/run.sh --arch arm64) itself,
# and QEMU's own KVM boot of the arm64 test guest in it: the reference the arm64 kiln is measured
# against. Runs under busybox sh inside that test host (make check-linux-arm64, check-host-arm64).
#
# env: GUEST             directory with Image and initrd.img (tests/guest/build.sh --arch arm64)
#      KVM_PROBE         tests/host/kvm_probe_arm64.c, built static for arm64
#      REF_QEMU          Debian's arm64 qemu-system-aarch64 (tests/host/arm64-qemu.sh: OUTDIR/qemu)
#      KILN_TEST_TIMEOUT seconds one boot may take (default 300)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test and `# measure: ...` lines for the
# reference boot, then `N passed, M failed`; exits 1 if any test failed.
# SPDX-License-Identifier: Apache-2.0

: "${GUEST:?GUEST=dir with Image and initrd.img}" "${KVM_PROBE:?KVM_PROBE=kvm-probe}" "${REF_QEMU:?REF_QEMU=arm64 qemu}"
. "$(dirname "$0")/lib.sh"

require_kvm "$GUEST/Image" "$GUEST/initrd.img" "$KVM_PROBE" "$REF_QEMU"

# The kernel brought KVM up at EL2 (kvm_arm_init: "VHE mode initialized successfully", or nVHE's
# "Hyp mode initialized successfully").
line=$(dmesg | grep -o 'kvm \[[0-9]*\]: .*mode initialized.*' | head -n 1)
if [ -n "$line" ]; then ok "the test host's kernel runs KVM: $line"
else not_ok "the test host's kernel runs KVM" "no 'kvm [N]: ... mode initialized' in dmesg: $(dmesg | grep -i kvm | tail -n 3 | tr '\n' ' ')"; fi

"$KVM_PROBE" > "$w/out" 2> "$w/err"
rc=$?
if [ "$rc" = 0 ]; then ok "/dev/kvm holds a VM, a vCPU (preferred target $(sed -n 's/^kvm-probe: target //p' "$w/out"), PSCI 0.2) and a GICv3"
else not_ok "/dev/kvm holds a VM, a vCPU with PSCI 0.2 and a GICv3" "kvm-probe: $(grep -v ': ok' "$w/out" | tr '\n' ' ')"; fi

# kiln_run_arg ARG: ARG as kiln.run= carries it (tests/guest/init.c): bytes outside
# [A-Za-z0-9._/:=+@^-] as %XX.
kiln_run_arg() {
	printf '%s' "$1" | od -An -tx1 -v | awk '{
		for (i = 1; i <= NF; i++) {
			n = (index("0123456789abcdef", substr($i, 1, 1)) - 1) * 16 + index("0123456789abcdef", substr($i, 2, 1)) - 1
			c = sprintf("%c", n)
			if (c ~ /[A-Za-z0-9._\/:=+@^-]/) printf "%s", c; else printf "%%%s", toupper($i)
		} }'
}

# qemu_boot [QEMU OPTIONS] -- CMD...: QEMU (-M virt, KVM, the host's CPU) boots the test guest, whose
# init runs CMD (kiln.run=). $rc, $w/out as boot() leaves them; $ready: seconds (/proc/uptime, 10 ms)
# from QEMU's start to the guest's first line `ref-ready` (the command's first output, just after
# init's boot-ready point).
qemu_boot() {
	opts=
	while [ "$1" != -- ]; do opts="$opts $1"; shift; done
	shift
	run=
	for a in "$@"; do run="$run${run:+,}$(kiln_run_arg "$a")"; done
	t0=$(cut -d' ' -f1 /proc/uptime)
	# shellcheck disable=SC2086 # $opts: QEMU's options, one a word
	{ timeout -s KILL "$tmo" "$REF_QEMU" -M virt,gic-version=3 -accel kvm -cpu host $opts -nodefaults \
		-no-user-config -nographic -no-reboot -serial stdio -kernel "$GUEST/Image" \
		-initrd "$GUEST/initrd.img" -append "console=ttyAMA0 panic=-1 quiet kiln.run=$run" \
		< /dev/null 2> "$w/err"; echo $? > "$w/rc"; } | awk -v t0="$t0" '
		/ref-ready/ && !seen { getline u < "/proc/uptime"; close("/proc/uptime"); split(u, f, " ")
			printf "ready=%.2f\n", f[1] - t0; seen = 1 }
		{ print }' > "$w/raw"
	rc=$(cat "$w/rc")
	tr -d '\r' < "$w/raw" > "$w/out"
	ready=$(value ready)
}

# QEMU's guest powers off through PSCI SYSTEM_RESET (init's reboot(), -no-reboot): status 0, and the
# command's output is there. MemTotal beside kiln's (arm64.sh, --mem 300M).
qemu_boot -smp 2 -m 300 -- sh -c 'echo ref-ready; nproc; uname -m; cat /proc/meminfo'
kb=$(meminfo_total)
if [ "$rc" = 0 ] && [ -n "$ready" ] && grep -qx aarch64 "$w/out" && grep -qx 2 "$w/out"; then
	ok "QEMU -M virt -accel kvm boots the arm64 test guest: aarch64, 2 CPUs, MemTotal $kb kB of 300 MiB"
else not_ok "QEMU -M virt -accel kvm boots the arm64 test guest" "status $rc, ready ${ready:-never}"; fi

# The reference figure: 5 boots, 1 vCPU, 512 MiB; the median time to ref-ready, and the guest
# kernel's own uptime there (what the guest spent, without QEMU's start: arm64.sh prints the same).
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: > "$w/times"
bad=0
for _ in 1 2 3 4 5; do
	qemu_boot -smp 1 -m 512 -- sh -c 'echo ref-ready guest-uptime=$(cut -d" " -f1 /proc/uptime)'
	up=$(value guest-uptime)
	if [ "$rc" != 0 ] || [ -z "$ready" ] || [ -z "$up" ]; then bad=$((bad + 1)); continue; fi
	echo "$ready $up" >> "$w/times"
	echo "# QEMU boot: ready=$ready s guest-uptime=$up s"
done
med=$(cut -d' ' -f1 "$w/times" | median) medup=$(cut -d' ' -f2 "$w/times" | median)
if [ $bad = 0 ]; then
	ok "5 QEMU boots: median ready=$med s, guest uptime $medup s"
	echo "# measure: QEMU -M virt -accel kvm, arm64 test guest, 1 vCPU, 512 MiB: median ready $med s, guest uptime at ready $medup s (5 boots)"
else not_ok "5 QEMU boots" "$bad of 5 failed or showed no ref-ready line, last status $rc"; fi
# QEMU's own start (46 shared libraries, under TCG): the time `qemu -version` takes.
t0=$(cut -d' ' -f1 /proc/uptime)
"$REF_QEMU" -version > /dev/null
echo "# measure: QEMU -version: $(awk -v t0="$t0" '{ printf "%.2f", $1 - t0 }' /proc/uptime) s"

finish
