#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/linux.sh — the Linux-guest half of `make bench`. Runs INSIDE the KVM test host (busybox sh),
# started by bench/bench.sh through tests/host/run.sh; boots the same kernel, initramfs and command
# line under kiln and under QEMU's microvm, interleaved A B A B, and prints one line per measurement:
#   SAMPLE <figure> <kiln|qemu> <value>
# plus "NOTE <text>" lines that bench.sh carries into the report. Nothing here judges a figure.
#
# Environment (paths inside the test host):
#   KILN STOPWATCH QEMU QEMU_FW   the monitors, the timer, QEMU's firmware directory (-L)
#   KERNEL INITRD                 the test guest (INITRD includes /bench/fio.sh, /bench/net.sh and
#                                 /bench/idle.sh)
#   FIO_DISK                      the read-only ext4 image with fio, its libraries and the loader
#   TINY                          bench/tiny/ready.elf, to probe QEMU's -cpu choice cheaply
#   RUNS MEM_RUNS IO_RUNS IO_SECS how many boots per side, and seconds per block job
#   MIN_KERNEL                    the minimal bench kernel, when built (else empty)
#   QEMU_MACHINE                  QEMU's -M value
#   NET_RUNS NET_BYTES NET_PINGS  network boots per side, bytes per TCP transfer, pings per boot
#   IP                            iproute2's ip (busybox ip has no netns or tuntap)
# Command lines are built as words on purpose (paths here have no spaces): SC2046, SC2086.
# shellcheck disable=SC2046,SC2086,SC2153
set -u

: "${RUNS:=3}" "${MEM_RUNS:=1}" "${IO_RUNS:=1}" "${IO_SECS:=2}" "${MIN_KERNEL:=}"
: "${NET_RUNS:=1}" "${NET_BYTES:=16777216}" "${NET_PINGS:=10}" "${IP:=ip}"
MEM_MIB=128
GUEST_KB=$((MEM_MIB * 1024))
LIMIT_MS=180000	# per boot: TCG is slow, and slower still when the machine is busy
DISK=/tmp/bench-disk.img
w=/tmp/bench
mkdir -p "$w"

# Exit status: 0; 3 when the bench completed but some monitor's runs failed (a guest crashed, hung or
# exited wrongly: a finding, counted in a NOTE line); 1 when the bench itself could not do its work.
bad=0		# set-up steps that failed
failed_runs=0	# boots under a monitor that failed
note() { echo "NOTE $*"; }
say() { echo "bench/linux.sh: $*" >&2; }
# failed WHAT: a run went wrong; its output goes to the log.
failed() { failed_runs=$((failed_runs + 1)); say "$1 failed; its output:"; tail -n 20 "$w/out" >&2; }

# The guest command's status 0 as each monitor reports it: kiln exits with it; QEMU's isa-debug-exit
# exits with (status << 1) | 1.
ok_status() { [ "$1" = kiln ] && echo 0 || echo 1; }

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
note "test host: QEMU -cpu $QEMU_CPU"

# --- the command line: kiln's own for `-- CMD`, read back from a guest -------------------------------
# The first boot (a warm-up, not counted: it also brings the kernel and initramfs into the page cache)
# prints the guest's /proc/cmdline; QEMU gets the same line with its own kiln.run=.
r=$($STOPWATCH -m READY -t $LIMIT_MS -o "$w/out" -- "$KILN" run --kernel "$KERNEL" --initrd "$INITRD" \
	--cpus 1 --mem ${MEM_MIB}M -- cat /proc/cmdline)
BASE_CMDLINE=$(tr -d '\r' < "$w/out" | sed -n 's/^\(console=.*\) kiln\.run=cat,\/proc\/cmdline$/\1/p' | tail -n 1)
if [ -z "$BASE_CMDLINE" ]; then
	say "cannot read kiln's guest command line ($r); its output:"; tail -n 20 "$w/out" >&2
	exit 1
fi
note "Linux guests: command line (both monitors): $BASE_CMDLINE kiln.run=..."

# --- one boot ---------------------------------------------------------------------------------------
# boot SIDE KERNEL OUTFILE STOPWATCH-OPTS -- KILN.RUN-ARGS... : prints the stopwatch line.
# The command's argv is passed to kiln after `--` (kiln encodes it into kiln.run=); QEMU gets the
# same command line, built here (the arguments used below need no percent-encoding).
# WITH_DISK=1 adds two virtio-blk disks: $DISK, the disk under test, then $FIO_DISK read-only with
# serial kiln-fio (bench/guest/fio.sh finds it by that serial). WITH_NET=1 adds a virtio-net NIC on
# the tap $TAP (same MAC on both sides) and runs the monitor inside the namespace $NS.
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
	if [ "$side" = kiln ]; then
		$wrap $STOPWATCH $opts -t $LIMIT_MS -o "$out" -- "$KILN" run --kernel "$kernel" \
			--initrd "$INITRD" --cpus 1 --mem ${MEM_MIB}M --boot-time $dev_kiln -- "$@"
	else
		runarg=$(echo "$*" | tr ' ' ',')
		$wrap $STOPWATCH $opts -t $LIMIT_MS -o "$out" -- $(qemu_base) $dev_qemu -kernel "$kernel" \
			-initrd "$INITRD" -append "$BASE_CMDLINE kiln.run=$runarg"
	fi
}

# --- boot: exec -> READY, exec -> exit, CPU ---------------------------------------------------------
# boots PREFIX KERNEL
boots() {
	prefix=$1 kernel=$2
	i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		for side in kiln qemu; do
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
		for side in kiln qemu; do
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

boots linux "$KERNEL"

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

# --- network: virtio-net on a tap, in a network namespace made here ---------------------------------
#   namespace kilnbench<PID>:  kb0 10.0.2.1/24  <-- tap -->  eth0 10.0.2.15/24 (bench/guest/net.sh)
# Both monitors run inside the namespace on the same tap, one after the other, with the same MAC. No
# address or device exists outside it; it is deleted when this script ends, also when it fails.
NS=kilnbench$$ TAP=kb0 MAC=02:00:00:00:00:0f
net_pids="" net_noted=""
net_cleanup() {
	for p in $net_pids; do kill "$p" 2>/dev/null; done
	# Whatever still runs in the namespace (a monitor past its time limit) would keep the tap alive.
	for p in $("$IP" netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	"$IP" netns del "$NS" 2>/dev/null
}
trap net_cleanup EXIT
trap 'exit 130' INT TERM
nsip() { "$IP" -n "$NS" "$@"; }

net_setup() {
	if ! $QEMU -netdev help 2>/dev/null | grep -qx tap; then
		say "this QEMU has no tap backend"; return 1
	fi
	"$IP" netns add "$NS" || { say "cannot make network namespace $NS ($IP must be iproute2's)"; return 1; }
	if ! { nsip link set lo up && nsip tuntap add $TAP mode tap &&
		nsip addr add 10.0.2.1/24 dev $TAP && nsip link set $TAP up; }; then
		say "cannot make tap $TAP in $NS"; return 1
	fi
}

# net_features BITS: the names of the virtio(-net) feature bits set in a /sys/.../features string
# (bit 0 first): virtio 1.2 §5.1.3 and §6, plus the legacy GSO, NOTIFY_ON_EMPTY and ANY_LAYOUT.
net_features() {
	echo "$1" | awk '
	BEGIN { split("CSUM GUEST_CSUM CTRL_GUEST_OFFLOADS MTU - MAC GSO GUEST_TSO4 GUEST_TSO6 GUEST_ECN " \
		"GUEST_UFO HOST_TSO4 HOST_TSO6 HOST_ECN HOST_UFO MRG_RXBUF STATUS CTRL_VQ CTRL_RX CTRL_VLAN " \
		"- GUEST_ANNOUNCE MQ CTRL_MAC_ADDR NOTIFY_ON_EMPTY - - ANY_LAYOUT INDIRECT_DESC EVENT_IDX - - " \
		"VERSION_1", name, " ") }
	{ for (i = 1; i <= length($0); i++) if (substr($0, i, 1) == "1") {
		s = s sep (name[i] != "" && name[i] != "-" ? name[i] : "bit" (i - 1)); sep = "," } }
	END { print s }'
}

# median: of the numbers on stdin, one a line.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# net_boot SIDE RUN: one boot running bench/guest/net.sh; prints its SAMPLE lines.
net_boot() {
	side=$1 run=$2
	rm -f "$w/g2h.bytes"
	# The namespace's side: a sink that counts what the guest sends, a source of NET_BYTES zeros for
	# the guest to read; each serves one connection. busybox nc, as in the guest.
	"$IP" netns exec "$NS" busybox nc -l -p 5001 -e sh -c "wc -c > $w/g2h.bytes" &
	sink=$!
	"$IP" netns exec "$NS" busybox nc -l -p 5002 -e sh -c "head -c $NET_BYTES /dev/zero" &
	src=$!
	net_pids="$sink $src"
	r=$(WITH_NET=1 boot $side "$KERNEL" "$w/out" -- sh /bench/net.sh "$NET_BYTES" "$NET_PINGS")
	say "net $run $side: $r"
	# Both are done when the guest is, unless it failed: then they still wait for a connection.
	kill $sink $src 2>/dev/null
	wait $sink $src 2>/dev/null
	net_pids=""
	tr -d '\r' < "$w/out" > "$w/net.out"
	if [ "$(field status "$r")" != "$(ok_status $side)" ]; then
		failed "net $run $side"
		return
	fi
	# Once per monitor, from its first boot that worked.
	case " $net_noted " in
	*" $side "*) ;;
	*)
		note "net: virtio features the guest accepted under $side:" \
			"$(net_features "$(sed -n 's/^NET-FEATURES //p' "$w/net.out")")"
		net_noted="$net_noted $side"
		;;
	esac

	n=$(sed -n 's/^NET-PING //p' "$w/net.out" | wc -l)
	say "net $run $side: ping ms: $(sed -n 's/^NET-PING //p' "$w/net.out" | tr '\n' ' ')"
	if [ "$n" = "$NET_PINGS" ]; then
		echo "SAMPLE net.ping $side $(sed -n 's/^NET-PING //p' "$w/net.out" | median)"
	else
		failed "net $run $side: ping ($n of $NET_PINGS replies)"
	fi
	# MB/s = 10^6 bytes per second, from the guest's timestamps; only a complete transfer counts.
	got=$(tr -dc 0-9 < "$w/g2h.bytes" 2>/dev/null)
	set -- $(sed -n 's/^NET-G2H //p' "$w/net.out")
	if [ "${got:-0}" = "$NET_BYTES" ] && [ $# = 2 ]; then
		echo "SAMPLE net.tcp_g2h $side $(awk -v n="$NET_BYTES" -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", n / 1e6 / (b - a) }')"
	else
		failed "net $run $side: guest -> host (${got:-0} of $NET_BYTES bytes arrived)"
	fi
	set -- $(sed -n 's/^NET-H2G //p' "$w/net.out")
	if [ $# = 3 ] && [ "$3" = "$NET_BYTES" ]; then
		echo "SAMPLE net.tcp_h2g $side $(awk -v n="$NET_BYTES" -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", n / 1e6 / (b - a) }')"
	else
		failed "net $run $side: host -> guest (${3:-0} of $NET_BYTES bytes arrived)"
	fi
}

if net_setup; then
	i=0
	while [ $i -lt "$NET_RUNS" ]; do
		i=$((i + 1))
		for side in kiln qemu; do net_boot $side $i; done
	done
else
	bad=$((bad + 1))
	note "net: not measured (see the log)"
fi
net_cleanup

if [ -n "$MIN_KERNEL" ]; then
	boots linux-min "$MIN_KERNEL"
fi
[ $bad = 0 ] || { say "$bad set-up step(s) failed"; exit 1; }
if [ $failed_runs != 0 ]; then
	note "FAILED RUNS: $failed_runs boot(s) failed (crashed, hung or wrong status; their rows have fewer samples; the log has their output)"
	exit 3
fi
exit 0
