#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Snapshot and restore from the command line and through Firecracker's API, with the tiny guest
# tests/tiny/count.S: it counts 1..2500 on the UART, one number a line, and exits with status 50.
#   (a) `kiln run --api-sock`, `kiln snapshot`, the first kiln killed, `kiln restore`: the count goes
#       on at the next number, no gap or repeat, to 2500, and kiln exits 50;
#   (b) a chain: a restored guest snapshotted in turn, killed, restored again; and `--resume`;
#   (c) the same through the raw API with curl: PUT /snapshot/create while Paused, PUT
#       /snapshot/load in a fresh kiln with resume_vm true, then false and PATCH /vm Resumed;
#   (d) refusals: a snapshot of a running guest, a load after /boot-source, damaged, truncated and
#       mismatched files, a Uffd backend, a NIC the snapshot lacks, each answered with one line
#       (400, or exit status 125 from the command line), the process left fresh;
#   (e) a NIC: the guest run with one on a tap (kiln inside a network namespace made here, with its
#       taps, and deleted at the end), snapshotted, restored on the same tap, on another (`--net-tap
#       net0=TAP`, and PUT /snapshot/load's network_overrides, after which GET /vm/config shows the
#       new tap), refused on a missing tap or for an id the snapshot lacks (one line naming it).
#       Without root (no namespace can be made) (e) is reported as one SKIP line.
#   (f) virtio-console and virtio-vsock, with tests/tiny/snapguest/: the guest counts on
#       virtio-console (without MULTIPORT, and with it) and is restored twice: the count goes on with
#       no gap or repeat, and the port takes input at the end with no new handshake; a vsock guest
#       restored (from the command line, with --vsock-uds, and by PUT /snapshot/load with
#       vsock_override) gets a TRANSPORT_RESET, then connects to the host and takes a host's
#       connection, at the socket the restore made (VSOCK_TOOL is the host's end).
#   (g) Diff snapshots (--track-dirty-pages): Full, then Diff, then Diff; each Diff's memory file
#       is the RAM's size with a few pages of data; merged (kiln snapshot-merge) onto the Full, the
#       chain restores and counts on to the end; a layer missing is caught by the guest (its count
#       in memory disagrees with its register); a restored guest takes Diffs in turn; a Diff of a
#       guest without tracking is refused; the virtio-console guest of (f) through a Diff; through
#       the API, track_dirty_pages in /machine-config and /snapshot/load, and a first Diff (since
#       boot) merged onto an empty file restores.
# Every exchange with the API is then held against firecracker.yaml by the contract checker.
# Every wait is bounded; nothing is timed.
#
# usage: snapshot.sh KILN_BINARY TINY_DIR CONTRACT_BINARY SCHEMA_TSV VSOCK_TOOL
# Prints "ok - NAME" or "not ok - NAME (why)", then "N passed, M failed"; exits 1 if any failed,
# 77 (skip) without /dev/kvm, 2 on bad usage.

set -u

if [ $# -ne 5 ]; then
	echo "usage: $0 KILN_BINARY TINY_DIR CONTRACT_BINARY SCHEMA_TSV VSOCK_TOOL" >&2
	exit 2
fi
kiln=$1 count=$2/count.elf contract=$3 schema=$4 vsock_tool=$5 guest=$2/snapguest.elf
end=2500 end_status=50
for f in "$kiln" "$contract" "$vsock_tool"; do
	[ -x "$f" ] || { echo "snapshot.sh: $f is not an executable" >&2; exit 2; }
done
for f in "$count" "$guest"; do
	[ -f "$f" ] || { echo "snapshot.sh: $f is missing (make tiny $guest)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "snapshot.sh: curl is missing (scripts/install-deps.sh curl)" >&2; exit 2; }
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "snapshot.sh: SKIP: /dev/kvm is not usable here" >&2
	exit 77
fi

tmp=$(mktemp -d) || exit 2
pid=
listener=
ns=kilnsnap$$ ns_made=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$listener" ] && kill "$listener" 2>/dev/null
	if [ -n "$ns_made" ]; then
		# A kiln still in the namespace would keep its taps: end it first.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

exchanges=$tmp/exchanges
: >"$exchanges"
n=0
. "$(dirname "$0")/tiny_lib.sh"

# Every kiln runs as $in_ns "$kiln": in the network namespace of (e) there (ip netns exec execs kiln
# in its own process: $pid is kiln's).
in_ns=

# KILN_TEST_NICE: the niceness of the kilns the suite runs in the background (none unless set). In
# the KVM test host (mk/kvm.mk: one CPU, guest exits cheap) their counting guest would otherwise
# count to its end while the suite's own commands (curl, kiln snapshot) are still starting.
nice_kiln=${KILN_TEST_NICE:+nice -n $KILN_TEST_NICE}

# start NAME SOCKET KILN_ARGS...: kiln in the background (console: stdin /dev/null, stdout
# $tmp/NAME.out, stderr $tmp/NAME.err), serving its API on SOCKET; sets $pid. Waits 10 s at most
# for the socket.
start() {
	name=$1 sock=$2
	shift 2
	rm -f "$sock"
	# shellcheck disable=SC2086 # in_ns and nice_kiln are command prefixes, or nothing
	$in_ns $nice_kiln "$kiln" "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	for _ in $(seq 200); do
		[ -S "$sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "# kiln did not open $sock: $(grep -v '^kiln: warning:' "$tmp/$name.err" | head -n 1)"
	return 1
}

# reap NAME: waits for the background kiln (it must have ended or been killed); $status is its status.
reap() {
	wait "$pid" 2>/dev/null
	status=$?
	pid=
	sanitizer "$tmp/$1.err"
}

# finish NAME SECONDS: the background kiln ends by itself within SECONDS (else it is killed: 137).
finish() {
	for _ in $(seq $(($2 * 20))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	reap "$1"
}

# kill_kiln NAME: the background kiln is killed, as a crashed host process would be.
kill_kiln() {
	kill -KILL "$pid" 2>/dev/null
	reap "$1"
}

# lines FILE: how many lines FILE has.
lines() {
	wc -l <"$1"
}

# wait_lines FILE N SECONDS: whether FILE has N lines within SECONDS.
wait_lines() {
	for _ in $(seq $(($3 * 20))); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# counts FILE...: empty when the files, joined, hold exactly 1..2500, one number a line; else why.
counts() {
	cat "$@" | awk -v end="$end" '$0 != NR { bad = NR ": \"" $0 "\""; exit }
		END { if (bad != "") print "line " bad; else if (NR != end) print NR " lines, expected " end }'
}

# counts_on FILE: empty when FILE holds K, K+1, ... 2500 (K > 1); else why. The snapshot may have
# caught the guest between two digits of K: then the first line is what was left of K to print.
counts_on() {
	awk -v end="$end" 'NR == 1 { first = $0; next }
		NR == 2 { k = $0 - 1; tail = substr(k, length(k) - length(first) + 1)
			if (first != tail) { bad = "1: \"" first "\" is not the end of " k; exit } }
		$0 != k + NR - 1 { bad = NR ": \"" $0 "\""; exit }
		END { if (bad != "") print "line " bad; else if (k + NR - 1 != end || k <= 1) print "from " k ", " NR " lines" }' "$1"
}

# one_line FILE: empty when FILE (a kiln's stderr) says exactly one line besides the PVM warning.
one_line() {
	got=$(grep -vc '^kiln: warning:' "$1")
	[ "$got" = 1 ] || echo "$got lines: $(grep -v '^kiln: warning:' "$1" | head -n 3 | tr '\n' '|')"
}

# status_is WANT: empty when $status is WANT.
status_is() {
	[ "$status" = "$1" ] || echo "exit status $status, expected $1"
}

# snap SOCKET DIR [FLAG...]: `kiln snapshot` (20 s at most); $status, its stderr in $tmp/snap.err.
snap() {
	sock=$1 dir=$2
	shift 2
	timeout -s KILL 20 "$kiln" snapshot --api-sock "$sock" "$@" "$dir" </dev/null >/dev/null 2>"$tmp/snap.err"
	status=$?
	sanitizer "$tmp/snap.err"
}

# restore NAME [FLAG...] DIR: `kiln restore` in the foreground (60 s at most); $status.
restore() {
	name=$1
	shift
	# shellcheck disable=SC2086
	timeout -s KILL 60 $in_ns "$kiln" restore "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
	status=$?
	sanitizer "$tmp/$name.err"
}

# call SOCKET METHOD PATH [BODY]: one request with curl; $code is the status, the reply in $reply.
call() {
	n=$((n + 1))
	req=$tmp/req.$n reply=$tmp/reply.$n
	sock=$1 method=$2 path=$3
	if [ $# -ge 4 ]; then
		printf '%s' "$4" >"$req"
		set -- --data-binary "@$req"
	else
		req=-
		set --
	fi
	code=$(curl -s -o "$reply" -w '%{http_code}' --max-time 20 --unix-socket "$sock" -X "$method" \
		-H 'Accept: application/json' -H 'Content-Type: application/json' "$@" "http://localhost$path")
	printf '%s\t%s\t%s\t%s\t%s\n' "$method" "$path" "$code" "$req" "$reply" >>"$exchanges"
}

# expect NAME STATUS [TEXT]: the last reply had STATUS and, when given, TEXT in its body.
expect() {
	if [ "$code" != "$2" ]; then
		not_ok "$1" "status $code, expected $2: $(head -c 300 "$reply")"
	elif [ $# -ge 3 ] && ! grep -qF -- "$3" "$reply"; then
		not_ok "$1" "the reply lacks '$3': $(head -c 300 "$reply")"
	else
		ok "$1"
	fi
}

# fault_line: empty when the last reply's fault_message is one line (JSON escapes a newline as \n).
fault_line() {
	grep -q '"fault_message":"[^"]' "$reply" || { echo "no fault_message: $(head -c 200 "$reply")"; return; }
	! grep -qF '\n' "$reply" || echo "more than one line: $(head -c 300 "$reply")"
}

run_args="--kernel $count --mem 32M"

# --- (a) kiln run --api-sock, kiln snapshot, kill, kiln restore --------------------------------------
s1=$tmp/run.sock
# shellcheck disable=SC2086 # run_args is a list of arguments
start run "$s1" run --api-sock "$s1" $run_args || { not_ok "kiln run --api-sock serves its API" "no socket"; exit 1; }
wait_lines "$tmp/run.out" 300 20 || not_ok "the count starts" "$(lines "$tmp/run.out") lines"
call "$s1" GET /vm/config
expect "kiln run --api-sock: GET /vm/config describes the machine from its flags" 200 \
	"\"kernel_image_path\":\"$count\""
snap "$s1" "$tmp/a"
check "kiln snapshot: exits 0 and prints nothing" "$(status_is 0)$(cat "$tmp/snap.err")"
check "kiln snapshot: writes DIR/state and DIR/mem (DIR made)" \
	"$([ -s "$tmp/a/state" ] && [ -f "$tmp/a/mem" ] || ls -l "$tmp/a" 2>&1 | tr '\n' ' ')"
call "$s1" GET /
expect "kiln snapshot: the guest stays paused without --resume" 200 '"state":"Paused"'
stopped=$(lines "$tmp/run.out")
kill_kiln run
check "the first kiln is killed" "$(status_is 137)"
restore a1 "$tmp/a"
check "kiln restore: exits with the guest's status, as kiln run does" "$(status_is $end_status)"
check "kiln restore: the count goes on at the next number (after $stopped), no gap or repeat, to $end" \
	"$(counts "$tmp/run.out" "$tmp/a1.out")"

# --- (b) a chain of two, and --resume -----------------------------------------------------------------
s2=$tmp/restored.sock
if start b1 "$s2" restore --api-sock "$s2" "$tmp/a"; then
	wait_lines "$tmp/b1.out" 200 20 || not_ok "the restored guest counts" "$(lines "$tmp/b1.out") lines"
	call "$s2" GET /vm/config
	expect "a restored guest: GET /vm/config has its machine, no boot source" 200 '"mem_size_mib":32'
	check "a restored guest: GET /vm/config has no boot source" \
		"$(! grep -q boot-source "$reply" || head -c 300 "$reply")"
	snap "$s2" "$tmp/b"
	check "kiln snapshot of a restored guest: exits 0" "$(status_is 0)"
	kill_kiln b1
	restore b2 --boot-time "$tmp/b"
	check "the second restore exits with the guest's status" "$(status_is $end_status)"
	check "the chain: run, restore, snapshot, restore counts 1..$end with no gap or repeat" \
		"$(counts "$tmp/run.out" "$tmp/b1.out" "$tmp/b2.out")"
	check "kiln restore --boot-time: the time to the guest's first run" \
		"$(grep -q '^kiln: restore-time: run=[0-9.]* ms exit=' "$tmp/b2.err" || grep -v warning "$tmp/b2.err")"
else
	not_ok "kiln restore --api-sock serves its API" "no socket"
	[ -n "$pid" ] && kill_kiln b1
fi

# shellcheck disable=SC2086
if start r1 "$s1" run --api-sock "$s1" $run_args; then
	wait_lines "$tmp/r1.out" 300 20 || not_ok "the count starts" "$(lines "$tmp/r1.out") lines"
	snap "$s1" "$tmp/r" --resume
	check "kiln snapshot --resume: exits 0" "$(status_is 0)"
	call "$s1" GET /
	expect "kiln snapshot --resume: the guest runs on" 200 '"state":"Running"'
	finish r1 30
	check "kiln snapshot --resume: the original guest counts to its end" \
		"$(status_is $end_status)$(counts "$tmp/r1.out")"
	restore r2 "$tmp/r"
	check "kiln snapshot --resume: its snapshot counts on from where it was taken" \
		"$(status_is $end_status)$(counts_on "$tmp/r2.out")"
else
	not_ok "kiln run --api-sock serves its API" "no socket"
fi

# A machine with devices: the restored guest's GET /vm/config is the snapshot's machine, each drive
# named by its serial (an API-made VM's drive id) or by its position, and PATCH /drives finds it so.
truncate -s 1M "$tmp/disk0" "$tmp/disk1"
# shellcheck disable=SC2086
if start v1 "$s1" run --api-sock "$s1" $run_args --disk "$tmp/disk0,serial=data" --disk "$tmp/disk1,ro" --rng; then
	wait_lines "$tmp/v1.out" 100 20 || not_ok "the count starts" "$(lines "$tmp/v1.out") lines"
	snap "$s1" "$tmp/v"
	check "kiln snapshot of a guest with disks and virtio-rng: exits 0" "$(status_is 0)$(cat "$tmp/snap.err")"
	kill_kiln v1
	if start v2 "$s2" restore --api-sock "$s2" "$tmp/v"; then
		call "$s2" GET /vm/config
		expect "restored: GET /vm/config names a drive by its serial" 200 \
			"{\"drive_id\":\"data\",\"path_on_host\":\"$tmp/disk0\",\"is_root_device\":false,\"is_read_only\":false"
		expect "restored: GET /vm/config names a drive without serial by its position" 200 \
			"{\"drive_id\":\"drive1\",\"path_on_host\":\"$tmp/disk1\",\"is_root_device\":false,\"is_read_only\":true"
		expect "restored: GET /vm/config has the entropy device" 200 '"entropy":{}'
		call "$s2" PATCH /drives/drive1 "{\"drive_id\": \"drive1\", \"path_on_host\": \"$tmp/disk0\"}"
		expect "restored: PATCH /drives finds a drive by that id" 204
		finish v2 30
		check "restored with its devices, the guest counts on to its end" \
			"$(status_is $end_status)$(counts "$tmp/v1.out" "$tmp/v2.out")"
	else
		not_ok "kiln restore --api-sock of a guest with devices" "no socket"
	fi
else
	not_ok "kiln run --api-sock with devices" "no socket"
fi

# --- (c) the raw API ------------------------------------------------------------------------------
api=$tmp/api.sock
if start c0 "$api" --api-sock "$api"; then
	call "$api" PUT /boot-source "{\"kernel_image_path\": \"$count\"}"
	expect "PUT /boot-source" 204
	call "$api" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 32}'
	expect "PUT /machine-config" 204
	call "$api" PUT /actions '{"action_type": "InstanceStart"}'
	expect "InstanceStart" 204
	wait_lines "$tmp/c0.out" 300 20 || not_ok "the count starts" "$(lines "$tmp/c0.out") lines"
	create="{\"snapshot_type\": \"Full\", \"snapshot_path\": \"$tmp/c.state\", \"mem_file_path\": \"$tmp/c.mem\"}"
	call "$api" PUT /snapshot/create "$create"
	expect "PUT /snapshot/create on a running guest: refused as Firecracker refuses it" 400 \
		"save/restore unavailable while running"
	call "$api" PATCH /vm '{"state": "Paused"}'
	expect "PATCH /vm Paused" 204
	call "$api" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$tmp/d.state\", \"mem_file_path\": \"$tmp/d.mem\"}"
	expect "PUT /snapshot/create Diff: refused, it needs dirty page tracking" 400 \
		"Diff snapshots are not allowed on uVMs with dirty page tracking disabled"
	call "$api" PUT /snapshot/create "{\"snapshot_path\": \"$tmp/c.state\", \"mem_file_path\": \"$tmp/c.mem\"}"
	expect "PUT /snapshot/create while Paused" 204
	call "$api" PUT /snapshot/load "{\"snapshot_path\": \"$tmp/c.state\", \"mem_file_path\": \"$tmp/c.mem\"}"
	expect "PUT /snapshot/load after the start: refused" 400 \
		"The requested operation is not supported after starting the microVM."
	kill_kiln c0
else
	not_ok "kiln --api-sock serves its API" "no socket"
fi

load_file() { # RESUME: the body of a load of the snapshot above, by mem_backend
	printf '{"snapshot_path": "%s", "mem_backend": {"backend_type": "File", "backend_path": "%s"}, "resume_vm": %s}' \
		"$tmp/c.state" "$tmp/c.mem" "$1"
}

if start c1 "$api" --api-sock "$api"; then
	call "$api" PUT /snapshot/load "$(load_file true)"
	expect "PUT /snapshot/load resume_vm true, in a fresh kiln" 204
	call "$api" GET /
	expect "GET / after the load: Running" 200 '"state":"Running"'
	call "$api" GET /machine-config
	expect "GET /machine-config after the load: the snapshot's machine" 200 '"mem_size_mib":32'
	finish c1 30
	check "the loaded guest counts on to its end, and kiln exits with its status" \
		"$(status_is $end_status)$(counts "$tmp/c0.out" "$tmp/c1.out")"
fi

if start c2 "$api" --api-sock "$api"; then
	call "$api" PUT /logger '{"level": "Warning"}'
	expect "PUT /logger before a load (allowed, as in Firecracker)" 204
	call "$api" PUT /snapshot/load "{\"snapshot_path\": \"$tmp/c.state\", \"mem_file_path\": \"$tmp/c.mem\", \"resume_vm\": false}"
	expect "PUT /snapshot/load by the deprecated mem_file_path, resume_vm false" 204
	call "$api" GET /
	expect "GET /: the loaded guest waits, Paused" 200 '"state":"Paused"'
	sleep 0.3
	check "a guest loaded paused prints nothing" "$([ "$(lines "$tmp/c2.out")" = 0 ] || lines "$tmp/c2.out")"
	call "$api" PATCH /vm '{"state": "Resumed"}'
	expect "PATCH /vm Resumed" 204
	finish c2 30
	check "resumed, it counts on to its end" "$(status_is $end_status)$(counts "$tmp/c0.out" "$tmp/c2.out")"
fi

# --- (d) refusals ---------------------------------------------------------------------------------
mkdir "$tmp/bad" "$tmp/trunc" "$tmp/small"
cp "$tmp/a/state" "$tmp/bad/state"
printf 'XXXXXXXX' | dd of="$tmp/bad/state" bs=1 seek=200 conv=notrunc 2>/dev/null
head -c 100 "$tmp/a/state" >"$tmp/trunc/state"
cp "$tmp/a/state" "$tmp/small/state"
for d in bad trunc; do ln -s "$tmp/a/mem" "$tmp/$d/mem"; done
truncate -s 16M "$tmp/small/mem"

if start d0 "$api" --api-sock "$api"; then
	call "$api" PUT /snapshot/load "$(printf '{"snapshot_path": "%s", "mem_backend": {"backend_type": "Uffd", "backend_path": "%s"}}' \
		"$tmp/c.state" "$tmp/uffd.sock")"
	expect "PUT /snapshot/load with a Uffd backend: not supported yet" 400 \
		'\"Uffd\" backend (memory served by a userfaultfd handler) is not supported by kiln yet'
	call "$api" PUT /snapshot/load "{\"snapshot_path\": \"$tmp/c.state\", \"mem_file_path\": \"$tmp/c.mem\", \"network_overrides\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}]}"
	expect "PUT /snapshot/load overriding a NIC the snapshot lacks: refused, named" 400 \
		"network override eth0: the snapshot has no NIC with that id"
	for d in bad trunc small; do
		call "$api" PUT /snapshot/load "{\"snapshot_path\": \"$tmp/$d/state\", \"mem_file_path\": \"$tmp/$d/mem\"}"
		expect "PUT /snapshot/load of the $d snapshot: 400" 400 "Load microVM snapshot error: Failed to restore from snapshot: "
		check "PUT /snapshot/load of the $d snapshot: one line" "$(fault_line)"
	done
	call "$api" GET /
	expect "after failed loads the process is still fresh" 200 '"state":"Not started"'
	call "$api" PUT /snapshot/load "$(load_file true)"
	expect "a good load after failed ones" 204
	finish d0 30
	check "which counts to the end" "$(status_is $end_status)$(counts "$tmp/c0.out" "$tmp/d0.out")"
fi

if start d1 "$api" --api-sock "$api"; then
	call "$api" PUT /boot-source "{\"kernel_image_path\": \"$count\"}"
	expect "PUT /boot-source" 204
	call "$api" PUT /snapshot/load "$(load_file true)"
	expect "PUT /snapshot/load after /boot-source: refused" 400 \
		"Loading a microVM snapshot not allowed after configuring boot-specific resources."
	snap "$api" "$tmp/none"
	check "kiln snapshot of a guest not started: exit 125, one line with the API's fault_message" \
		"$(status_is 125)$(one_line "$tmp/snap.err")$(grep -q 'not supported before starting' "$tmp/snap.err" || cat "$tmp/snap.err")"
	kill_kiln d1
fi

for d in bad trunc small; do
	restore "r_$d" "$tmp/$d"
	check "kiln restore of the $d snapshot: exit 125 with one line" "$(status_is 125)$(one_line "$tmp/r_$d.err")"
done
restore r_tap --net-tap net0=kilntap9 "$tmp/a"
check "kiln restore --net-tap for a NIC the snapshot lacks: exit 125, one line naming it" \
	"$(status_is 125)$(one_line "$tmp/r_tap.err")$(grep -q 'override net0:' "$tmp/r_tap.err" || cat "$tmp/r_tap.err")"
restore r_none "$tmp/nowhere"
check "kiln restore of a missing directory: exit 125 with one line" "$(status_is 125)$(one_line "$tmp/r_none.err")"
snap "$tmp/nobody.sock" "$tmp/z"
check "kiln snapshot with no kiln on the socket: exit 125 with one line" "$(status_is 125)$(one_line "$tmp/snap.err")"

# --- (e) a NIC on a tap, in a network namespace ---------------------------------------------------------
# tap NAME: a tap in the namespace.
tap() {
	ip netns exec "$ns" ip tuntap add "$1" mode tap
}

# refused NAME TEXT: the restore NAME exited 125 with one line holding TEXT.
refused() {
	echo "$(status_is 125)$(one_line "$tmp/$1.err")$(grep -qF -- "$2" "$tmp/$1.err" || echo "no '$2': $(cat "$tmp/$1.err")")"
}

nic_tests() {
	in_ns="ip netns exec $ns"
	# shellcheck disable=SC2086
	start n0 "$s1" run --api-sock "$s1" $run_args --net tap=ks0 || { not_ok "kiln run with a NIC" "no socket"; return; }
	wait_lines "$tmp/n0.out" 300 20 || not_ok "the count starts" "$(lines "$tmp/n0.out") lines"
	call "$s1" GET /vm/config
	expect "kiln run --net: GET /vm/config names the NIC net0" 200 \
		'"network-interfaces":[{"iface_id":"net0","host_dev_name":"ks0"}]'
	snap "$s1" "$tmp/n"
	check "kiln snapshot of a guest with a NIC: exits 0" "$(status_is 0)$(cat "$tmp/snap.err")"
	kill_kiln n0
	restore n1 "$tmp/n"
	check "restored on the same tap, the guest counts on to its end" \
		"$(status_is $end_status)$(counts "$tmp/n0.out" "$tmp/n1.out")"
	restore n2 --net-tap net0=ks1 "$tmp/n"
	check "restored with --net-tap net0=ks1 (the MAC kept), the guest counts on to its end" \
		"$(status_is $end_status)$(counts "$tmp/n0.out" "$tmp/n2.out")"
	restore n3 --net-tap net0=ksnone "$tmp/n"
	check "kiln restore onto a missing tap: exit 125, one line naming it" "$(refused n3 'tap ksnone: no such device')"
	restore n4 --net-tap eth0=ks1 "$tmp/n"
	check "kiln restore --net-tap for an id the snapshot lacks: exit 125, one line naming it" \
		"$(refused n4 'network override eth0: the snapshot has no NIC with that id')"
	ip netns exec "$ns" ip link del ks0
	restore n5 "$tmp/n"
	check "kiln restore when the snapshot's tap is gone: exit 125, one line naming it" \
		"$(refused n5 'tap ks0: no such device')"

	load="{\"snapshot_path\": \"$tmp/n/state\", \"mem_file_path\": \"$tmp/n/mem\", \"resume_vm\": true"
	if start n6 "$api" --api-sock "$api"; then
		call "$api" PUT /snapshot/load "$load, \"network_overrides\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"ks1\"}]}"
		expect "PUT /snapshot/load with network_overrides for an iface_id the snapshot lacks: 400, named" 400 \
			"network override eth0: the snapshot has no NIC with that id"
		check "its fault_message is one line" "$(fault_line)"
		call "$api" PUT /snapshot/load "$load}"
		expect "PUT /snapshot/load when the snapshot's tap is gone: 400, named" 400 "tap ks0: no such device"
		check "its fault_message is one line" "$(fault_line)"
		call "$api" PUT /snapshot/load "$load, \"network_overrides\": [{\"iface_id\": \"net0\", \"host_dev_name\": \"ksnone\"}]}"
		expect "PUT /snapshot/load with network_overrides onto a missing tap: 400, named" 400 "tap ksnone: no such device"
		call "$api" PUT /snapshot/load "$load, \"network_overrides\": [{\"iface_id\": \"net0\", \"host_dev_name\": \"ks1\"}]}"
		expect "PUT /snapshot/load with network_overrides net0 -> ks1, the snapshot's tap gone" 204
		call "$api" GET /vm/config
		expect "after the load GET /vm/config shows the NIC on its new tap" 200 \
			'"network-interfaces":[{"iface_id":"net0","host_dev_name":"ks1","guest_mac":"02:'
		finish n6 30
		check "the guest loaded onto the new tap counts on to its end" \
			"$(status_is $end_status)$(counts "$tmp/n0.out" "$tmp/n6.out")"
	else
		not_ok "kiln --api-sock in the namespace serves its API" "no socket"
	fi
	in_ns=
}

if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "# SKIP (e): a NIC needs root and /dev/net/tun for a network namespace with taps"
elif ! ip netns add "$ns" 2>"$tmp/ns.err"; then
	not_ok "a network namespace for the NIC tests" "$(head -n 1 "$tmp/ns.err")"
else
	ns_made=1
	if tap ks0 && tap ks1; then
		nic_tests
	else
		not_ok "taps ks0 and ks1 in $ns" "ip tuntap add failed"
	fi
fi

# --- (f) virtio-console and virtio-vsock ------------------------------------------------------------
# console_chain NAME CMDLINE: the guest counts on virtio-console (MULTIPORT when CMDLINE says so); run,
# snapshot, kill, restore, snapshot, kill, restore: 1..2500 with no gap or repeat, then the port takes
# input (the end of /dev/null) with no new handshake, or the guest would not report its status.
console_chain() {
	cname=$1
	if ! start "${cname}0" "$s1" run --api-sock "$s1" --kernel "$guest" --mem 32M --console virtio --cmdline "$2"; then
		not_ok "virtio-console ($cname): kiln run --api-sock serves its API" "no socket"
		return
	fi
	wait_lines "$tmp/${cname}0.out" 300 20 || not_ok "virtio-console ($cname): the count starts" "$(lines "$tmp/${cname}0.out") lines"
	snap "$s1" "$tmp/${cname}.a"
	check "virtio-console ($cname): kiln snapshot exits 0" "$(status_is 0)$(cat "$tmp/snap.err")"
	kill_kiln "${cname}0"
	if ! start "${cname}1" "$s2" restore --api-sock "$s2" "$tmp/${cname}.a"; then
		not_ok "virtio-console ($cname): kiln restore --api-sock serves its API" "no socket"
		return
	fi
	wait_lines "$tmp/${cname}1.out" 100 20 || not_ok "virtio-console ($cname): the restored guest counts" "$(lines "$tmp/${cname}1.out") lines"
	snap "$s2" "$tmp/${cname}.b"
	check "virtio-console ($cname): kiln snapshot of the restored guest exits 0" "$(status_is 0)$(cat "$tmp/snap.err")"
	kill_kiln "${cname}1"
	restore "${cname}2" "$tmp/${cname}.b"
	check "virtio-console ($cname): restored twice, the count goes on with no gap or repeat to $end, and the port takes input (exit $end_status)" \
		"$(status_is $end_status)$(counts "$tmp/${cname}0.out" "$tmp/${cname}1.out" "$tmp/${cname}2.out")"
}
console_chain plain ""
console_chain multiport multiport

# wait_text FILE TEXT SECONDS: whether a line of FILE holds TEXT within SECONDS.
wait_text() {
	for _ in $(seq $(($3 * 20))); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# vsock_host UDS NAME: the host's end of a restored vsock guest's connections, in the background: a
# listener at UDS_1234 for the guest's connection (what it receives in $tmp/NAME.g2h); $listener.
vsock_host() {
	rm -f "${1}_1234"
	"$vsock_tool" host-listen "${1}_1234" </dev/null >"$tmp/$2.g2h" 2>/dev/null &
	listener=$!
	for _ in $(seq 100); do
		[ -S "${1}_1234" ] && return
		sleep 0.05
	done
}

# vsock_check NAME UDS HOW: once the restored guest (the background kiln NAME) listens, a host client
# connects to it through UDS (what it receives in $tmp/NAME.h2g); then the checks.
vsock_check() {
	vname=$1 vuds=$2 vhow=$3
	if wait_text "$tmp/$vname.out" "vsock: listening on port 5001" 60; then
		timeout -s KILL 30 "$vsock_tool" host-connect "$vuds" 5001 </dev/null >"$tmp/$vname.h2g" 2>/dev/null
	fi
	finish "$vname" 60
	kill "$listener" 2>/dev/null
	wait "$listener" 2>/dev/null
	check "virtio-vsock ($vhow): the restored guest gets a TRANSPORT_RESET, then new connections work (exit 0)" \
		"$(status_is 0)$(grep -q '^ok - vsock: a TRANSPORT_RESET event' "$tmp/$vname.out" || echo 'no reset event')$(grep '^not ok' "$tmp/$vname.out" | head -n 1)"
	check "virtio-vsock ($vhow): the guest's connection reaches ${vuds}_1234" \
		"$([ "$(cat "$tmp/$vname.g2h")" = "hello from the guest" ] || echo "got '$(head -c 80 "$tmp/$vname.g2h")'")"
	check "virtio-vsock ($vhow): a host client of $vuds reaches the guest" \
		"$([ "$(cat "$tmp/$vname.h2g" 2>/dev/null)" = "hello to the host" ] || echo "got '$(head -c 80 "$tmp/$vname.h2g" 2>/dev/null)'")"
}

vs_uds=$tmp/v.sock
if start vs0 "$s1" run --api-sock "$s1" --kernel "$guest" --mem 32M --vsock "cid=3,uds=$vs_uds"; then
	wait_text "$tmp/vs0.out" "vsock: ready" 20 || not_ok "virtio-vsock: the guest drives its device" "$(tail -n 1 "$tmp/vs0.out")"
	snap "$s1" "$tmp/vs"
	check "virtio-vsock: kiln snapshot exits 0" "$(status_is 0)$(cat "$tmp/snap.err")"
	kill_kiln vs0
	# The killed kiln's socket file stays: the restore replaces it.
	vsock_host "$vs_uds" vs1
	if start vs1 "$s2" restore --api-sock "$s2" "$tmp/vs"; then
		vsock_check vs1 "$vs_uds" "kiln restore, the snapshot's socket made again"
	else
		not_ok "virtio-vsock: kiln restore --api-sock serves its API" "no socket"
		kill "$listener"
	fi
	vsock_host "$tmp/w.sock" vs2
	if start vs2 "$s2" restore --api-sock "$s2" --vsock-uds "$tmp/w.sock" "$tmp/vs"; then
		vsock_check vs2 "$tmp/w.sock" "kiln restore --vsock-uds"
	else
		not_ok "virtio-vsock: kiln restore --vsock-uds serves its API" "no socket"
		kill "$listener"
	fi
	vsock_host "$tmp/x.sock" vs3
	if start vs3 "$api" --api-sock "$api"; then
		call "$api" PUT /snapshot/load "$(printf '{"snapshot_path": "%s", "mem_backend": {"backend_type": "File", "backend_path": "%s"}, "resume_vm": true, "vsock_override": {"uds_path": "%s"}}' \
			"$tmp/vs/state" "$tmp/vs/mem" "$tmp/x.sock")"
		expect "PUT /snapshot/load with vsock_override" 204
		vsock_check vs3 "$tmp/x.sock" "PUT /snapshot/load with vsock_override"
	else
		not_ok "kiln --api-sock serves its API" "no socket"
		kill "$listener"
	fi
else
	not_ok "virtio-vsock: kiln run --api-sock serves its API" "no socket"
fi

# --- (g) Diff snapshots ---------------------------------------------------------------------------
# data_bytes FILE: the bytes FILE takes on disk (its data; holes take none).
data_bytes() {
	du -B1 "$1" | cut -f1
}

# diff_layout FULL DIFF: empty when DIFF has FULL's size and some data, at most a quarter of FULL's.
diff_layout() {
	full=$(data_bytes "$1") diff=$(data_bytes "$2")
	[ "$(stat -c %s "$2")" = "$(stat -c %s "$1")" ] && [ "$diff" -gt 0 ] && [ $((diff * 4)) -le "$full" ] ||
		echo "$(stat -c %s "$2") bytes, $diff of data; the Full: $(stat -c %s "$1") bytes, $full of data"
}

# merged OUT BASE_MEM DIFF_MEM...: OUT is a copy of BASE_MEM (which stays as it was, as a base that
# VMs map must) with each Diff merged onto it in turn; empty, or why not.
merged() {
	out=$1
	cp --sparse=always "$2" "$out" || { echo "cp $2 failed"; return; }
	shift 2
	for layer in "$@"; do
		"$kiln" snapshot-merge "$out" "$layer" 2>"$tmp/merge.err" || { echo "merge of $layer: $(cat "$tmp/merge.err")"; return; }
		[ -s "$tmp/merge.err" ] && { echo "merge of $layer said: $(cat "$tmp/merge.err")"; return; }
	done
}

# snapshot_dir DIR STATE MEM: DIR holds STATE as its state file and MEM as its memory file.
snapshot_dir() {
	mkdir -p "$1" && cp "$2" "$1/state" && mv "$3" "$1/mem"
}

# console_diff NAME CMDLINE: the virtio-console guest of (f), tracking dirty pages: a Full snapshot,
# then a Diff, merged onto the Full and restored. What the device wrote into guest RAM since the
# Full (used rings, the buffers it filled) is in the Diff only through kiln's own bitmap.
console_diff() {
	cname=$1
	if ! start "${cname}0" "$s1" run --api-sock "$s1" --kernel "$guest" --mem 32M --console virtio \
		--cmdline "$2" --track-dirty-pages; then
		not_ok "virtio-console ($cname) with --track-dirty-pages: kiln run --api-sock serves its API" "no socket"
		return
	fi
	wait_lines "$tmp/${cname}0.out" 300 20 || not_ok "virtio-console ($cname): the count starts" "$(lines "$tmp/${cname}0.out") lines"
	snap "$s1" "$tmp/${cname}.f" --resume
	wait_lines "$tmp/${cname}0.out" $(($(lines "$tmp/${cname}0.out") + 100)) 20 || not_ok "virtio-console ($cname): the count goes on" ""
	snap "$s1" "$tmp/${cname}.d" --diff
	check "virtio-console ($cname): a Full snapshot, then a Diff" "$(status_is 0)$(cat "$tmp/snap.err")"
	kill_kiln "${cname}0"
	why=$(merged "$tmp/${cname}.m" "$tmp/${cname}.f/mem" "$tmp/${cname}.d/mem")
	snapshot_dir "$tmp/${cname}.r" "$tmp/${cname}.d/state" "$tmp/${cname}.m"
	restore "${cname}1" "$tmp/${cname}.r"
	check "virtio-console ($cname): the Diff merged onto the Full counts on to $end, and the port takes input" \
		"$why$(status_is $end_status)$(counts "$tmp/${cname}0.out" "$tmp/${cname}1.out")"
}
console_diff plain_diff ""
console_diff multiport_diff multiport

e=$tmp/e
mkdir "$e"
# shellcheck disable=SC2086
if start e1 "$s1" run --api-sock "$s1" $run_args --track-dirty-pages; then
	call "$s1" GET /machine-config
	expect "kiln run --track-dirty-pages: GET /machine-config says so" 200 '"track_dirty_pages":true'
	wait_lines "$tmp/e1.out" 300 20 || not_ok "the count starts" "$(lines "$tmp/e1.out") lines"
	snap "$s1" "$e/f" --resume
	check "a Full snapshot of a guest that tracks dirty pages, resumed" "$(status_is 0)$(cat "$tmp/snap.err")"
	wait_lines "$tmp/e1.out" $(($(lines "$tmp/e1.out") + 100)) 20 || not_ok "the count goes on" "$(lines "$tmp/e1.out") lines"
	snap "$s1" "$e/d1" --diff --resume
	check "kiln snapshot --diff --resume: exits 0 and prints nothing" "$(status_is 0)$(cat "$tmp/snap.err")"
	wait_lines "$tmp/e1.out" $(($(lines "$tmp/e1.out") + 100)) 20 || not_ok "the count goes on" "$(lines "$tmp/e1.out") lines"
	snap "$s1" "$e/d2" --diff
	check "a second Diff snapshot, the guest left paused" "$(status_is 0)$(cat "$tmp/snap.err")"
	kill_kiln e1
	check "a Diff's memory file: the guest RAM's size, and at most a quarter of the Full's data" \
		"$(diff_layout "$e/f/mem" "$e/d1/mem")$(diff_layout "$e/f/mem" "$e/d2/mem")"

	why=$(merged "$e/m1" "$e/f/mem" "$e/d1/mem" "$e/d2/mem")
	check "kiln snapshot-merge: the chain Full, Diff, Diff merged onto a copy of the Full" "$why"
	snapshot_dir "$e/chain" "$e/d2/state" "$e/m1"
	restore e2 "$e/chain"
	check "the merged chain restores: the count goes on with no gap or repeat, to its end and status" \
		"$(status_is $end_status)$(counts "$tmp/e1.out" "$tmp/e2.out")"
	why=$(merged "$e/m2" "$e/f/mem" "$e/d1/mem")
	snapshot_dir "$e/one" "$e/d1/state" "$e/m2"
	restore e3 "$e/one"
	check "the Full with the first Diff restores that Diff: it counts on from there to the end" \
		"$why$(status_is $end_status)$(counts_on "$tmp/e3.out")"
	# Without its last layer, the memory is older than the vCPU: count.S sees its two copies of
	# the count disagree. So the Diff is what carries the guest's writes.
	why=$(merged "$e/m3" "$e/f/mem" "$e/d1/mem")
	snapshot_dir "$e/short" "$e/d2/state" "$e/m3"
	restore e4 "$e/short"
	check "the chain without its last Diff is caught by the guest (mismatch, status 99)" \
		"$why$(status_is 99)$(grep -q mismatch "$tmp/e4.out" || echo "no mismatch: $(tail -n 2 "$tmp/e4.out" | tr '\n' ' ')")"
else
	not_ok "kiln run --api-sock --track-dirty-pages serves its API" "no socket"
fi

# A restored guest tracks dirty pages as its snapshot did, and takes Diffs "since its restore".
# Restored paused, and resumed only for the Diff: where exits are cheap (the KVM test host, mk/kvm.mk)
# the guest counts to its end in a few seconds and would be gone before the merge is tried.
if [ -d "$e/chain" ] && start e5 "$s2" restore --api-sock "$s2" --paused "$e/chain"; then
	call "$s2" GET /machine-config
	expect "a restored guest tracks dirty pages as its snapshot's did" 200 '"track_dirty_pages":true'
	"$kiln" snapshot-merge "$e/chain/mem" "$e/d2/mem" 2>"$tmp/merge.err"
	status=$?
	check "kiln snapshot-merge into the memory file a running guest maps: exit 125, one line" \
		"$(status_is 125)$(one_line "$tmp/merge.err")$(grep -q 'a running VM maps it' "$tmp/merge.err" || cat "$tmp/merge.err")"
	call "$s2" PATCH /vm '{"state": "Resumed"}'
	expect "the restored guest resumes" 204
	wait_lines "$tmp/e5.out" 1 20 || not_ok "the restored guest counts" "$(lines "$tmp/e5.out") lines"
	snap "$s2" "$e/d3" --diff
	check "kiln snapshot --diff of a restored guest" "$(status_is 0)$(cat "$tmp/snap.err")"
	kill_kiln e5
	why=$(merged "$e/m4" "$e/chain/mem" "$e/d3/mem")
	snapshot_dir "$e/after" "$e/d3/state" "$e/m4"
	restore e6 "$e/after"
	check "its Diff merged onto the memory it was restored from: the count goes on to the end" \
		"$why$(status_is $end_status)$(counts "$tmp/e1.out" "$tmp/e5.out" "$tmp/e6.out")"
fi
if [ -d "$e/chain" ] && start e7 "$s2" restore --api-sock "$s2" --no-track-dirty-pages "$e/chain"; then
	snap "$s2" "$e/none" --diff
	check "kiln restore --no-track-dirty-pages: a Diff is refused, exit 125 with one line" \
		"$(status_is 125)$(one_line "$tmp/snap.err")$(grep -q 'dirty page tracking disabled' "$tmp/snap.err" || cat "$tmp/snap.err")"
	kill_kiln e7
fi
# shellcheck disable=SC2086
if start e8 "$s1" run --api-sock "$s1" $run_args; then
	snap "$s1" "$e/none" --diff
	check "kiln snapshot --diff of a guest without --track-dirty-pages: exit 125, one line" \
		"$(status_is 125)$(one_line "$tmp/snap.err")$(grep -q 'dirty page tracking disabled' "$tmp/snap.err" || cat "$tmp/snap.err")"
	check "and nothing is written" "$([ ! -e "$e/none/mem" ] || ls -l "$e/none")"
	kill_kiln e8
fi
"$kiln" snapshot-merge "$tmp/a/mem" "$tmp/small/mem" 2>"$tmp/merge.err"
status=$?
check "kiln snapshot-merge of two guests' memory files (32 and 16 MiB): exit 125, one line" \
	"$(status_is 125)$(one_line "$tmp/merge.err")"

# Through the API: the first Diff of a guest holds everything written since its boot, kernel
# included, so merged onto an empty file of the RAM's size it is the whole memory.
if start f0 "$api" --api-sock "$api"; then
	call "$api" PUT /boot-source "{\"kernel_image_path\": \"$count\"}"
	call "$api" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 32, "track_dirty_pages": true}'
	expect "PUT /machine-config with track_dirty_pages" 204
	call "$api" GET /machine-config
	expect "GET /machine-config: track_dirty_pages" 200 '"track_dirty_pages":true'
	call "$api" PUT /actions '{"action_type": "InstanceStart"}'
	wait_lines "$tmp/f0.out" 300 20 || not_ok "the count starts" "$(lines "$tmp/f0.out") lines"
	call "$api" PATCH /vm '{"state": "Paused"}'
	call "$api" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$tmp/f.state\", \"mem_file_path\": \"$tmp/f.diff\"}"
	expect "PUT /snapshot/create Diff with dirty page tracking" 204
	kill_kiln f0
	truncate -s 32M "$tmp/f.empty"
	why=$(merged "$tmp/f.mem" "$tmp/f.empty" "$tmp/f.diff")
	check "the first Diff merged onto an empty file" "$why"
fi
if [ -f "$tmp/f.mem" ] && start f1 "$api" --api-sock "$api"; then
	call "$api" PUT /snapshot/load "{\"snapshot_path\": \"$tmp/f.state\", \"mem_file_path\": \"$tmp/f.mem\", \"resume_vm\": true}"
	expect "PUT /snapshot/load of the first Diff over an empty file, no track_dirty_pages" 204
	call "$api" GET /machine-config
	expect "GET /machine-config after a load without track_dirty_pages: off, as in Firecracker" 200 '"track_dirty_pages":false'
	call "$api" PATCH /vm '{"state": "Paused"}'
	call "$api" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$tmp/g.state\", \"mem_file_path\": \"$tmp/g.mem\"}"
	expect "PUT /snapshot/create Diff after a load without track_dirty_pages: refused" 400 \
		"Diff snapshots are not allowed on uVMs with dirty page tracking disabled"
	call "$api" PATCH /vm '{"state": "Resumed"}'
	finish f1 30
	check "the first Diff (since boot) over an empty file counts on to the end" \
		"$(status_is $end_status)$(counts "$tmp/f0.out" "$tmp/f1.out")"
fi
if start f2 "$api" --api-sock "$api"; then
	call "$api" PUT /snapshot/load "{\"snapshot_path\": \"$tmp/c.state\", \"mem_file_path\": \"$tmp/c.mem\", \"track_dirty_pages\": true}"
	expect "PUT /snapshot/load with track_dirty_pages true, of a snapshot taken without" 204
	call "$api" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$tmp/h.state\", \"mem_file_path\": \"$tmp/h.mem\"}"
	expect "PUT /snapshot/create Diff of the guest loaded with track_dirty_pages (paused)" 204
	# The guest has not run; kiln wrote one page, its new VM generation ID (devices/vmgenid.h).
	check "a Diff of a guest that has not run since its load holds the one page the restore wrote" \
		"$([ "$(data_bytes "$tmp/h.mem")" = 4096 ] || echo "$(data_bytes "$tmp/h.mem") bytes of data")"
	kill_kiln f2
fi

# --- the contract -----------------------------------------------------------------------------------
cat >"$tmp/routes" <<'EOF'
PUT /snapshot/create
PUT /snapshot/load
PUT /machine-config
PATCH /vm
PATCH /drives/{drive_id}
GET /
GET /vm/config
GET /machine-config
EOF
contract_check "$contract" "$schema" "$exchanges" "$tmp/routes"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
