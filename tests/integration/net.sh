#!/bin/sh
# tests/integration/net.sh — kiln's virtio-net on tap devices, seen from a Linux guest (tests/guest).
# Runs under busybox sh inside the KVM test host (tests/host/run.sh), or directly on a machine with
# hardware KVM, as root. Every tap and address lives in a network namespace made here (kilnnet<PID>)
# and deleted at the end, also on failure: nothing touches the host's own network.
#
#   namespace kilnnet<PID>                         guest (kiln runs inside the namespace)
#   kn0 10.0.2.1/24, MTU 1500  <-- tap -->  eth0 10.0.2.15/24, MAC derived from "kn0"
#   kn1 10.0.3.1/24, MTU 9000  <-- tap -->  eth1 10.0.3.15/24, mac=02:00:00:00:01:01
#
# env: KILN              the kiln binary
#      GUEST             directory with vmlinuz and initrd.img
#      IP                iproute2's ip (busybox ip has no netns or tuntap); default: ip
#      CURL              curl, for the API boot of the stalled-stdout test; default: curl
#      KILN_TEST_TIMEOUT seconds a plain boot may take (default 300); the transfer boot gets twice that
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, `# measure: ...` lines for TCP throughput,
# then `N passed, M failed`; exits 1 if any test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
IP=${IP:-ip}
CURL=${CURL:-curl}
ns=kilnnet$$
MiB=1048576
SIZE=$((64 * MiB))
MAC1=02:00:00:00:01:01
. "$(dirname "$0")/lib.sh"
ctl=
drop_namespace() {
	[ -n "$ctl" ] && kill "$ctl" 2> /dev/null
	# Whatever still runs in the namespace (kiln, nc) would keep its taps alive: end it first.
	for p in $("$IP" netns pids "$ns" 2> /dev/null); do kill -9 "$p" 2> /dev/null; done
	"$IP" netns del "$ns" 2> /dev/null
}
cleanup_hook=drop_namespace

nsx() { "$IP" netns exec "$ns" "$@"; }  # runs a command inside the namespace
run_in="$IP netns exec $ns"             # every kiln boot runs inside it
# reasm: IP datagrams that arrived in fragments (ReasmReqds of /proc/net/snmp) where this runs.
REASM='/^Ip:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["ReasmReqds"] }'

[ -c /dev/net/tun ] || fatal "/dev/net/tun (missing: these tests need tun; see tests/host/README.md)"
require_kvm "$KILN" "$GUEST/vmlinuz" "$GUEST/initrd.img"
if ! "$IP" netns add "$ns" 2> "$w/err" || ! "$IP" netns exec "$ns" true 2>> "$w/err"; then
	fatal "network namespace $ns ($IP netns: $(head -n 1 "$w/err"); IP must be iproute2's ip)"
fi

# tap NAME ADDRESS MTU: a tap in the namespace, up, with the host side's address.
tap() {
	nsx "$IP" tuntap add "$1" mode tap && nsx "$IP" link set "$1" mtu "$3" &&
		nsx "$IP" addr add "$2/24" dev "$1" && nsx "$IP" link set "$1" up
}
nsx "$IP" link set lo up
if ! tap kn0 10.0.2.1 1500 || ! tap kn1 10.0.3.1 9000; then
	fatal "taps kn0 and kn1 in $ns"
fi

# --- 1. bad input: refused before the guest runs --------------------------------------------------
boot --net tap=nosuch0 -- true
made=no
nsx "$IP" link show nosuch0 > /dev/null 2>&1 && made=yes
if [ "$rc" = 125 ] && grep -q 'tap nosuch0: no such device' "$w/err" && [ $made = no ]; then
	ok "a missing tap is refused (exit 125), named, and not created"
else not_ok "a missing tap is refused" "status $rc, tap created: $made"; fi

for mac in zz:00:00:00:00:01 02:00:00:00:01 02:00:00:00:00:01:02 01:00:5e:00:00:01; do
	boot --net "tap=kn0,mac=$mac" -- true
	if [ "$rc" = 125 ] && grep -q "$mac" "$w/err"; then ok "mac=$mac is refused (exit 125) and named"
	else not_ok "mac=$mac is refused" "status $rc"; fi
done

boot --net tap=kn0 --net tap=kn0 -- true
if [ "$rc" = 125 ] && grep -q 'tap kn0 is already in use' "$w/err"; then ok "the same tap twice is refused: in use"
else not_ok "the same tap twice is refused" "status $rc"; fi

# --- 2. one boot: two NICs, pings, MTU-sized and jumbo frames, 64 MiB each way over TCP ------------
# The guest's script comes on a small read-only disk (kiln.run= must fit the kernel command line).
cat > "$w/guest.sh" << EOF
set -u
u() { cut -d' ' -f1 /proc/uptime; }
reasm() { awk '$REASM' /proc/net/snmp; }
n0= n1=
for d in /sys/class/net/eth*; do
	if [ "\$(cat \$d/address)" = $MAC1 ]; then n1=\${d##*/}; else n0=\${d##*/}; fi
done
echo "nics=\$(ls /sys/class/net | tr '\n' ,) n0=\$n0 n1=\$n1"
[ -e "/sys/class/net/\$n0" ] && [ -n "\$n1" ] || exit 1
ip link set lo up
ip addr add 10.0.2.15/24 dev \$n0 && ip link set \$n0 up
ip addr add 10.0.3.15/24 dev \$n1 && ip link set \$n1 up
echo "mac0=\$(cat /sys/class/net/\$n0/address) mtu0=\$(cat /sys/class/net/\$n0/mtu) mtu1=\$(cat /sys/class/net/\$n1/mtu)"
ping -c 3 -W 10 10.0.2.1 > /dev/null && echo gping0=ok
ping -c 3 -W 10 10.0.3.1 > /dev/null && echo gping1=ok
ping -c 3 -W 10 -s 1472 10.0.2.1 > /dev/null && echo gping1500=ok
ping -c 3 -W 10 -s 8972 10.0.3.1 > /dev/null && echo gping9000=ok
nc -l -p 5002 -e sh -c 'cat > /tmp/in' &
l=\$!
head -c $SIZE /dev/urandom > /tmp/out
echo "out_sha=\$(sha256sum /tmp/out | cut -d' ' -f1)"
t0=\$(u)
nc 10.0.2.1 5001 < /tmp/out
rc=\$?
echo "send_rc=\$rc g2h_t0=\$t0 g2h_t1=\$(u)"
rm -f /tmp/out
[ \$rc = 0 ] || kill \$l  # the namespace sends only after it received
wait \$l
echo "in_sha=\$(sha256sum /tmp/in | cut -d' ' -f1) in_bytes=\$(wc -c < /tmp/in)"
echo "guest_reasm=\$(reasm)"
EOF
sector_image "$w/guest.sh" "$w/guest.img"

head -c $SIZE /dev/urandom > "$w/toguest"
to_sha=$(sha "$w/toguest")

# The namespace's side, in the background: receive the guest's 64 MiB, ping the guest once that is
# done (it then waits for ours), then send it 64 MiB (the guest listens before it starts sending).
cat > "$w/host.sh" << EOF
u() { cut -d' ' -f1 /proc/uptime; }
nc -l -p 5001 -e sh -c 'cat > $w/fromguest'
ping -c 3 -W 10 10.0.2.15 > /dev/null && echo hping0=ok
ping -c 3 -W 10 10.0.3.15 > /dev/null && echo hping1=ok
ping -c 3 -W 10 -s 1472 10.0.2.15 > /dev/null && echo hping1500=ok
ping -c 3 -W 10 -s 8972 10.0.3.15 > /dev/null && echo hping9000=ok
i=0
while [ \$i -lt 60 ]; do
	t0=\$(u)
	nc 10.0.2.15 5002 < $w/toguest 2> /dev/null && { echo "h2g_t0=\$t0 h2g_t1=\$(u)"; break; }
	i=\$((i + 1))
	sleep 1
done
EOF
reasm0=$(nsx awk "$REASM" /proc/net/snmp)
nsx sh "$w/host.sh" > "$w/host.out" 2>&1 &
ctl=$!
btmo=$((tmo * 2)); boot --mem 1G --disk "$w/guest.img,ro" --net tap=kn0 --net "tap=kn1,mac=$MAC1" -- sh /dev/vda
# It ends with its transfer to the guest, which the guest waits for; if the guest failed, it waits
# for a connection that never comes: 10 s, then it is ended.
i=0
while kill -0 "$ctl" 2> /dev/null && [ $i -lt 10 ]; do sleep 1; i=$((i + 1)); done
for p in $("$IP" netns pids "$ns" 2> /dev/null); do kill -9 "$p" 2> /dev/null; done
ctl=
cat "$w/host.out" >> "$w/out"
host_reasm=$(($(nsx awk "$REASM" /proc/net/snmp) - reasm0))

n0=$(value n0) n1=$(value n1) mac0=$(value mac0) mtu0=$(value mtu0) mtu1=$(value mtu1)
if [ -n "$n0" ] && [ -n "$n1" ] && [ "$n0" != "$n1" ] && [ "$mtu0" = 1500 ] && [ "$mtu1" = 9000 ] &&
	[ "${mac0#02:}" != "$mac0" ] && [ "$mac0" != "$MAC1" ]; then
	ok "two NICs: $n0 (kn0, default MAC $mac0, MTU 1500) and $n1 (kn1, mac=$MAC1, MTU 9000 from the tap)"
else not_ok "two NICs with their MACs and the taps' MTUs" \
	"status $rc, guest saw: $(value nics), $n0 mac $mac0 mtu $mtu0, $n1 mtu $mtu1"; fi

pings="$(value gping0) $(value gping1) $(value hping0) $(value hping1)"
if [ "$pings" = "ok ok ok ok" ]; then ok "pings: guest -> namespace and namespace -> guest, on both NICs"
else not_ok "pings both ways on both NICs" "guest->kn0, ->kn1, kn0->guest, kn1->guest: $pings"; fi

# Frames of exactly the MTU, both ways, and nothing reassembled on either side: none were fragmented.
g_reasm=$(value guest_reasm)
for m in 1500 9000; do
	got="$(value gping$m) $(value hping$m)"
	if [ "$got" = "ok ok" ] && [ "$g_reasm" = 0 ] && [ "$host_reasm" = 0 ]; then
		ok "$m-byte frames (ping -s $((m - 28))) both ways, unfragmented (no reassembly on either side)"
	else not_ok "$m-byte frames both ways" "guest->ns, ns->guest: $got; reassembled: guest ${g_reasm:-?}, namespace $host_reasm"; fi
done

out_sha=$(value out_sha)
from_sha=$(sha "$w/fromguest" 2> /dev/null)
from_bytes=$(wc -c < "$w/fromguest" 2> /dev/null)
if [ "$(value send_rc)" = 0 ] && [ -n "$out_sha" ] && [ "$from_sha" = "$out_sha" ] && [ "$from_bytes" = $SIZE ]; then
	ok "TCP guest -> namespace: 64 MiB, sha256 matches"
else not_ok "TCP guest -> namespace, 64 MiB" "nc status $(value send_rc), ${from_bytes:-0} bytes, sha256 ${from_sha:-none}, guest's ${out_sha:-none}"; fi

if [ "$(value in_sha)" = "$to_sha" ] && [ "$(value in_bytes)" = $SIZE ]; then
	ok "TCP namespace -> guest: 64 MiB, sha256 matches"
else not_ok "TCP namespace -> guest, 64 MiB" "guest got $(value in_bytes) bytes, sha256 $(value in_sha), want $to_sha"; fi

if [ "$rc" = 0 ]; then ok "the guest's script ended with status 0"; else not_ok "the guest's script ends" "status $rc"; fi

# --- 3. measure --------------------------------------------------------------------------------------
# Sender-side clocks (/proc/uptime, 10 ms): the guest's for guest -> namespace, this host's for the
# other way; each from connect to the receiver's close. In the KVM test host only ratios mean anything.
awk -v a="$(value g2h_t0)" -v b="$(value g2h_t1)" -v c="$(value h2g_t0)" -v d="$(value h2g_t1)" -v s=$SIZE '
function rate(t0, t1) { return (t0 != "" && t1 > t0) ? sprintf("%.1f MB/s (%.2f s)", s / 1e6 / (t1 - t0), t1 - t0) : "n/a" }
BEGIN {
	printf "# measure: TCP guest -> namespace (busybox nc, 64 MiB): %s\n", rate(a, b)
	printf "# measure: TCP namespace -> guest (busybox nc, 64 MiB): %s\n", rate(c, d)
}'

# --- 4. nobody reads kiln's stdout for 10 s while the guest floods its console ----------------------
# kiln's stdout is a pipe whose reader waits for $w/go. The guest floods its console in the
# background and, every second, writes a tick and how many lines it has flooded to its scratch disk;
# it listens for a transfer, and ends when the namespace accepts a connection on port 5003. Once
# the guest has written 8000 lines (over 300 KB: more than the pipe's 64 KiB and kiln's 128 KiB
# hold, so a blocking write would wait now), 10 s during which the namespace pings the guest and
# sends it 1 MiB, the scratch disk's tick must advance, and (API boot) PATCH /vm Paused and Resumed
# must return. Then the reader reads again, the namespace lets the guest end, and kiln exits with
# the command's status, 0, having logged the drop once.
# Two boots: the UART under Firecracker's API (kiln's output on a vCPU thread) and virtio-console
# under `kiln run` (its output on the I/O thread, which also serves the disk and the NIC).
cat > "$w/stall.sh" << 'EOF'
set -u
s=
for d in /sys/block/vd*; do [ "$(cat $d/serial 2> /dev/null)" = scratch ] && s=/dev/${d##*/}; done
[ -n "$s" ] || { echo "no disk with serial scratch"; exit 1; }
ip link set lo up && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up || exit 1
nc -l -p 5004 -e sh -c 'cat > /tmp/in' &
l=$!
( i=0; while :; do
	echo "flood $i abcdefghijklmnopqrstuvwxyz"
	i=$((i + 1))
	[ $((i % 500)) = 0 ] && echo $i > /tmp/flood
done ) &
f=$!
t=0
until nc 10.0.2.1 5003 < /dev/null 2> /dev/null; do
	t=$((t + 1)) n=$(cat /tmp/flood 2> /dev/null)
	printf 'tick=%08d flood=%08d\n' $t ${n:-0} | dd of=$s conv=fsync,notrunc 2> /dev/null
	sleep 1
done
kill $f $l 2> /dev/null
echo "stall_ticks=$t stall_in_sha=$(sha256sum < /tmp/in | cut -d' ' -f1)"
EOF
sector_image "$w/stall.sh" "$w/stall.img"
head -c $MiB /dev/urandom > "$w/blob"
blob_sha=$(sha "$w/blob")
sock=$w/api.sock

# stall_api METHOD PATH BODY: one API request; $code is its status (000: none within 60 s).
stall_api() {
	code=$("$CURL" -s -o "$w/reply" -w '%{http_code}' --max-time 60 --unix-socket "$sock" -X "$1" \
		-H 'Content-Type: application/json' -d "$3" "http://localhost$2")
}
# stall_dropped: FlushMetrics, then the UART's bytes_dropped (0 if none yet).
stall_dropped() {
	stall_api PUT /actions '{"action_type": "FlushMetrics"}'
	d=$(tail -n 1 "$w/metrics" | sed -n 's/.*"serial":{[^}]*"bytes_dropped":\([0-9]*\).*/\1/p')
	echo "${d:-0}"
}
# stall_tick, stall_flood: the last tick, or the lines flooded, the guest wrote on its scratch disk.
stall_tick() {
	t=$(head -c 13 "$w/scratch.img" | sed -n 's/^tick=0*\([0-9][0-9]*\)$/\1/p')
	echo "${t:-0}"
}
stall_flood() {
	t=$(head -c 28 "$w/scratch.img" | sed -n 's/.* flood=0*\([0-9][0-9]*\)$/\1/p')
	echo "${t:-0}"
}
# stall_read: the bytes the reader has taken so far.
stall_read() {
	if [ -f "$w/raw" ]; then wc -c < "$w/raw"; else echo 0; fi
}
# stall_kiln: kiln for the boot of kind $kind, in the namespace.
stall_kiln() {
	if [ "$kind" = api ]; then
		nsx "$KILN" --api-sock "$sock"
	else
		nsx "$KILN" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" --console virtio \
			--disk "$w/stall.img,ro" --disk "$w/scratch.img,serial=scratch" --net tap=kn0 -- sh /dev/vda
	fi
}
# stall_configure: the API boot's VM, as Firecracker's guide does it, and InstanceStart.
stall_configure() {
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	stall_api PUT /metrics "{\"metrics_path\": \"$w/metrics\"}" && [ "$code" = 204 ] &&
	stall_api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 512}' && [ "$code" = 204 ] &&
	stall_api PUT /boot-source "{\"kernel_image_path\": \"$GUEST/vmlinuz\", \"initrd_path\": \"$GUEST/initrd.img\", \"boot_args\": \"console=ttyS0 reboot=k panic=-1 pci=off quiet kiln.run=sh,/dev/vda\"}" &&
	[ "$code" = 204 ] &&
	stall_api PUT /drives/script "{\"drive_id\": \"script\", \"path_on_host\": \"$w/stall.img\", \"is_root_device\": false, \"is_read_only\": true}" &&
	[ "$code" = 204 ] &&
	stall_api PUT /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$w/scratch.img\", \"is_root_device\": false}" &&
	[ "$code" = 204 ] &&
	stall_api PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "kn0"}' && [ "$code" = 204 ] &&
	stall_api PUT /actions '{"action_type": "InstanceStart"}' && [ "$code" = 204 ]
}

# stall_diag: when kiln has not ended, what each process in the namespace is doing, thread by thread
# (state, kernel wait channel, syscall and its first arguments, kernel stack), the end of kiln's
# stderr and the kernel's seccomp and hung-task lines: taken before the kill, which would erase it.
stall_diag() {
	for p in $("$IP" netns pids "$ns" 2> /dev/null); do
		note "$name: pid $p: $(tr '\0' ' ' < /proc/$p/cmdline 2> /dev/null | head -c 60)"
		for t in /proc/$p/task/*; do
			note "$name:   tid ${t##*/} $(cut -d' ' -f2,3 $t/stat 2> /dev/null) wchan" \
				"$(cat $t/wchan 2> /dev/null) syscall $(cut -d' ' -f1-4 $t/syscall 2> /dev/null)" \
				"stack $(head -n 4 $t/stack 2> /dev/null | sed 's/^\[<[0-9a-f]*>\] //; s/+.*//' | tr '\n' ' ')"
		done
	done
	tail -n 5 "$w/err" | sed "s/^/#   $name: stderr: /"
	dmesg | grep -E 'type=1326|audit|blocked for more|seccomp' | tail -n 5 | sed "s/^/#   $name: dmesg: /"
}

# stall_wait PID...: waits for the boot's processes, 60 s at most; a process still there is named
# with its state and kernel wait channel (CI once waited here for good: this says on what).
stall_wait() {
	i=0
	while [ $i -lt 60 ]; do
		left=
		for p in "$@"; do kill -0 "$p" 2> /dev/null && left="$left $p"; done
		[ -z "$left" ] && break
		sleep 1
		i=$((i + 1))
	done
	if [ -n "$left" ]; then
		for p in $left $("$IP" netns pids "$ns" 2> /dev/null); do
			note "$name: pid $p still there: $(cut -d' ' -f2,3 /proc/$p/stat 2> /dev/null) wchan $(cat /proc/$p/wchan 2> /dev/null)"
		done
		not_ok "$name: the boot's processes end within 60 s of the kill" "left:$left"
		return
	fi
	wait "$@" 2> /dev/null
}

# stall_boot KIND: the boot and its checks; KIND is api or virtio.
stall_boot() {
	kind=$1 name="stalled stdout ($1)"
	rm -f "$w/go" "$w/kstatus" "$sock" "$w/raw"
	: > "$w/metrics"
	: > "$w/err"
	head -c $MiB /dev/zero > "$w/scratch.img"
	start=$(date +%s)
	{ stall_kiln < /dev/null 2> "$w/err"; echo $? > "$w/kstatus"; } |
		{ until [ -e "$w/go" ]; do sleep 1; done; cat > "$w/raw"; } &
	reader=$!
	note "$name: booting"
	if [ "$kind" = api ] && ! stall_configure; then
		not_ok "$name: configure and boot through the API" "$code $(head -c 200 "$w/reply" 2> /dev/null)"
	fi
	# The stall is on once the guest has written more than the pipe and kiln can hold.
	while [ "$(stall_flood)" -lt 8000 ] && [ ! -e "$w/kstatus" ] && [ $(($(date +%s) - start)) -lt "$tmo" ]; do
		sleep 1
	done
	if [ "$(stall_flood)" -ge 8000 ]; then
		t0=$(date +%s) tick0=$(stall_tick)
		ping=no sent=no paused=- resumed=- d0=0 d1=0
		nsx ping -c 3 -W 10 10.0.2.15 > /dev/null && ping=yes
		nsx timeout 120 nc 10.0.2.15 5004 < "$w/blob" && sent=yes
		if [ "$kind" = api ]; then
			d0=$(stall_dropped)
			stall_api PATCH /vm '{"state": "Paused"}'
			paused=$code
			stall_api PATCH /vm '{"state": "Resumed"}'
			resumed=$code
		fi
		while [ $(($(date +%s) - t0)) -lt 10 ]; do sleep 1; done
		tick1=$(stall_tick)
		[ "$kind" = api ] && d1=$(stall_dropped)
		note "$name: a stall of $(($(date +%s) - t0)) s, after $((t0 - start)) s"
		if [ "$tick1" -gt "$tick0" ]; then ok "$name: the guest's disk writes go on (tick $tick0 -> $tick1)"
		else not_ok "$name: the guest's disk writes go on" "tick $tick0 -> $tick1"; fi
		if [ $ping = yes ] && [ $sent = yes ]; then ok "$name: the namespace pings the guest and sends it 1 MiB"
		else not_ok "$name: the namespace pings the guest and sends it 1 MiB" "ping: $ping, sent: $sent"; fi
		if [ "$kind" = api ]; then
			if [ "$paused $resumed" = "204 204" ]; then ok "$name: PATCH /vm Paused and Resumed return 204"
			else not_ok "$name: PATCH /vm Paused and Resumed return" "$paused, $resumed"; fi
			if [ "$d1" -gt "$d0" ]; then ok "$name: the guest writes on, kiln drops and counts ($d0 -> $d1 bytes)"
			else not_ok "$name: the guest writes on, kiln drops and counts" "bytes_dropped $d0 -> $d1"; fi
		fi
	else
		not_ok "$name: the guest writes 8000 lines to its console" \
			"$(stall_flood) lines, tick $(stall_tick) after $(($(date +%s) - start)) s"
	fi
	note "$name: the reader reads again"
	touch "$w/go"
	# The guest's last line must not meet a full buffer: the reader first takes what waited (the
	# pipe's 64 KiB and kiln's 128 KiB, 196608 bytes at most) and newer output, then the guest ends.
	while [ "$(stall_read)" -le 196608 ] && [ ! -e "$w/kstatus" ] &&
		[ $(($(date +%s) - start)) -lt $((tmo * 2)) ]; do sleep 1; done
	nsx nc -l -p 5003 < /dev/null > /dev/null 2>&1 &
	ender=$!
	while [ ! -e "$w/kstatus" ] && [ $(($(date +%s) - start)) -lt $((tmo * 2)) ]; do sleep 1; done
	[ -e "$w/kstatus" ] || stall_diag
	for p in $("$IP" netns pids "$ns" 2> /dev/null); do kill -9 "$p" 2> /dev/null; done
	stall_wait $reader $ender
	rc=$(cat "$w/kstatus" 2> /dev/null) shown=
	tr -d '\r' < "$w/raw" > "$w/out"
	if [ "$rc" = 0 ] && [ -n "$(value stall_ticks)" ]; then ok "$name: the reader reads again, the guest ends, kiln exits 0"
	else not_ok "$name: the reader reads again, the guest ends, kiln exits 0" "status ${rc:-none}"; fi
	if [ "$(value stall_in_sha)" = "$blob_sha" ]; then ok "$name: the 1 MiB sent during the stall arrived intact"
	else not_ok "$name: the 1 MiB sent during the stall arrived intact" "sha256 $(value stall_in_sha)"; fi
	warned=$(grep -c 'dropping what does not fit' "$w/err")
	if [ "$warned" = 1 ]; then ok "$name: kiln logged the drop once"
	else not_ok "$name: kiln logged the drop once" "$warned lines"; fi
}
stall_boot api
stall_boot virtio
finish
