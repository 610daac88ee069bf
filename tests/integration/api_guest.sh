#!/bin/sh
# tests/integration/api_guest.sh — boots kiln's Linux test guest through the Firecracker-compatible
# API, with curl --unix-socket as Firecracker's getting-started guide does, and checks what the guest
# did from its console (kiln's stdout). Runs under busybox sh inside the KVM test host
# (tests/host/run.sh, curl copied in with -f), or directly on a machine with hardware KVM.
#
# env: KILN              the kiln binary
#      GUEST             directory with vmlinuz and initrd.img
#      CURL              the curl binary (default: curl on PATH)
#      KILN_TEST_TIMEOUT seconds a boot may take (default 300)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
curl=${CURL:-curl}
. "$(dirname "$0")/lib.sh"
sock=$w/api.sock
pid=
kill_kiln() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; }
cleanup_hook=kill_kiln
# Firecracker's guide passes the whole command line; kiln.run= is kiln's guest init's command.
base_args="console=ttyS0 reboot=k panic=-1 pci=off quiet"

# start: kiln serving the API on $sock, its console in $w/raw; $pid.
start() {
	rm -f "$sock"
	"$KILN" --api-sock "$sock" < /dev/null > "$w/raw" 2> "$w/err" &
	pid=$!
	deadline=
	while [ ! -S "$sock" ] && before 20; do sleep 0.1; done
	[ -S "$sock" ]
}

# api METHOD PATH [BODY]: one request; $code is its status, $w/reply its body.
api() {
	if [ $# -ge 3 ]; then
		code=$("$curl" -s -o "$w/reply" -w '%{http_code}' --max-time 120 --unix-socket "$sock" -X "$1" \
			-H 'Accept: application/json' -H 'Content-Type: application/json' -d "$3" "http://localhost$2")
	else
		code=$("$curl" -s -o "$w/reply" -w '%{http_code}' --max-time 120 --unix-socket "$sock" -X "$1" \
			-H 'Accept: application/json' "http://localhost$2")
	fi
	echo "#   $1 $2: $code $(head -c 200 "$w/reply" 2>/dev/null)"
}

# configure KILN_RUN: machine, kernel, initrd and boot_args with kiln.run=KILN_RUN (percent-encoded
# argv, joined by ','), a drive and an entropy device; fails on the first reply that is not 204.
configure() {
	api PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 512, "smt": false}' &&
		[ "$code" = 204 ] &&
		api PUT /boot-source "{\"kernel_image_path\": \"$GUEST/vmlinuz\", \"initrd_path\": \"$GUEST/initrd.img\", \"boot_args\": \"$base_args kiln.run=$1\"}" &&
		[ "$code" = 204 ] &&
		api PUT /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$w/disk\", \"is_root_device\": false, \"is_read_only\": true}" &&
		[ "$code" = 204 ] &&
		api PUT /entropy '{}' && [ "$code" = 204 ]
}

# before SECONDS: true until SECONDS from when it was first called with a fresh $deadline.
before() {
	[ -n "${deadline:-}" ] || deadline=$(($(date +%s) + $1))
	[ "$(date +%s)" -lt "$deadline" ]
}

# abandon: kills kiln (a test that failed before the guest could end).
abandon() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid"
	pid=
}

# wait_exit: waits for kiln to end ($tmo s at most); $rc is its status ("timeout" if it did not end).
wait_exit() {
	deadline=
	while kill -0 "$pid" 2>/dev/null && before "$tmo"; do sleep 0.2; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid"
		rc=timeout
	else
		wait "$pid"
		rc=$?
	fi
	pid= shown=
	tr -d '\r' < "$w/raw" > "$w/out"
}

# wait_for TEXT: until the console shows TEXT ($tmo s at most).
wait_for() {
	deadline=
	while ! tr -d '\r' < "$w/raw" | grep -q "$1" && before "$tmo"; do
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
	tr -d '\r' < "$w/raw" | grep -q "$1"
}

size() { wc -c < "$w/raw"; }

require_kvm "$KILN" "$GUEST/vmlinuz" "$GUEST/initrd.img"
dd if=/dev/zero of="$w/disk" bs=1M count=16 2>/dev/null

# 1. Boot through the API, run a command, read its output; kiln exits with the command's status.
#    argv: sh -c 'cat /sys/block/vda/serial; echo; echo api-guest-ok; exit 7'
if start && configure 'sh,-c,cat%20/sys/block/vda/serial%3B%20echo%3B%20echo%20api-guest-ok%3B%20exit%207' &&
	api PUT /actions '{"action_type": "InstanceStart"}' && [ "$code" = 204 ]; then
	wait_exit
	if [ "$rc" = 7 ] && grep -qx api-guest-ok "$w/out"; then ok "API boot: the command runs, kiln exits with its status"
	else not_ok "API boot: the command runs, kiln exits with its status" "exit status $rc"; fi
	if grep -qx scratch "$w/out"; then ok "API boot: the drive's id is its virtio-blk serial"
	else not_ok "API boot: the drive's id is its virtio-blk serial" "no 'scratch' line"; fi
else
	not_ok "API boot" "configuration or InstanceStart failed: $code $(cat "$w/reply" 2>/dev/null)"
	abandon
fi

# 2. Pause and resume a guest printing a tick a second; then Ctrl-Alt-Del reboots it cleanly.
#    argv: sh -c 'echo ready; while :; do echo tick; sleep 1; done'
if start && configure 'sh,-c,echo%20ready%3B%20while%20:%3B%20do%20echo%20tick%3B%20sleep%201%3B%20done' &&
	api PUT /actions '{"action_type": "InstanceStart"}' && [ "$code" = 204 ] && wait_for '^tick'; then
	api PATCH /vm '{"state": "Paused"}'
	a=$(size)
	sleep 3
	b=$(size)
	api GET /
	if [ "$a" = "$b" ] && grep -q '"state":"Paused"' "$w/reply"; then ok "Linux guest paused: its output stops"
	else not_ok "Linux guest paused: its output stops" "$a then $b bytes; $(cat "$w/reply")"; fi
	api PATCH /vm '{"state": "Resumed"}'
	deadline=
	while [ "$(size)" = "$b" ] && before 30; do sleep 0.2; done
	if [ "$(size)" != "$b" ]; then ok "Linux guest resumed: it ticks again"
	else not_ok "Linux guest resumed: it ticks again" "no output for 30 s"; fi
	api PUT /actions '{"action_type": "SendCtrlAltDel"}'
	sent=$code
	wait_exit
	if [ "$sent" = 204 ] && [ "$rc" = 0 ] && grep -q 'kiln-init: Ctrl-Alt-Del' "$w/out"; then
		ok "SendCtrlAltDel: the guest reboots cleanly and kiln exits 0"
	else
		not_ok "SendCtrlAltDel: the guest reboots cleanly and kiln exits 0" "reply $sent, exit status $rc"
	fi
else
	not_ok "API boot of a ticking guest" "configuration, InstanceStart or the first tick failed: $code"
	abandon
fi

finish
