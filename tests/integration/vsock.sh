#!/bin/sh
# tests/integration/vsock.sh — kiln's virtio-vsock (Firecracker's Unix-socket host side), seen from
# a Linux guest (tests/guest). Runs under busybox sh inside the KVM test host (tests/host/run.sh), or
# directly on a machine with hardware KVM. The guest side is /bin/vsock-tool in the initramfs, the
# host side the same program (tests/guest/vsock_tool.c) built for this host.
#
# env: KILN              the kiln binary
#      GUEST             directory with vmlinuz and initrd.img
#      VSOCK_TOOL        vsock-tool for this host (default: $GUEST/vsock-tool)
#      KILN_TEST_TIMEOUT seconds a plain boot may take (default 300); the transfer boot gets 6 times it
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, `# measure: ...` lines for the vsock
# throughput, then `N passed, M failed`; exits 1 if any test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
T=${VSOCK_TOOL:-$GUEST/vsock-tool}
SIZE=$((64 * 1048576))
NCONN=32
. "$(dirname "$0")/lib.sh"
uds=$w/v.sock
bg=
stop_bg() { [ -n "$bg" ] && kill "$bg" 2> /dev/null; }
cleanup_hook=stop_bg

require_kvm "$KILN" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$T"

# --- 1. bad input: refused before the guest runs -------------------------------------------------
boot --vsock "cid=2,uds=$uds" -- true
if [ "$rc" = 125 ] && grep -q 'cid' "$w/err" && [ ! -e "$uds" ]; then ok "--vsock cid=2 is refused (exit 125)"
else not_ok "--vsock cid=2 is refused" "status $rc"; fi

boot --vsock "cid=3,uds=$w/nodir/v.sock" -- true
if [ "$rc" = 125 ] && grep -q "$w/nodir/v.sock" "$w/err"; then
	ok "a uds path in a missing directory is refused (exit 125) and named"
else not_ok "a uds path in a missing directory is refused and named" "status $rc"; fi

# --- 2. one boot: 64 MiB each way, 32 connections at once, refusals both ways -------------------
# The guest's script comes on a small read-only disk (kiln.run= must fit the kernel command line).
cat > "$w/guest.sh" << EOF
set -u
u() { cut -d' ' -f1 /proc/uptime; }
command -v vsock-tool > /dev/null || { echo no_vsock_tool=1; exit 3; }
echo "dev_vsock=\$([ -c /dev/vsock ] && echo yes || echo no)"
echo "h2g_sha=\$(vsock-tool listen 5000 < /dev/null 2> /dev/null | sha256sum | cut -d' ' -f1)"
vsock-tool listen-echo 5001 $NCONN < /dev/null > /dev/null 2>&1
echo "echo_rc=\$?"
head -c $SIZE /dev/urandom > /tmp/d
echo "g2h_sha=\$(sha256sum /tmp/d | cut -d' ' -f1)"
vsock-tool connect 2 5002 < /tmp/d > /dev/null 2>&1
echo "g2h_rc=\$?"
rm -f /tmp/d
t0=\$(u)
vsock-tool connect 2 5003 < /dev/null > /dev/null 2> /tmp/refused
echo "grefuse_rc=\$? grefuse_t0=\$t0 grefuse_t1=\$(u) grefuse_err=\$(tr ' ' _ < /tmp/refused)"
EOF
sector_image "$w/guest.sh" "$w/guest.img"

head -c $SIZE /dev/urandom > "$w/toguest"
i=1
while [ $i -le $NCONN ]; do head -c 65536 /dev/urandom > "$w/e$i"; i=$((i + 1)); done

# The host's side, in the background, in the guest's order; a connection the guest does not listen
# for yet is refused, so each is retried for a while.
cat > "$w/host.sh" << EOF
retry() {  # PORT IN OUT ERR: host-connect until accepted (at most 150 tries, 1 s apart)
	n=0
	until timeout 600 "$T" host-connect "$uds" \$1 < \$2 > \$3 2> \$4; do
		n=\$((n + 1)); [ \$n -ge 150 ] && return 1; sleep 1
	done
}
retry 5000 "$w/toguest" /dev/null "$w/h2g.err" && echo h2g_rc=0
t0=\$(date +%s)
timeout 60 "$T" host-connect "$uds" 5004 < /dev/null > /dev/null 2> "$w/hrefuse.err"
echo "hrefuse_rc=\$? hrefuse_s=\$((\$(date +%s) - t0))"
i=1
while [ \$i -le $NCONN ]; do
	retry 5001 "$w/e\$i" "$w/o\$i" /dev/null &
	i=\$((i + 1))
done
wait
echo host_done=1
EOF
timeout $((tmo * 6)) "$T" host-listen "${uds}_5002" < /dev/null > "$w/fromguest" 2> "$w/g2h.err" &
listener=$!
sh "$w/host.sh" > "$w/host.out" 2>&1 &
bg=$!
btmo=$((tmo * 6)); boot --mem 1G --disk "$w/guest.img,ro" --vsock "cid=3,uds=$uds" -- sh /dev/vda
i=0
while kill -0 "$bg" 2> /dev/null && [ $i -lt 10 ]; do sleep 1; i=$((i + 1)); done
kill "$bg" "$listener" 2> /dev/null
bg=
cat "$w/host.out" >> "$w/out"

if [ "$(value no_vsock_tool)" = 1 ]; then
	fatal "the guest has no /bin/vsock-tool (tests/guest/build.sh must install tests/guest/vsock_tool.c)"
fi
if [ "$(value dev_vsock)" = yes ]; then ok "the guest's vsock driver binds (/dev/vsock)"
else not_ok "the guest's vsock driver binds" "status $rc, /dev/vsock: $(value dev_vsock)"; fi

if [ "$(value h2g_rc)" = 0 ] && [ "$(value h2g_sha)" = "$(sha "$w/toguest")" ]; then
	ok "host -> guest: 64 MiB through CONNECT 5000, sha256 matches"
else not_ok "host -> guest, 64 MiB" "host-connect: $(value h2g_rc) $(cat "$w/h2g.err" 2> /dev/null); sha256 $(value h2g_sha)"; fi

if [ "$(value g2h_rc)" = 0 ] && [ "$(sha "$w/fromguest")" = "$(value g2h_sha)" ]; then
	ok "guest -> host: 64 MiB to ${uds##*/}_5002, sha256 matches"
else not_ok "guest -> host, 64 MiB" "guest's connect: $(value g2h_rc), $(wc -c < "$w/fromguest") bytes, sha256 $(sha "$w/fromguest") vs $(value g2h_sha)"; fi

good=0 i=1
while [ $i -le $NCONN ]; do cmp -s "$w/e$i" "$w/o$i" && good=$((good + 1)); i=$((i + 1)); done
if [ "$(value echo_rc)" = 0 ] && [ $good = $NCONN ]; then ok "$NCONN concurrent connections, each echoed intact"
else not_ok "$NCONN concurrent connections" "guest's listen-echo: $(value echo_rc), $good of $NCONN echoed intact"; fi

if [ "$(value hrefuse_rc)" = 1 ] && grep -q refused "$w/hrefuse.err" && [ "$(value hrefuse_s)" -lt 10 ]; then
	ok "host -> a guest port nobody listens on: refused in $(value hrefuse_s) s"
else not_ok "host -> a port without a guest listener is refused" "status $(value hrefuse_rc) after $(value hrefuse_s) s: $(cat "$w/hrefuse.err")"; fi

gref=$(awk -v a="$(value grefuse_t0)" -v b="$(value grefuse_t1)" 'BEGIN { if (a != "" && b != "") printf "%.2f", b - a }')
if [ "$(value grefuse_rc)" = 1 ] && awk -v t="$gref" 'BEGIN { exit !(t != "" && t < 5) }'; then
	ok "guest -> a host port nobody listens on: refused in $gref s ($(value grefuse_err | tr _ ' '))"
else not_ok "guest -> a port without a host listener is refused" "status $(value grefuse_rc) after ${gref:-?} s"; fi

if [ "$rc" = 0 ] && [ ! -e "$uds" ]; then ok "the guest's script ended with status 0; kiln removed $uds"
else not_ok "the guest's script ends, kiln removes its socket" "status $rc, socket left: $([ -e "$uds" ] && echo yes || echo no)"; fi

# Host-side clocks, from "OK" (host -> guest) or accept (guest -> host) to the end of the stream.
rate() { awk -v s=$SIZE '/^vsock-tool: sent/ { t = $(NF - 1) } END { if (t > 0) printf "%.1f MB/s (%.2f s)", s / 1e6 / t, t; else print "n/a" }' "$1"; }
echo "# measure: vsock host -> guest (64 MiB): $(rate "$w/h2g.err")"
echo "# measure: vsock guest -> host (64 MiB): $(rate "$w/g2h.err")"

# --- 3. the stream ends mid-transfer: the guest resets the device, or the VM ends ----------------
# midboot NAME CMD: the guest listens on 5000 and, once 4 MiB arrived, runs CMD and ends; this host
# streams /dev/zero meanwhile. $ended is when the host client ended, $kiln_end when kiln did.
midboot() {
	cat > "$w/$1.sh" << EOF
vsock-tool listen 5000 < /dev/null > /tmp/x 2> /dev/null &
i=0
while [ "\$(stat -c %s /tmp/x 2> /dev/null || echo 0)" -lt 4194304 ] && [ \$i -lt 1200 ]; do
	sleep 0.1; i=\$((i + 1))
done
[ \$i -lt 1200 ] && echo mid_got=\$(stat -c %s /tmp/x)
$2
EOF
	sector_image "$w/$1.sh" "$w/$1.img"
	cat > "$w/midhost.sh" << EOF
n=0
until timeout 600 "$T" host-connect "$uds" 5000 < /dev/zero > /dev/null 2> "$w/mid.err"; do
	grep -q -e refused -e 'No such file' "$w/mid.err" || break  # kiln not up, or no listener yet
	n=\$((n + 1)); [ \$n -ge 150 ] && break; sleep 1
done
echo midhost_end=\$(date +%s)
EOF
	sh "$w/midhost.sh" > "$w/midhost.out" 2>&1 &
	bg=$!
	btmo=$((tmo * 2)); boot --mem 512M --disk "$w/$1.img,ro" --vsock "cid=3,uds=$uds" -- sh /dev/vda
	kiln_end=$(date +%s)
	i=0
	while kill -0 "$bg" 2> /dev/null && [ $i -lt 15 ]; do sleep 1; i=$((i + 1)); done
	kill "$bg" 2> /dev/null
	bg=
	ended=$(value midhost_end "$w/midhost.out")
}
ended_by_kiln() { grep -q -e 'Broken pipe' -e 'reset by peer' "$w/mid.err"; }

# The driver goes away (unbind: a device reset on a vCPU thread) and the VM runs on for 5 s.
midboot reset 'd=/sys/bus/virtio/drivers/vmw_vsock_virtio_transport
basename "$(ls -d $d/virtio* | head -n 1)" > $d/unbind && echo unbound=1
sleep 5'
if [ "$rc" = 0 ] && [ "$(value unbound)" = 1 ] && [ -n "$ended" ] && [ $((kiln_end - ended)) -ge 3 ] &&
	ended_by_kiln; then
	ok "a driver reset mid-transfer ends the host's stream while the VM runs ($(head -n 1 "$w/mid.err"))"
else not_ok "a driver reset mid-transfer ends the host's stream" "status $rc, guest got $(value mid_got), unbound $(value unbound), client ended ${ended:-never} (kiln at $kiln_end): $(cat "$w/mid.err")"; fi

# The guest just ends: kiln closes the socket as the VM goes (the client's clock is in seconds, and
# kiln's own teardown takes a few more under TCG).
midboot exit ''
if [ "$rc" = 0 ] && [ -n "$(value mid_got)" ] && [ -n "$ended" ] && [ $((ended - kiln_end)) -le 10 ] &&
	[ $((kiln_end - ended)) -le 10 ] && ended_by_kiln; then
	ok "the guest exits mid-transfer: the host client ends ($(head -n 1 "$w/mid.err"))"
else not_ok "the guest exits mid-transfer: the host client ends" "status $rc, guest got $(value mid_got), client ended ${ended:-never} (kiln at $kiln_end): $(cat "$w/mid.err")"; fi
finish
