#!/bin/sh
# tests/integration/ctrl_alt_del.sh — Ctrl-Alt-Del end to end on kiln's Linux test guest: the
# control plane presses it, the guest's init stops its command, syncs and reboots, and the VM ends.
# Runs under busybox sh inside the KVM test host (tests/host/run.sh), or directly on a machine with
# hardware KVM (make check-cad decides).
#
# env: TEST_CAD  the embedding test (tests/integration/test_cad.c, built against libkiln.a);
#                default: test_cad beside $KILN, so that guest_batch.sh can run this suite too
#      GUEST     directory with vmlinuz and initrd.img
#      KILN      the kiln binary, optional with TEST_CAD. When given, the same press goes through
#                the HTTP API too (PUT /actions SendCtrlAltDel), with curl (CURL, default: on PATH)
#      KILN_TEST_TIMEOUT  seconds the boot, and then the reboot, may each take (default 300)
# Prints `ok - NAME` / `not ok - NAME` lines, then `N passed, M failed`; exits 1 if any failed.
# SPDX-License-Identifier: Apache-2.0

[ -n "${TEST_CAD:-}" ] || [ -z "${KILN:-}" ] || TEST_CAD=$(dirname "$KILN")/test_cad
: "${TEST_CAD:?TEST_CAD=path/to/test_cad}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
. "$(dirname "$0")/lib.sh"
require_kvm "$TEST_CAD" "$GUEST/vmlinuz" "$GUEST/initrd.img"

# 1. Through libkiln: kiln_vm_send_ctrl_alt_del (test_cad prints its own ok/not ok lines).
"$TEST_CAD" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$tmo" > "$w/cad.out" 2>&1
rc=$?
cat "$w/cad.out"
pass=$((pass + $(grep -c '^ok - ' "$w/cad.out")))
failed=$((failed + $(grep -c '^not ok - ' "$w/cad.out")))
[ "$rc" = 0 ] || [ "$(grep -c '^not ok - ' "$w/cad.out")" != 0 ] || {
	not_ok "test_cad exited $rc" "its output is above"
}

# 2. Through the API, Firecracker's way (when KILN is given; then curl must be there too).
# The guest command, percent-encoded for kiln.run: the same as test_cad's (GUEST_SCRIPT there).
script='until%20grep%20-q%20%27AT%20Translated%20Set%202%20keyboard%27%20/proc/bus/input/devices%3B%20do%20sleep%200.1%3B%20done%3B%20echo%20kiln-cad-ready%3B%20exec%20sleep%201000'
api() {  # METHOD PATH JSON: prints the HTTP status
	"${CURL:-curl}" -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" -X "$1" "http://localhost$2" \
		-H 'Content-Type: application/json' -d "$3"
}
if [ -z "${KILN:-}" ]; then
	echo "# SKIP the API press: KILN is not set (only test_cad ran)"
elif ! command -v "${CURL:-curl}" > /dev/null; then
	fatal "the API press needs curl (CURL=${CURL:-curl} not found)"
else
	name="the API's SendCtrlAltDel reboots the guest cleanly"
	sock=$w/api.sock
	"$KILN" --api-sock "$sock" > "$w/api.out" 2> "$w/api.err" &
	kiln_pid=$!
	i=0; while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	boot_args="console=ttyS0 reboot=k panic=-1 pci=off quiet loglevel=2 kiln.run=sh,-c,$script"
	s1=$(api PUT /boot-source "{\"kernel_image_path\": \"$GUEST/vmlinuz\", \"initrd_path\": \"$GUEST/initrd.img\", \"boot_args\": \"$boot_args\"}")
	s2=$(api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 512}')
	s3=$(api PUT /actions '{"action_type": "InstanceStart"}')
	i=0; while ! grep -q kiln-cad-ready "$w/api.out" && [ $i -lt $((tmo * 10)) ]; do sleep 0.1; i=$((i + 1)); done
	s4=000; i=0  # until the guest's keyboard driver listens
	while [ "$s4" != 204 ] && [ $i -lt 30 ]; do s4=$(api PUT /actions '{"action_type": "SendCtrlAltDel"}'); [ "$s4" = 204 ] || sleep 1; i=$((i + 1)); done
	i=0; while kill -0 "$kiln_pid" 2> /dev/null && [ $i -lt $((tmo * 10)) ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$kiln_pid" 2> /dev/null; then
		kill "$kiln_pid"
		not_ok "$name" "kiln still runs $tmo s after the press"
	elif [ "$s1$s2$s3$s4" = 204204204204 ] && tr -d '\r' < "$w/api.out" | grep -q '^kiln-init: Ctrl-Alt-Del: .*rebooting$'; then
		ok "$name"
	else
		cp "$w/api.out" "$w/out" && cp "$w/api.err" "$w/err"
		not_ok "$name" "HTTP $s1 $s2 $s3 $s4"
	fi
	wait "$kiln_pid" 2> /dev/null
	rm -f "$sock"
fi

finish
