#!/bin/bash
# tests/host/run.sh — runs a command inside a disposable KVM test host: Debian's cloud kernel booted by
# QEMU in software emulation (TCG, -cpu max, which exposes AMD SVM) with kvm_amd loaded, so /dev/kvm in
# it is hardware-style KVM. For machines whose own /dev/kvm cannot run an unmodified Linux guest (PVM)
# or that have none. With --arch arm64, an arm64 KVM test host: qemu-system-aarch64 -M virt with
# virtualization=on (EL2) and a GICv3 booting Debian's cloud-arm64 kernel, KVM built in (VHE).
# See README.md beside this file.
#
# usage: run.sh [--arch x86|arm64] [-m MEM_MIB] [-c CPUS] [-t TIMEOUT_S] [-f HOST[:GUEST]]... [-i] -- COMMAND...
#   -m  the test host's memory in MiB (default 6144: guest tests use --mem 5G, MAP_NORESERVE)
#   -c  its CPUs (default 2)
#   -t  time limit in seconds (default 1800; none with -i unless given)
#   -f  copies a file or directory into the test host (default GUEST: /payload/<basename>); the
#       shared libraries of dynamically linked executables in it are copied too
#   -i  interactive: the terminal is the test host's console (Ctrl-A x leaves QEMU)
#   -w  the test host is taken for wedged when it prints nothing, not even its heartbeat (a line
#       every 10 s), for this many seconds (default 180; 0: never): it is killed and booted again
#       with the same command, at most twice (README.md, "A lost timer interrupt")
# COMMAND runs under busybox sh in the test host, cwd /payload, PATH=/payload:/bin:/sbin, /dev/kvm and
# /dev/net/tun ready. Its output is printed as it comes; run.sh exits with COMMAND's status, 124 on
# timeout (or wedged three times), 125 when the harness itself fails.
#
# The kernel, its kvm modules and busybox come from the Linux test guest's build (build/guest, made
# by tests/guest/build.sh from Debian packages; run.sh builds it when missing; KILN_GUEST_DIR
# overrides the directory; build/arm64/guest for arm64). Needs: qemu-system-x86 (qemu-system-arm for
# arm64) and cpio (installed when missing).
# SPDX-License-Identifier: Apache-2.0
set -u

fail() { echo "host/run.sh: $*" >&2; exit 125; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
usage="usage: run.sh [--arch x86|arm64] [-m MEM_MIB] [-c CPUS] [-t TIMEOUT_S] [-w SILENCE_S] [-f HOST[:GUEST]]... [-i] -- COMMAND..."
arch=x86 mem=6144 cpus=2 tmo="" interactive=0 files=() silence=180
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=$2; shift 2 ;;
	-m) mem=$2; shift 2 ;;
	-c) cpus=$2; shift 2 ;;
	-t) tmo=$2; shift 2 ;;
	-w) silence=$2; shift 2 ;;
	-f) files+=("$2"); shift 2 ;;
	-i) interactive=1; shift ;;
	--) shift; break ;;
	*) fail "unknown option $1 ($usage)" ;;
	esac
done
[ $# -gt 0 ] || fail "no command"
[ -n "$tmo" ] || { [ $interactive = 1 ] && tmo=0 || tmo=1800; }

# Per architecture: QEMU's package, the guest build's directory and kernel, the modules to load.
case $arch in
x86) qemu_pkg=qemu-system-x86 guest=${KILN_GUEST_DIR:-$top/build/guest} kernel=vmlinuz
	mods="irqbypass kvm kvm-amd tun" ;;
arm64) qemu_pkg=qemu-system-arm guest=${KILN_GUEST_DIR:-$top/build/arm64/guest} kernel=Image
	mods="tun" ;;  # KVM is built into the cloud-arm64 kernel
*) fail "unknown architecture $arch ($usage)" ;;
esac
"$top/scripts/install-deps.sh" $qemu_pkg cpio binutils || fail "cannot install $qemu_pkg cpio binutils"
if [ ! -s "$guest/$kernel" ] || [ ! -s "$guest/busybox" ] || [ ! -s "$guest/busybox.applets" ] ||
	[ ! -s "$guest/host-modules/${mods##* }.ko" ]; then
	"$top/tests/guest/build.sh" --arch "$arch" "$guest" >&2 || fail "cannot build the kernel and modules in $guest"
fi

# --- the initramfs: busybox, the kvm modules, the payload and an init that runs COMMAND --------------
w=$(mktemp -d) || fail "mktemp"
trap 'rm -rf "$w"' EXIT
r=$w/root
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,mods,payload} || fail "mkdir"
cp "$guest/busybox" "$r/bin/busybox" && cp "$guest"/host-modules/*.ko "$r/mods/" || fail "cannot copy $guest"
echo "$mods" > "$r/mods/order"
while read -r a; do
	case $a in bin/busybox | linuxrc | '') ;; *) ln -s /bin/busybox "$r/$a" ;; esac
done < "$guest/busybox.applets"
copy_lib() { [ -f "$1" ] && [ ! -e "$r$1" ] && mkdir -p "$r$(dirname "$1")" && cp -L "$1" "$r$1"; }
add_libs() {  # the shared libraries (and the loader) an ELF needs, at the same paths
	case $(od -An -j 18 -N 2 -tu2 "$1" | tr -d ' ') in
	62) ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r l; do copy_lib "$l"; done ;;  # EM_X86_64
	183) add_libs_arm64 "$1" ;;  # EM_AARCH64
	esac
}
# An arm64 ELF's libraries: ldd cannot run it here, so its DT_NEEDED (readelf -d), found in Debian's
# arm64 multiarch directories, recursively, and its loader (PT_INTERP).
add_libs_arm64() {
	local n d interp
	interp=$(readelf -lW "$1" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	[ -z "$interp" ] || copy_lib "$interp"
	for n in $(readelf -dW "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		for d in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu; do
			[ -f "$d/$n" ] || continue
			[ -e "$r$d/$n" ] || { copy_lib "$d/$n" && add_libs_arm64 "$d/$n"; }
			break
		done
	done
}
for f in "${files[@]}"; do
	src=${f%%:*} dst=/payload/$(basename "${f%%:*}")
	[ "$f" != "$src" ] && dst=${f#*:}
	[ -e "$src" ] || fail "no such file: $src"
	# A busybox applet link there (/bin/sh -> /bin/busybox) goes first: cp would write through it,
	# to this machine's /bin/busybox.
	[ ! -L "$r$dst" ] || rm -f "$r$dst"
	mkdir -p "$r$(dirname "$dst")" && cp -a -L "$src" "$r$dst" || fail "cannot copy $src"
	while read -r x; do
		head -c 4 "$x" 2>/dev/null | grep -q 'ELF' && add_libs "$x"
	done < <(find -L "$src" -type f -perm -u+x)
done
printf '%s\n' "$*" > "$r/payload/.command"
# Not on an interactive console, where nobody watches for silence.
[ $interactive = 1 ] || [ "$silence" = 0 ] || : > "$r/payload/.heartbeat"
cat > "$r/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp; mount -t tmpfs run /run
exec </dev/console >/dev/console 2>&1
# The heartbeat: run.sh takes a test host that prints nothing for minutes for wedged (its clock lost).
[ -e /payload/.heartbeat ] && (while sleep 10; do echo "kiln-test-host: alive"; done) &
for m in $(cat /mods/order); do insmod /mods/$m.ko || echo "kiln-test-host: insmod $m failed"; done
[ -c /dev/kvm ] || echo "kiln-test-host: no /dev/kvm"
ip link set lo up 2>/dev/null
cd /payload; export HOME=/root PATH=/payload:/bin:/sbin:/usr/bin:/usr/sbin
setsid -c sh /payload/.command; rc=$?
echo "kiln-test-host: exit $rc"
poweroff -f
INIT
chmod +x "$r/init"
# Uncompressed: most of a payload (bzImage, initrd) is compressed already, and TCG decompresses slowly.
(cd "$r" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet > "$w/initrd.cpio") || fail "cpio"

# --- boot it ----------------------------------------------------------------------------------------
if [ "$arch" = arm64 ]; then
	# virt with virtualization=on: the emulated CPUs start at EL2, so the kernel runs KVM with VHE
	# (-cpu max has FEAT_VHE); gic-version=3 for the vGICv3 kiln creates. The console is the PL011.
	# shellcheck disable=SC2054 # commas inside QEMU options
	qemu=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -accel tcg,thread=multi -cpu max
		-smp "$cpus" -m "$mem" -nodefaults -no-user-config -nographic -no-reboot
		-kernel "$guest/Image" -initrd "$w/initrd.cpio"
		-append "console=ttyAMA0 quiet loglevel=1 panic=-1")
else
	# Under TCG on a loaded machine the test host's kernel can fail to calibrate its TSC against the PIT,
	# mark it unstable and stall; telling it the host's TSC rate (cpu MHz) skips that calibration.
	tsc_khz=$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
	# A periodic local APIC timer (nohz=off highres=off): QEMU 7.2's TCG now and then loses the
	# request of a timer interrupt it raised while the CPU leaves a nested guest; a one-shot timer is
	# re-armed only by that interrupt, so the test host had no clock any more. A periodic one raises
	# it again on the next tick (README.md, "A lost timer interrupt").
	# tsc=reliable: with two CPUs the kernel's TSC sync check saw emulation jitter as unsynchronized
	# TSCs and fell back to refined-jiffies, a 4 ms clock for every figure taken in the test host
	# (QEMU's TSC is the machine's TSC on every vCPU thread).
	# -erms: TCG runs REP STOSB/MOVSB a byte a step; without ERMS the test host's kernel (zeroing each
	# page a guest touches first), the programs in it and the guests clear and copy with REP STOSQ/MOVSQ,
	# eight bytes a step (README.md, "No ERMS"). No other CPU feature is hidden.
	# shellcheck disable=SC2054 # commas inside QEMU options
	qemu=(qemu-system-x86_64 -M microvm,pit=on,pic=on,rtc=on -accel tcg,thread=multi -cpu max,-erms
		-smp "$cpus" -m "$mem" -nodefaults -no-user-config -nographic -no-reboot
		-kernel "$guest/vmlinuz" -initrd "$w/initrd.cpio"
		-append "console=ttyS0 quiet loglevel=1 panic=-1 reboot=t nohz=off highres=off tsc=reliable${tsc_khz:+ tsc_early_khz=$tsc_khz}")
fi
[ "$tmo" = 0 ] || qemu=(timeout "$tmo" "${qemu[@]}")
# watch_silence: while the boot runs ($w/done absent), kills QEMU (SIGKILL: a wedged one ignores
# SIGTERM) once $w/out has not grown for $silence seconds, and leaves $w/wedged behind.
watch_silence() {
	local pid="" last=-1 size quiet=0
	while [ ! -e "$w/done" ]; do
		sleep 1
		[ -n "$pid" ] || pid=$(cat "$w/qemu.pid" 2>/dev/null)
		size=$(stat -c %s "$w/out" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0 last=$size; fi
		if [ $quiet -ge "$silence" ] && [ -n "$pid" ]; then
			: > "$w/wedged"
			kill -KILL "$pid" 2>/dev/null
			return
		fi
	done
}
# boot: one run of the test host, its console streamed as it comes (less carriage returns, the
# status line and the heartbeat); $q is QEMU's status.
boot() {
	local watcher=""
	rm -f "$w/wedged" "$w/qemu.pid" "$w/done"
	: > "$w/out"
	[ "$silence" = 0 ] || { watch_silence & watcher=$!; }
	"${qemu[@]}" -pidfile "$w/qemu.pid" -serial stdio < /dev/null 2>&1 | tee "$w/out" |
		sed -u -e 's/\r$//' -e '/^kiln-test-host: exit [0-9]*$/d' -e '/^kiln-test-host: alive$/d' \
		-e '/^\[ *[0-9.]*\] reboot: Power down$/d'
	q=${PIPESTATUS[0]}
	: > "$w/done"
	[ -z "$watcher" ] || wait "$watcher"
}
if [ $interactive = 1 ]; then
	# The terminal is the console; Ctrl-C goes to the test host, Ctrl-A x quits QEMU.
	"${qemu[@]}" -chardev stdio,id=con,mux=on,signal=off -serial chardev:con -mon chardev=con \
		2>&1 | tee "$w/out"
	q=${PIPESTATUS[0]}
else
	boot
	for again in 1 2; do
		[ -e "$w/wedged" ] || break
		echo "host/run.sh: the test host printed nothing for $silence s, not even its heartbeat: wedged" \
			"(README.md, \"A lost timer interrupt\"); killed, booting it again ($again of 2)" >&2
		boot
	done
	[ -e "$w/wedged" ] && { echo "host/run.sh: the test host wedged three times" >&2; exit 124; }
fi
rc=$(tr -d '\r' < "$w/out" | sed -n 's/^kiln-test-host: exit \([0-9]*\)$/\1/p' | tail -n 1)
[ "$q" = 124 ] && { echo "host/run.sh: timed out after $tmo s" >&2; exit 124; }
[ -n "$rc" ] || fail "the test host did not report an exit status (QEMU exited $q)"
exit "$rc"
