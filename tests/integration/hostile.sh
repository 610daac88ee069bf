#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Boots the hostile tiny guest (tests/tiny/hostile, built by `make tiny`) on a live kiln, once with
# every virtio device but the console (COM1 carries the guest's lines and the host side's
# acknowledgements) and once with the virtio console (console input waiting from the start). The
# guest plays register games on each device (tests/tiny/hostile/games.c) and reports the number of
# failed checks as its exit status. hostile_host (tests/integration/hostile_host.c) runs kiln, sends
# what the guest asks for on the vsock socket and the tap, and relays the guest's lines.
#
# Usage: hostile.sh KILN_BINARY HOSTILE_HOST TINY_DIR
# Per run, checks that kiln exits with the guest's status 0 (not a signal, not a timeout), that every
# check of the guest and of the host side passed, that the guest found the devices it was given,
# and that stderr holds no sanitizer report. The tap lives in a network namespace made here and
# deleted at exit; without one (not root, no iproute2 or /dev/net/tun) the run goes without a NIC and
# says so. Prints "ok - ..." / "not ok - ..." lines, then "N passed, M failed"; exits 1 if any
# failed, 77 (skip) without /dev/kvm, 2 on bad usage.

set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 KILN_BINARY HOSTILE_HOST TINY_DIR" >&2
	exit 2
fi
kiln=$1
host=$2
guest=$3/hostile.elf
for f in "$kiln" "$host"; do
	if [ ! -x "$f" ]; then
		echo "hostile.sh: $f is not an executable" >&2
		exit 2
	fi
done
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "hostile.sh: SKIP: /dev/kvm is not usable here" >&2
	exit 77
fi

# Long enough for the sanitizer build under PVM, where every exit costs microseconds.
TIMEOUT=300
DISK_MAGIC='kiln hostile disk'
TAP=kh0
TAP_NET=10.0.2
ns=kilnhostile$$
ns_made=

tmp=$(mktemp -d) || exit 2
cleanup() {
	if [ -n "$ns_made" ]; then
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

out=$tmp/stdout
err=$tmp/stderr
. "$(dirname "$0")/tiny_lib.sh"

# make_netns: a namespace with a tap (IPv6 off, so that only the host side's frames reach it).
make_netns() {
	command -v ip >/dev/null 2>&1 && [ -c /dev/net/tun ] && [ "$(id -u)" -eq 0 ] || return 1
	ip netns add "$ns" 2>/dev/null || return 1
	ns_made=yes
	ip -n "$ns" tuntap add "$TAP" mode tap &&
		ip netns exec "$ns" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$TAP/disable_ipv6" &&
		ip -n "$ns" addr add "$TAP_NET.1/24" dev "$TAP" &&
		ip -n "$ns" link set "$TAP" up
}

# run NAME EXPECTED_DEVICES NETNS HOSTILE_HOST_ARGS...: one boot through hostile_host (inside the
# network namespace NETNS unless it is empty), judged.
run() {
	name=$1
	devices=$2
	netns=$3
	shift 3
	if [ -n "$netns" ]; then
		ip netns exec "$netns" "$host" -t "$TIMEOUT" "$@" >"$out" 2>"$err"
	else
		"$host" -t "$TIMEOUT" "$@" >"$out" 2>"$err"
	fi
	status=$?
	judge "$name" "$devices"
}

# judge NAME EXPECTED_DEVICES: the checks on one boot's status, stdout and stderr.
judge() {
	checks=$(grep -c '^ok - ' "$out")
	bad=$(grep -c '^not ok - ' "$out")
	if [ "$status" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$checks" -gt 0 ]; then
		ok "$1: kiln exits with the guest's status 0 ($checks checks passed)"
	elif [ "$status" -eq 137 ]; then
		not_ok "$1: kiln exits with the guest's status" "timed out after $TIMEOUT s; killed"
	elif [ "$status" -gt 128 ]; then
		not_ok "$1: kiln exits with the guest's status" "kiln was killed by signal $((status - 128))"
	else
		not_ok "$1: kiln exits with the guest's status" "status $status, $bad checks failed"
	fi
	grep '^not ok - ' "$out" | head -n 40 | sed 's/^/#   /'
	if [ "$status" -ne 0 ]; then
		grep -v '^kiln: warning:' "$err" | tail -n 5 | sed 's/^/#   stderr: /'
	fi
	found=$(sed -n 's/^# devices: //p' "$out")
	if [ "$found" = "$devices" ]; then
		ok "$1: the guest found $devices"
	else
		not_ok "$1: the guest found $devices" "it found \"$found\""
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$err"; then
		not_ok "$1: no sanitizer report" "$(grep -m 1 -E 'Sanitizer|runtime error:' "$err")"
	else
		ok "$1: no sanitizer report"
	fi
}

printf '%s' "$DISK_MAGIC" >"$tmp/disk.img" && truncate -s 1M "$tmp/disk.img" || exit 2
if make_netns; then
	run "all devices, COM1 console" "virtio-blk virtio-net virtio-vsock virtio-rng" "$ns" \
		-u "$tmp/v.sock" -b "$TAP_NET.255" -- "$kiln" run --kernel "$guest" --mem 16M \
		--disk "$tmp/disk.img" --vsock "cid=3,uds=$tmp/v.sock" --rng --net "tap=$TAP"
else
	echo "# no network namespace with a tap here (needs root, iproute2 and /dev/net/tun): no NIC"
	run "all devices but a NIC, COM1 console" "virtio-blk virtio-vsock virtio-rng" "" \
		-u "$tmp/v.sock" -- "$kiln" run --kernel "$guest" --mem 16M \
		--disk "$tmp/disk.img" --vsock "cid=3,uds=$tmp/v.sock" --rng
fi
run "virtio console" "virtio-console" "" -i 4096 -- "$kiln" run --kernel "$guest" --mem 16M --console virtio

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
