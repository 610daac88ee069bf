#!/bin/sh
# tests/integration/arm64_hostile.sh — the arm64 machine's guest-facing paths as a hostile guest
# uses them, each by a tiny freestanding arm64 guest (tests/tiny-arm64, built by `make tiny-arm64`)
# that does one thing a guest should not, run by the arm64 kiln in the arm64 KVM test host (make
# check-linux-arm64): MMIO of odd widths, past a device's end and in no device; a load pair and a
# store with writeback to a device (no valid syndrome: KVM_EXIT_ARM_NISV); PSCI misuse; power-off
# from a secondary vCPU while the boot vCPU spins with interrupts masked; the boot vCPU turning
# itself off; a vendor SYSTEM_RESET2; a guest that never ends, stopped by SIGTERM and SIGINT; the
# guest's counter across an API pause. Each check reads kiln's exit status, its stderr lines and
# the guest's console.
#
# env: KILN              the arm64 kiln
#      TINY              directory with the tiny arm64 guests' NAME.Image
#      HTTP_RAW          tests/api/http_raw.c built static for arm64 (the test host has no curl)
#      KILN_TEST_TIMEOUT seconds one boot may take (default 300; these take about a second)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${TINY:?TINY=dir with the tiny arm64 guests}" "${HTTP_RAW:?HTTP_RAW=http-raw}"
. "$(dirname "$0")/lib.sh"
pid=""
end_all() { [ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null; }
cleanup_hook=end_all
require_kvm "$KILN" "$HTTP_RAW" "$TINY/spin.Image" "$TINY/mmio_widths.Image"

# tiny NAME [KILN OPTIONS]: kiln runs the tiny guest NAME (at most 60 s); $rc its status ("timeout"
# if it had to be killed), its console less carriage returns in $w/out, its stderr in $w/err.
tiny() {
	name=$1 start=$(date +%s)
	shift
	timeout -s KILL 60 "$KILN" run --kernel "$TINY/$name.Image" --mem 32M "$@" < /dev/null > "$w/raw" 2> "$w/err"
	rc=$?
	[ $(($(date +%s) - start)) -ge 60 ] && rc=timeout
	shown=
	tr -d '\r' < "$w/raw" > "$w/out"
}
# stderr_lines: kiln's stderr less its warnings (none are expected on arm64, but a host may add one).
stderr_lines() { grep -v '^kiln: warning:' "$w/err"; }
# console_is TEXT: the guest's console is exactly the line TEXT.
console_is() { [ "$(cat "$w/out")" = "$1" ]; }

# --- MMIO: widths, past a device's end, no device ---------------------------------------------------
tiny mmio_widths --rng
if [ "$rc" = 42 ] && console_is ABCD && [ -z "$(stderr_lines)" ]; then
	ok "MMIO of 1/2/4/8 bytes to the UART and virtio-mmio, past the debug device's end, in no device: 42, console ABCD"
else not_ok "MMIO widths and unclaimed accesses" "exit status $rc (10-19: a check in mmio_widths.S), console '$(cat "$w/out")'"; fi

# --- no valid syndrome: the VM stops as crashed, naming the access ---------------------------------
# Two lines: the vCPU's registers at the crash, then the crash (as x86's internal errors).
nisv() {  # GUEST WHAT: WHAT is the expected access, e.g. "a read at 0x9000000"
	tiny "$1"
	crash_line="kiln: the guest crashed: vCPU 0: $2 outside RAM that KVM cannot emulate"
	if [ "$rc" = 123 ] && [ "$(stderr_lines | wc -l)" = 2 ] &&
		stderr_lines | head -n 1 | grep -q '^kiln: vcpu: vCPU 0 at the crash: pc=0x8000' &&
		stderr_lines | tail -n 1 | grep -qF "$crash_line"; then
		ok "$1: 123 and one line naming $2 (KVM_EXIT_ARM_NISV)"
		note "$(stderr_lines | tail -n 1)"
	else not_ok "$1: 123 and one line naming $2" "exit status $rc, stderr: $(tail -n 2 "$w/err" | tr '\n' '|')"; fi
}
nisv nisv_pair "a read at 0x9000000"
nisv nisv_writeback "a write at 0x9010000"

# --- PSCI ------------------------------------------------------------------------------------------
tiny psci_misuse --cpus 2
if [ "$rc" = 42 ] && [ -z "$(stderr_lines)" ]; then
	ok "PSCI misuse (bad MPIDR, self CPU_ON, unknown id, bad RESET2 type, CPU_ON into no RAM): status 42"
else not_ok "PSCI misuse" "exit status $rc (20-29: a PSCI answer in psci_misuse.S), stderr: $(head -n 2 "$w/err" | tr '\n' '|')"; fi

tiny psci_off_secondary --cpus 2
if [ "$rc" = 0 ] && console_is S && [ -z "$(stderr_lines)" ]; then
	ok "SYSTEM_OFF from vCPU 1 while vCPU 0 spins masked: 0, console S"
else not_ok "SYSTEM_OFF from a secondary" "exit status $rc, console '$(cat "$w/out")', stderr: $(head -n 2 "$w/err" | tr '\n' '|')"; fi

tiny cpu0_off --cpus 2
if [ "$rc" = 43 ] && [ -z "$(stderr_lines)" ]; then ok "CPU_OFF of vCPU 0 while vCPU 1 runs: vCPU 1's status 43"
else not_ok "CPU_OFF of vCPU 0" "exit status $rc, stderr: $(head -n 2 "$w/err" | tr '\n' '|')"; fi

tiny reset2
if [ "$rc" = 0 ] && console_is 2 && [ -z "$(stderr_lines)" ]; then ok "SYSTEM_RESET2, vendor type: ends as a reset, 0"
else not_ok "SYSTEM_RESET2, vendor type" "exit status $rc, console '$(cat "$w/out")', stderr: $(head -n 2 "$w/err" | tr '\n' '|')"; fi

# --- a guest that never ends: a signal ends kiln -----------------------------------------------------
for sig in TERM INT; do
	"$KILN" run --kernel "$TINY/spin.Image" --mem 32M --cpus 2 < /dev/null > "$w/raw" 2> "$w/err" &
	pid=$!
	tmo=60
	if wait_for "$w/raw" '^R'; then
		kill -"$sig" "$pid"
		tmo=30
		wait_for /dev/null '^never$' # returns once kiln has ended, or after 30 s
		kill -KILL "$pid" 2> /dev/null && rc=timeout || { wait "$pid"; rc=$?; }
	else rc="no R on the console"; fi
	pid="" shown=""
	tr -d '\r' < "$w/raw" > "$w/out"
	[ "$sig" = TERM ] && want=143 || want=130
	if [ "$rc" = "$want" ]; then ok "SIG$sig ends kiln whose guest spins with interrupts masked: $want"
	else not_ok "SIG$sig ends a spinning guest" "exit status $rc, expected $want"; fi
done
tmo=${KILN_TEST_TIMEOUT:-300}

# --- the guest's counter does not run across a pause ------------------------------------------------
# counter.S: 6 s of its counter after "R", status 45 if one step between two reads was 3 s or more.
# The pause is 6 s: a counter that ran on would show a step of about that (the vCPU thread would have
# to be held 3 s by the test host for a step that large without a pause).
sock=$w/api.sock
api() {  # METHOD PATH BODY: one request; $code its reply's status
	printf '%s %s HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' \
		"$1" "$2" "${#3}" "$3" | "$HTTP_RAW" "$sock" > "$w/reply" 2>&1
	code=$(sed -n '1s|^HTTP/1\.1 \([0-9]*\).*|\1|p' "$w/reply")
}
"$KILN" run --kernel "$TINY/counter.Image" --mem 32M --api-sock "$sock" < /dev/null > "$w/raw" 2> "$w/err" &
pid=$!
tmo=60 why=
if wait_for "$w/raw" '^R'; then
	api PATCH /vm '{"state": "Paused"}'
	[ "$code" = 204 ] || why="pause: ${code:-no reply}"
	sleep 6
	api PATCH /vm '{"state": "Resumed"}'
	[ "$code" = 204 ] || why="$why resume: ${code:-no reply}"
	wait_for /dev/null '^never$'
	kill -KILL "$pid" 2> /dev/null && rc=timeout || { wait "$pid"; rc=$?; }
else rc="no R on the console"; fi
pid="" shown=""
tr -d '\r' < "$w/raw" > "$w/out"
tmo=${KILN_TEST_TIMEOUT:-300}
if [ "$rc" = 44 ] && [ -z "$why" ]; then ok "a 6 s pause: the guest's counter shows no step of 3 s (44)"
else not_ok "the guest's counter across a pause" "exit status $rc (45: it jumped) ${why}"; fi

finish
