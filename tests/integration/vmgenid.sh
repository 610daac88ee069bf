#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The VM Generation ID with the tiny guest tests/tiny/vmgenid.S, which prints "boot ID" (the 16
# bytes at kiln's X86_VMGENID_ADDR, in hex) and waits for the Generic Event Device's interrupt, then
# prints "event ID" and exits with status 33:
#   (a) two boots see two different IDs;
#   (b) one snapshot of a waiting guest, restored twice: each restored guest gets the interrupt
#       before anything else wakes it and reads an ID that differs from the snapshot's and from
#       the other restore's.
# Every wait is bounded; nothing is timed.
#
# usage: vmgenid.sh KILN_BINARY TINY_DIR
# Prints "ok - NAME" or "not ok - NAME (why)", then "N passed, M failed"; exits 1 if any failed,
# 77 (skip) without /dev/kvm, 2 on bad usage.

set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 KILN_BINARY TINY_DIR" >&2
	exit 2
fi
kiln=$1 guest=$2/vmgenid.elf
event_status=33
[ -x "$kiln" ] || { echo "vmgenid.sh: $kiln is not an executable" >&2; exit 2; }
[ -f "$guest" ] || { echo "vmgenid.sh: $guest is missing (make tiny)" >&2; exit 2; }
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "vmgenid.sh: SKIP: /dev/kvm is not usable here" >&2
	exit 77
fi

tmp=$(mktemp -d) || exit 2
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sock=$tmp/api.sock
. "$(dirname "$0")/tiny_lib.sh"

# id WORD FILE: the ID of FILE's line "WORD ID" when FILE is exactly that line, else nothing.
id() {
	[ "$(wc -l <"$2")" = 1 ] && sed -n "s/^$1 \([0-9a-f]\{32\}\)\$/\1/p" "$2"
}

# boot NAME [SNAPSHOT_DIR]: boots the guest with its API on $sock until it prints its boot line,
# snapshots it into SNAPSHOT_DIR when given ($snap_status), kills it; $booted is the ID it printed.
boot() {
	rm -f "$sock"
	"$kiln" run --api-sock "$sock" --kernel "$guest" --mem 16M </dev/null >"$tmp/$1.out" 2>"$tmp/$1.err" &
	pid=$!
	for _ in $(seq 200); do
		[ -n "$(id boot "$tmp/$1.out")" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ $# -ge 2 ]; then
		timeout -s KILL 20 "$kiln" snapshot --api-sock "$sock" "$2" </dev/null >/dev/null 2>"$tmp/snap.err"
		snap_status=$?
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
	sanitizer "$tmp/$1.err"
	booted=$(id boot "$tmp/$1.out")
}

# restore NAME DIR: `kiln restore DIR` (20 s at most); $status, the output in $tmp/NAME.out.
restore() {
	timeout -s KILL 20 "$kiln" restore "$2" </dev/null >"$tmp/$1.out" 2>"$tmp/$1.err"
	status=$?
	sanitizer "$tmp/$1.err"
}

# --- (a) two boots ------------------------------------------------------------------------------
boot boot1 "$tmp/snap"
first=$booted
boot boot2
second=$booted
check "a booted guest reads a 16-byte ID at the VM generation ID's address" \
	"$([ -n "$first" ] && [ -n "$second" ] || head -c 200 "$tmp/boot1.out" "$tmp/boot2.out")"
check "the ID is not zero" "$([ "$first" != 00000000000000000000000000000000 ] || echo "$first")"
check "two boots get two IDs" "$([ "$first" != "$second" ] || echo "both $first")"
check "kiln snapshot of the waiting guest" "$([ "$snap_status" = 0 ] || echo "status $snap_status: $(cat "$tmp/snap.err")")"

# --- (b) one snapshot, two restores -------------------------------------------------------------
# restored NAME: empty when the restore exited with the event's status and printed one event line.
restored() {
	[ "$status" = "$event_status" ] && [ -n "$(id event "$tmp/$1.out")" ] ||
		echo "status $status: $(head -c 200 "$tmp/$1.out") $(grep -v '^kiln: warning:' "$tmp/$1.err" | head -n 2)"
}
restore again1 "$tmp/snap"
check "a restored guest gets the GED's interrupt and reads the ID (status $event_status, one line)" \
	"$(restored again1)"
one=$(id event "$tmp/again1.out")
restore again2 "$tmp/snap"
check "so does a second restore of the same snapshot" "$(restored again2)"
two=$(id event "$tmp/again2.out")
check "the first restore's ID is not the snapshot's" "$([ "$one" != "$first" ] || echo "both '$one'")"
check "the second restore's ID is not the snapshot's" "$([ "$two" != "$first" ] || echo "both '$two'")"
check "two restores of one snapshot get two IDs" "$([ "$one" != "$two" ] || echo "both '$one'")"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
