#!/bin/sh
# tests/integration/ctrl_alt_del.sh — Ctrl-Alt-Del end to end on kiln's Linux test guest: the
# control plane presses it, the guest's init stops its command, syncs and reboots, and the VM ends.
# Runs under busybox sh inside the KVM test host (tests/host/run.sh), or directly on a machine with
# hardware KVM (make check-cad decides).
#
# env: TEST_CAD  the embedding test (tests/integration/test_cad.c, built against libkiln.a);
#                default: test_cad beside $KILN, so that guest_batch.sh can run this suite too
#      GUEST     directory with vmlinuz and initrd.img
#      KILN      the kiln binary, optional with TEST_CAD. When it has --api-sock and curl is here,
#                the same press goes through the HTTP API too (PUT /actions SendCtrlAltDel).
#      KILN_TEST_TIMEOUT  seconds the boot, and then the reboot, may each take (default 300)
# Prints `ok - NAME` / `not ok - NAME` lines, then `N passed, M failed`; exits 1 if any failed.
# SPDX-License-Identifier: Apache-2.0

[ -n "${TEST_CAD:-}" ] || [ -z "${KILN:-}" ] || TEST_CAD=$(dirname "$KILN")/test_cad
: "${TEST_CAD:?TEST_CAD=path/to/test_cad}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
tmo=${KILN_TEST_TIMEOUT:-300}
w=$(mktemp -d) || exit 1
trap 'rm -rf "$w"' EXIT
pass=0 failed=0

if [ ! -c /dev/kvm ]; then
	echo "not ok - /dev/kvm (missing: this test needs KVM; see tests/host/README.md)"
	echo "0 passed, 1 failed"
	exit 1
fi

# 1. Through libkiln: kiln_vm_send_ctrl_alt_del (test_cad prints its own ok/not ok lines).
"$TEST_CAD" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$tmo" > "$w/cad.out" 2>&1
rc=$?
cat "$w/cad.out"
pass=$((pass + $(grep -c '^ok - ' "$w/cad.out")))
failed=$((failed + $(grep -c '^not ok - ' "$w/cad.out")))
[ "$rc" = 0 ] || [ "$(grep -c '^not ok - ' "$w/cad.out")" != 0 ] || {
	echo "not ok - test_cad exited $rc"
	failed=$((failed + 1))
}

# 2. Through the API, Firecracker's way, once kiln has one.
# The guest command, percent-encoded for kiln.run: the same as test_cad's (GUEST_SCRIPT there).
script='until%20grep%20-q%20%27AT%20Translated%20Set%202%20keyboard%27%20/proc/bus/input/devices%3B%20do%20sleep%200.1%3B%20done%3B%20echo%20kiln-cad-ready%3B%20exec%20sleep%201000'
api() {  # METHOD PATH JSON: prints the HTTP status
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" -X "$1" "http://localhost$2" \
		-H 'Content-Type: application/json' -d "$3"
}
if [ -z "${KILN:-}" ] || ! "$KILN" --help 2>&1 | grep -q -- --api-sock || ! command -v curl > /dev/null; then
	echo "# SKIP the API press: needs KILN with --api-sock and curl"
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
		kill "$kiln_pid"; echo "not ok - $name (kiln still runs $tmo s after the press)"; failed=$((failed + 1))
	elif [ "$s1$s2$s3$s4" = 204204204204 ] && tr -d '\r' < "$w/api.out" | grep -q '^kiln-init: Ctrl-Alt-Del: .*rebooting$'; then
		echo "ok - $name"; pass=$((pass + 1))
	else
		echo "not ok - $name (HTTP $s1 $s2 $s3 $s4)"; failed=$((failed + 1))
		tail -n 15 "$w/api.out" | sed 's/^/#   stdout: /'; tail -n 15 "$w/api.err" | sed 's/^/#   stderr: /'
	fi
	wait "$kiln_pid" 2> /dev/null
	rm -f "$sock"
fi

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
