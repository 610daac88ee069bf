# SPDX-License-Identifier: Apache-2.0
#
# bench/linux_lib.sh — sourced by bench/linux.sh (boot, memory and block rows) and bench/linux_net.sh
# (network rows), which bench/bench.sh runs in two KVM test hosts (two CPUs, one CPU) or directly on
# hardware KVM. Runs under busybox sh. What both halves share: the output lines, QEMU's -cpu, kiln's
# guest command line, and one boot of the test guest under kiln, QEMU or kvmtool.
#
# Output, for bench.sh: "SAMPLE <figure> <kiln|qemu|kvmtool> <value>" and "NOTE <text>" lines.
#
# Environment (paths inside the test host):
#   KILN STOPWATCH QEMU QEMU_FW   the monitors, the timer, QEMU's firmware directory (-L)
#   LKVM                          kvmtool's lkvm (bench/peers.sh), or empty: no kvmtool column
#   KERNEL INITRD                 the test guest, with the half's /bench/ scripts in the initramfs
#   TINY                          bench/tiny/ready.elf, to probe QEMU's -cpu choice cheaply
#   QEMU_MACHINE                  QEMU's -M value
#   BASE_CMDLINE                  kiln's guest command line without kiln.run=, when already known
# Command lines are built as words on purpose (paths here have no spaces): SC2046, SC2086.
# shellcheck disable=SC2046,SC2086,SC2153,SC2034
set -u

: "${LKVM:=}"
MEM_MIB=128
GUEST_KB=$((MEM_MIB * 1024))
LIMIT_MS=180000	# per boot: TCG is slow, and slower still when the machine is busy
w=/tmp/bench
mkdir -p "$w"

# Exit status of either half: 0; 3 when it completed but some monitor's runs failed (a guest crashed,
# hung or exited wrongly: a finding, counted in a NOTE line); 1 when it could not do its work.
bad=0		# set-up steps that failed
failed_runs=0	# boots under a monitor that failed
note() { echo "NOTE $*"; }
say() { echo "bench/$(basename "$0"): $*" >&2; }
# failed WHAT: a run went wrong; its output goes to the log.
failed() { failed_runs=$((failed_runs + 1)); say "$1 failed; its output:"; tail -n 20 "$w/out" >&2; }
# finish: the half's exit status, from the counters above.
finish() {
	[ $bad = 0 ] || { say "$bad set-up step(s) failed"; exit 1; }
	if [ $failed_runs != 0 ]; then
		note "FAILED RUNS ($(basename "$0")): $failed_runs boot(s) failed (crashed, hung or wrong status; their rows have fewer samples; the log has their output)"
		exit 3
	fi
	exit 0
}

# The guest command's status 0 as each monitor reports it: kiln exits with it; QEMU's isa-debug-exit
# exits with (status << 1) | 1. kvmtool has no such port (it ignores the write): the guest's init
# then reboots (reboot=k: the i8042 reset line), and lkvm exits 0.
ok_status() { [ "$1" = qemu ] && echo 1 || echo 0; }

# field NAME LINE: the value of NAME=... in a stopwatch result line.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# --- QEMU's -cpu: `host` unless this KVM refuses it (PVM refuses MSR 0x10a) ---------------------------
qemu_base() {
	echo "$QEMU -L $QEMU_FW -M $QEMU_MACHINE -enable-kvm -cpu $QEMU_CPU -smp 1 -m $MEM_MIB" \
		"-nodefaults -no-user-config -nographic -no-reboot -serial stdio" \
		"-device isa-debug-exit,iobase=0xf4,iosize=1"
}
QEMU_CPU=host
r=$($STOPWATCH -m READY -t 60000 -- $(qemu_base) -kernel "$TINY")
if [ "$(field status "$r")" != 1 ]; then
	QEMU_CPU=host,-arch-capabilities
	r=$($STOPWATCH -m READY -t 60000 -- $(qemu_base) -kernel "$TINY")
	[ "$(field status "$r")" = 1 ] || { say "QEMU does not boot the tiny guest here: $r"; exit 1; }
fi

# --- the command line: kiln's own for `-- CMD`, read back from a guest -------------------------------
# Unless given, the first boot (a warm-up, not counted: it also brings the kernel and initramfs into
# the page cache) prints the guest's /proc/cmdline; QEMU and kvmtool get the same line with their own
# kiln.run=.
if [ -z "${BASE_CMDLINE:-}" ]; then
	r=$($STOPWATCH -m READY -t $LIMIT_MS -o "$w/out" -- "$KILN" run --kernel "$KERNEL" --initrd "$INITRD" \
		--cpus 1 --mem ${MEM_MIB}M -- cat /proc/cmdline)
	BASE_CMDLINE=$(tr -d '\r' < "$w/out" | sed -n 's/^\(console=.*\) kiln\.run=cat,\/proc\/cmdline$/\1/p' | tail -n 1)
	if [ -z "$BASE_CMDLINE" ]; then
		say "cannot read kiln's guest command line ($r); its output:"; tail -n 20 "$w/out" >&2
		exit 1
	fi
fi

# --- one boot ---------------------------------------------------------------------------------------
# boot SIDE KERNEL OUTFILE STOPWATCH-OPTS -- KILN.RUN-ARGS... : prints the stopwatch line.
# The command's argv is passed to kiln after `--` (kiln encodes it into kiln.run=); QEMU and kvmtool
# get the same command line, built here (the arguments used by the bench need no percent-encoding).
# WITH_DISK=1 adds two virtio-blk disks: $DISK, the disk under test, then $FIO_DISK read-only with
# serial kiln-fio (bench/guest/fio.sh finds it by that serial). WITH_NET=1 adds a virtio-net NIC on
# the tap $TAP (same MAC on both sides) and runs the monitor inside the namespace $NS. kvmtool boots
# with neither (only the boot and memory rows have a kvmtool column).
# kvmtool: --nodefaults, so the command line is exactly the one given (no additions of its own, no
# virtio-9p root), no network (-n mode=none), its 8250 on ttyS0 as the console; its state under a
# scratch HOME.
boot() {
	side=$1 kernel=$2 out=$3
	shift 3
	opts=""
	while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
	shift
	dev_kiln="" dev_qemu="" wrap=""
	if [ -n "${WITH_DISK:-}" ]; then
		dev_kiln="--disk $DISK --disk $FIO_DISK,ro,serial=kiln-fio"
		dev_qemu="-drive file=$DISK,format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0"
		dev_qemu="$dev_qemu -drive file=$FIO_DISK,format=raw,if=none,id=d1,readonly=on"
		dev_qemu="$dev_qemu -device virtio-blk-device,drive=d1,serial=kiln-fio"
	fi
	if [ -n "${WITH_NET:-}" ]; then
		dev_kiln="$dev_kiln --net tap=$TAP,mac=$MAC"
		# vhost=off: QEMU's own userspace virtio-net, the same work kiln does (no kernel vhost-net).
		dev_qemu="$dev_qemu -netdev tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off"
		dev_qemu="$dev_qemu -device virtio-net-device,netdev=n0,mac=$MAC"
		wrap="$IP netns exec $NS"
	fi
	runarg=$(echo "$*" | tr ' ' ',')
	case $side in
	kiln)
		$wrap $STOPWATCH $opts -t $LIMIT_MS -o "$out" -- "$KILN" run --kernel "$kernel" \
			--initrd "$INITRD" --cpus 1 --mem ${MEM_MIB}M --boot-time $dev_kiln -- "$@" ;;
	qemu)
		$wrap $STOPWATCH $opts -t $LIMIT_MS -o "$out" -- $(qemu_base) $dev_qemu -kernel "$kernel" \
			-initrd "$INITRD" -append "$BASE_CMDLINE kiln.run=$runarg" ;;
	kvmtool)
		mkdir -p "$w/kvmtool-home"
		HOME=$w/kvmtool-home $STOPWATCH $opts -t $LIMIT_MS -o "$out" -- "$LKVM" run --nodefaults \
			-m $MEM_MIB -c 1 --console serial -n mode=none -k "$kernel" -i "$INITRD" \
			-p "$BASE_CMDLINE kiln.run=$runarg" ;;
	esac
}
