#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Drives kiln's Firecracker-compatible API with curl --unix-socket, as Firecracker's getting-started
# guide drives Firecracker, with the tiny guests (no Linux needed): configure counter.elf, boot it,
# pause and resume it, send every kind of bad input (each must get 400 and a fault_message while the
# VM keeps running), boot from config files, pause and resume a guest whose stdout nobody reads
# (flood.elf), and check the exit statuses. Every exchange is then
# held against firecracker.yaml's schemas by the contract checker (tests/api/).
#
# Then the limits: idle clients past the API's connection limit, and vsock clients past kiln's fd
# limit (held by HOLD_CONNS_BINARY, tests/api/hold_conns.c), must not lock the API out. The HTTP
# layer itself gets what curl does not send (HTTP_RAW_BINARY, tests/api/http_raw.c): pipelined
# requests, a chunked body, malformed requests. And kiln maps no HTTP or TLS library, with or
# without the API.
#
# usage: api.sh KILN_BINARY TINY_DIR CONTRACT_BINARY SCHEMA_TSV HOLD_CONNS_BINARY HTTP_RAW_BINARY
# Prints "ok - NAME" or "not ok - NAME (why)", then "N passed, M failed"; exits 1 if any failed,
# 77 (skip) without /dev/kvm, 2 on bad usage.

set -u

if [ $# -ne 6 ]; then
	echo "usage: $0 KILN_BINARY TINY_DIR CONTRACT_BINARY SCHEMA_TSV HOLD_CONNS_BINARY HTTP_RAW_BINARY" >&2
	exit 2
fi
kiln=$1 tiny=$2 contract=$3 schema=$4 hold=$5 raw=$6
routes=$(dirname "$0")/../api/routes.txt
for f in "$kiln" "$contract" "$hold" "$raw"; do
	[ -x "$f" ] || { echo "api.sh: $f is not an executable" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "api.sh: curl is missing (scripts/install-deps.sh curl)" >&2; exit 2; }
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "api.sh: SKIP: /dev/kvm is not usable here" >&2
	exit 77
fi

tmp=$(mktemp -d) || exit 2
pid=
holder=
limits=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sock=$tmp/api.sock
out=$tmp/out
err=$tmp/err
exchanges=$tmp/exchanges
: >"$exchanges"
n=0
. "$(dirname "$0")/tiny_lib.sh"

# start_kiln [FLAG...]: kiln serving on $sock (console: stdin /dev/null, stdout $out); sets $pid.
# With $limits set, kiln runs under `ulimit $limits` (e.g. -S -n 1024).
start_kiln() {
	rm -f "$sock"
	# shellcheck disable=SC2086 # $limits is a list of ulimit's arguments
	(if [ -n "$limits" ]; then ulimit $limits || exit 2; fi; exec "$kiln" --api-sock "$sock" "$@") \
		</dev/null >"$out" 2>"$err" &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "# kiln did not open $sock: $(grep -v '^kiln: warning:' "$err" | head -n 1)"
	return 1
}

# reap: waits for kiln; $status is its exit status. A sanitizer report on its stderr is a failure.
reap() {
	wait "$pid" 2>/dev/null
	status=$?
	pid=
	if grep -qE 'Sanitizer|runtime error:' "$err"; then
		not_ok "no sanitizer report" "$(grep -m1 -E 'Sanitizer|runtime error:' "$err")"
	fi
}

# run_kiln FLAG...: kiln in the foreground (20 s at most); $status is its exit status.
run_kiln() {
	timeout --preserve-status -s KILL 20 "$kiln" "$@" </dev/null >"$out" 2>"$err" &
	pid=$!
	reap
}

# stop_kiln: SIGKILL if still there, then reap.
stop_kiln() {
	kill -KILL "$pid" 2>/dev/null
	reap
}

# wait_exit SECONDS: waits for kiln to end by itself; $status is its exit status (137: killed).
wait_exit() {
	for _ in $(seq $(($1 * 20))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	stop_kiln
}

# call METHOD PATH [BODY | @FILE]: one request; $code is the status, the reply is in $reply.
call() {
	n=$((n + 1))
	req=$tmp/req.$n
	reply=$tmp/reply.$n
	method=$1 path=$2
	if [ $# -lt 3 ]; then
		req=-
		set --
	elif [ "${3#@}" != "$3" ]; then
		req=${3#@}
		set -- --data-binary "$3"
	else
		printf '%s' "$3" >"$req"
		set -- --data-binary "@$req"
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

# bad NAME METHOD PATH BODY TEXT: the request gets 400 with a fault_message containing TEXT.
bad() {
	name=$1
	shift
	text=$4
	call "$1" "$2" "$3"
	expect "$name" 400 "$text"
}

size() {
	wc -c <"$out"
}

# wait_for FILE TEXT SECONDS: whether FILE has a line with TEXT within SECONDS.
wait_for() {
	for _ in $(seq $(($3 * 10))); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# hold SOCKET N: N idle client connections to SOCKET, held in the background ($holder) until
# release; whether all were made within 60 s.
hold() {
	"$hold" "$1" "$2" >"$tmp/held" 2>&1 &
	holder=$!
	wait_for "$tmp/held" "held $2" 60
}

release() {
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	holder=
}

# grows: the console output grows within 3 s.
grows() {
	before=$(size)
	for _ in $(seq 30); do
		sleep 0.1
		[ "$(size)" -gt "$before" ] && return 0
	done
	return 1
}

# running NAME: GET / says Running and the counter's output grows.
running() {
	call GET /
	if ! grep -qF '"state":"Running"' "$reply"; then
		not_ok "$1" "GET / says $(head -c 200 "$reply")"
	elif ! grows; then
		not_ok "$1" "the console output stopped growing at $(size) bytes"
	else
		ok "$1"
	fi
}

# in_sequence: the console holds a, b, ..., z, a, ... with nothing lost or repeated.
in_sequence() {
	tr -d '\n' <"$out" | awk '{
		for (i = 1; i <= length($0); i++)
			if (substr($0, i, 1) != substr("abcdefghijklmnopqrstuvwxyz", (i - 1) % 26 + 1, 1)) exit 1
	}'
}

test_pre_boot() {
	call GET /
	expect "GET / before boot: Not started" 200 '"state":"Not started"'
	call GET /version
	expect "GET /version" 200 firecracker_version
	call GET /machine-config
	expect "GET /machine-config: Firecracker's defaults" 200 '"vcpu_count":1,"mem_size_mib":128'
	call GET /vm/config
	expect "GET /vm/config before any PUT" 200 '"drives":[]'

	bad "invalid JSON" PUT /machine-config '{"vcpu_count": 1,' "deserializing"
	bad "wrong type" PUT /machine-config '{"vcpu_count": "two", "mem_size_mib": 16}' '`vcpu_count`'
	bad "missing required field" PUT /machine-config '{"vcpu_count": 1}' 'missing field `mem_size_mib`'
	bad "unknown field" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 16, "foo": 1}' \
		'unknown field `foo`'
	bad "vcpu_count out of range" PUT /machine-config '{"vcpu_count": 33, "mem_size_mib": 16}' '`vcpu_count`'
	bad "smt must be false" PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 16, "smt": true}' '`smt`'
	bad "more memory than the host" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 1073741824}' \
		"Machine config error"
	call GET /machine-config
	expect "a rejected request changes nothing" 200 '"vcpu_count":1,"mem_size_mib":128'
	head -c 1048576 /dev/zero | tr '\0' ' ' >"$tmp/big"
	bad "a 1 MiB body" PUT /machine-config "@$tmp/big" "larger than the limit of 51200"
	bad "empty PUT" PUT /boot-source "" "Empty PUT request."
	bad "GET with a body" GET / '{}' "GET request cannot have a body."
	bad "unknown route" GET /nonexistent "" "Invalid request method and/or path: GET /nonexistent."
	bad "unknown method" DELETE /vm "" "Invalid request method and/or path: DELETE /vm."
	bad "a Firecracker route kiln lacks" PUT /balloon '{"amount_mib": 1, "deflate_on_oom": false}' \
		"not supported"
	bad "kernel that does not exist" PUT /boot-source "{\"kernel_image_path\": \"$tmp/nokernel\"}" \
		"No such file or directory"
	bad "drive path that does not exist" PUT /drives/rootfs \
		"{\"drive_id\": \"rootfs\", \"path_on_host\": \"$tmp/nodisk\", \"is_root_device\": false}" \
		"No such file or directory"
	bad "drive id differs from the path's" PUT /drives/a \
		"{\"drive_id\": \"b\", \"path_on_host\": \"$tmp/disk1\", \"is_root_device\": false}" \
		"does not match"
	bad "drive id with a bad character" PUT /drives/a.b \
		"{\"drive_id\": \"a.b\", \"path_on_host\": \"$tmp/disk1\", \"is_root_device\": false}" \
		"alphanumeric"
	bad "bad MAC address" PUT /network-interfaces/eth0 \
		'{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "06:00:00:00:00"}' "guest_mac"
	bad "multicast MAC address" PUT /network-interfaces/eth0 \
		'{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "01:00:00:00:00:01"}' \
		"guest MAC 01:00:00:00:00:01 is a multicast address"
	bad "vsock CID below 3" PUT /vsock "{\"guest_cid\": 2, \"uds_path\": \"$tmp/v.sock\"}" '`guest_cid`'
	long_uds=$tmp/$(printf '%0100d' 0).sock
	bad "vsock socket path too long" PUT /vsock "{\"guest_cid\": 3, \"uds_path\": \"$long_uds\"}" \
		"vsock uds path $long_uds"
	bad "PATCH /vm before boot" PATCH /vm '{"state": "Paused"}' "not supported before starting"
	bad "FlushMetrics before boot" PUT /actions '{"action_type": "FlushMetrics"}' "not supported before"
	bad "unknown action" PUT /actions '{"action_type": "Reboot"}' 'unknown variant `Reboot`'
	bad "InstanceStart without a kernel" PUT /actions '{"action_type": "InstanceStart"}' "no kernel given"
}

# Configures counter.elf with a drive, entropy, metrics and a logger.
test_configure() {
	call PUT /logger "{\"log_path\": \"$tmp/log\", \"level\": \"Info\"}"
	expect "PUT /logger" 204
	call PUT /metrics "{\"metrics_path\": \"$tmp/metrics\"}"
	expect "PUT /metrics" 204
	bad "metrics twice" PUT /metrics "{\"metrics_path\": \"$tmp/metrics\"}" "Reinitialization"
	call PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 16, "smt": false}'
	expect "PUT /machine-config" 204
	call PATCH /machine-config '{"vcpu_count": 1}'
	expect "PATCH /machine-config" 204
	call PUT /boot-source "{\"kernel_image_path\": \"$tiny/counter.elf\", \"boot_args\": \"console=ttyS0\"}"
	expect "PUT /boot-source" 204
	call PUT /drives/scratch \
		"{\"drive_id\": \"scratch\", \"path_on_host\": \"$tmp/disk1\", \"is_root_device\": false, \"is_read_only\": true}"
	expect "PUT /drives" 204
	call PUT /drives/data \
		"{\"drive_id\": \"data\", \"path_on_host\": \"$tmp/disk3\", \"is_root_device\": false, \"is_read_only\": false}"
	expect "PUT /drives of a writable drive" 204
	call PUT /entropy '{}'
	expect "PUT /entropy" 204
	call GET /vm/config
	expect "GET /vm/config shows the drive" 200 "\"path_on_host\":\"$tmp/disk1\""
	call GET /machine-config
	expect "GET /machine-config after PATCH" 200 '"vcpu_count":1,"mem_size_mib":16'
	if grep -q 'kiln: api: PUT /entropy: 204' "$tmp/log"; then
		ok "the logger writes to log_path"
	else
		not_ok "the logger writes to log_path" "no request line in $tmp/log"
	fi
}

test_running() {
	call PUT /actions '{"action_type": "InstanceStart"}'
	expect "InstanceStart" 204
	running "GET / says Running and the guest prints"
	call PATCH /vm '{"state": "Paused"}'
	expect "PATCH /vm Paused" 204
	call GET /
	expect "GET / says Paused" 200 '"state":"Paused"'
	a=$(size)
	sleep 0.5
	b=$(size)
	if [ "$a" -eq "$b" ] && [ "$a" -gt 0 ]; then ok "paused: the output stops"; else not_ok "paused: the output stops" "$a then $b bytes"; fi
	call PATCH /vm '{"state": "Paused"}'
	expect "pausing a paused VM changes nothing" 204
	call PATCH /vm '{"state": "Resumed"}'
	expect "PATCH /vm Resumed" 204
	if grows && in_sequence; then
		ok "resumed: the output continues from where it stopped"
	else
		not_ok "resumed: the output continues from where it stopped" "$(size) bytes, in order: $(in_sequence && echo yes || echo no)"
	fi

	bad "InstanceStart twice" PUT /actions '{"action_type": "InstanceStart"}' "not supported after starting"
	bad "pre-boot route after boot" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 16}' \
		"not supported after starting"
	bad "invalid JSON after boot" PATCH /vm '{"state":' "deserializing"
	bad "unknown VM state" PATCH /vm '{"state": "Frozen"}' 'unknown variant `Frozen`'
	bad "a 1 MiB body after boot" PATCH /vm "@$tmp/big" "larger than the limit"
	bad "PATCH of an unknown drive" PATCH /drives/other '{"drive_id": "other", "path_on_host": "/dev/null"}' \
		"Invalid block device ID"
	bad "PATCH to a file that does not exist" PATCH /drives/scratch \
		"{\"drive_id\": \"scratch\", \"path_on_host\": \"$tmp/nodisk\"}" "No such file"
	running "after all the bad input the VM still runs"

	call PATCH /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$tmp/disk2\"}"
	expect "PATCH /drives swaps the backing file" 204
	call GET /vm/config
	expect "GET /vm/config shows the new file" 200 "\"path_on_host\":\"$tmp/disk2\""
	call PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$tmp/disk4\"}"
	expect "PATCH /drives swaps a writable drive's backing file" 204
	call PUT /actions '{"action_type": "FlushMetrics"}'
	expect "FlushMetrics" 204
	if grep -q '^{.*}$' "$tmp/metrics"; then ok "metrics: one JSON line per flush"; else not_ok "metrics: one JSON line per flush" "$(head -c 200 "$tmp/metrics")"; fi
	# counter.elf has no keyboard driver: Ctrl-Alt-Del reaches a Linux guest (api_guest.sh) only.
	bad "SendCtrlAltDel to a guest without a keyboard driver" PUT /actions \
		'{"action_type": "SendCtrlAltDel"}' "keyboard driver is not listening"
	# A client still connected as kiln ends, its body still to come (from a FIFO this shell holds open).
	mkfifo "$tmp/body"
	curl -sv -T - --unix-socket "$sock" http://localhost/vm -o /dev/null <"$tmp/body" 2>"$tmp/lingering" &
	client=$!
	exec 9>"$tmp/body"
	for _ in $(seq 100); do
		grep -q '100 Continue' "$tmp/lingering" && break
		sleep 0.05
	done
	kill -TERM "$pid"
	reap
	exec 9>&-
	wait "$client"
	if [ "$status" -eq 143 ]; then ok "SIGTERM ends kiln with 128+15, a client still connected"; else not_ok "SIGTERM ends kiln with 128+15, a client still connected" "status $status"; fi
}

# write_config FILE KERNEL: a config file in Firecracker's format.
write_config() {
	cat >"$1" <<EOF
{
  "boot-source": { "kernel_image_path": "$2", "boot_args": "console=ttyS0", "initrd_path": null },
  "drives": [ { "drive_id": "rootfs", "path_on_host": "$tmp/disk1", "is_root_device": true,
                "is_read_only": true, "partuuid": null, "cache_type": "Unsafe", "io_engine": "Sync",
                "rate_limiter": null } ],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 16, "smt": false, "track_dirty_pages": false },
  "network-interfaces": [],
  "balloon": null, "vsock": null, "logger": null, "metrics": null, "mmds-config": null,
  "entropy": {}
}
EOF
}

# config_boot NAME KERNEL STATUS [FLAG...]: kiln --config-file boots KERNEL and exits with STATUS.
config_boot() {
	name=$1 kernel=$2 want=$3
	shift 3
	write_config "$tmp/vm.json" "$tiny/$kernel.elf"
	"$kiln" --config-file "$tmp/vm.json" "$@" </dev/null >"$out" 2>"$err" &
	pid=$!
	wait_exit 20
	if [ "$status" -eq "$want" ]; then ok "$name"; else not_ok "$name" "status $status, expected $want: $(grep -v '^kiln: warning:' "$err" | head -n 1)"; fi
}

test_config_file() {
	config_boot "config file: hello.elf runs and kiln exits 0" hello 0
	if [ "$(cat "$out")" = "hello from a tiny guest" ]; then ok "config file: the console is stdout"; else not_ok "config file: the console is stdout" "$(head -c 100 "$out")"; fi
	config_boot "config file: the guest's status is kiln's (42)" status 42 --boot-time
	if grep -q '^kiln: boot-time:' "$err"; then ok "config file: --boot-time"; else not_ok "config file: --boot-time" "no boot-time line"; fi
	config_boot "config file: a crash exits 123 as with kiln run" triplefault 123

	printf '{"boot-source": {"kernel_image_path": "%s"}, "balloon": {"amount_mib": 1}}' "$tiny/hello.elf" >"$tmp/bad.json"
	run_kiln --config-file "$tmp/bad.json"
	if [ "$status" -eq 125 ] && grep -q 'bad.json: balloon' "$err"; then
		ok "config file: an unsupported key exits 125 naming it"
	else
		not_ok "config file: an unsupported key exits 125 naming it" "status $status: $(grep -v '^kiln: warning:' "$err" | head -n 1)"
	fi

	write_config "$tmp/vm.json" "$tiny/counter.elf"
	if start_kiln --config-file "$tmp/vm.json"; then
		running "config file + API: booted from the file, GET / says Running"
		call GET /vm/config
		expect "config file + API: GET /vm/config" 200 '"is_root_device":true'
		sed "s|$tiny/counter.elf|$tiny/hello.elf|" "$reply" >"$tmp/again.json"
		stop_kiln
		run_kiln --config-file "$tmp/again.json"
		if [ "$status" -eq 0 ]; then ok "GET /vm/config reads back as a config file"; else not_ok "GET /vm/config reads back as a config file" "status $status: $(grep -v '^kiln: warning:' "$err" | head -n 1)"; fi
	else
		not_ok "config file + API" "kiln did not start"
	fi
}

test_api_exit() {
	start_kiln || { not_ok "API boot of status.elf" "kiln did not start"; return; }
	call PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 16}'
	call PUT /boot-source "{\"kernel_image_path\": \"$tiny/status.elf\"}"
	call PUT /actions '{"action_type": "InstanceStart"}'
	wait_exit 20
	if [ "$status" -eq 42 ]; then ok "API boot: kiln exits with the guest's status"; else not_ok "API boot: kiln exits with the guest's status" "status $status"; fi
	if [ ! -e "$sock" ]; then ok "the socket is removed at exit"; else not_ok "the socket is removed at exit" "$sock remains"; fi
}

test_socket() {
	: >"$tmp/file"
	run_kiln --api-sock "$tmp/file"
	if [ "$status" -eq 125 ] && [ -f "$tmp/file" ] && grep -q 'not a socket' "$err"; then
		ok "a file in the socket's place is left alone"
	else
		not_ok "a file in the socket's place is left alone" "status $status: $(grep -v '^kiln: warning:' "$err" | head -n 1)"
	fi
	start_kiln && stop_kiln
	if start_kiln; then ok "a stale socket is replaced"; else not_ok "a stale socket is replaced" "kiln did not start"; fi
	first=$pid
	err=$tmp/err.second
	run_kiln --api-sock "$sock"
	if [ "$status" -eq 125 ] && grep -q 'another process' "$err"; then ok "a socket in use is refused"; else not_ok "a socket in use is refused" "status $status"; fi
	pid=$first
	err=$tmp/err
	kill -TERM "$pid"
	reap
	if [ "$status" -eq 143 ]; then ok "SIGTERM before boot ends kiln with 128+15"; else not_ok "SIGTERM before boot ends kiln with 128+15" "status $status"; fi
}

# serial_counter NAME: the UART's counter NAME in the last line of $tmp/metrics.stall.
serial_counter() {
	tail -n 1 "$tmp/metrics.stall" | sed -n "s/.*\"serial\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"
}

# flush_counter NAME: FlushMetrics; $counter is then the UART's counter NAME (0 if none yet).
flush_counter() {
	call PUT /actions '{"action_type": "FlushMetrics"}'
	counter=$(serial_counter "$1")
	counter=${counter:-0}
}

# The host stops reading kiln's stdout (a pipe nobody reads until $tmp/go exists) while flood.elf
# prints without end: kiln drops what does not fit and counts it, pause and resume still return
# and the guest runs on; once the host reads again, a byte on stdin ends the guest and kiln exits
# with its status, 0. (Before issue 10's defect 4 was fixed, the vCPU blocked in write(): no drop
# was counted, the pause never returned.)
test_stalled_stdout() {
	rm -f "$sock" "$tmp/go" "$tmp/kstatus" "$tmp/kpid" "$tmp/in"
	: >"$tmp/metrics.stall"
	mkfifo "$tmp/in"
	exec 4<>"$tmp/in" # kiln's stdin: held open here, so that opening it does not wait for a writer
	{
		"$kiln" --api-sock "$sock" <"$tmp/in" 2>"$err" 4>&- &
		echo $! >"$tmp/kpid"
		wait $!
		echo $? >"$tmp/kstatus"
	} | { until [ -e "$tmp/go" ]; do sleep 0.1; done; cat >"$out"; } &
	for _ in $(seq 100); do
		[ -S "$sock" ] && break
		sleep 0.05
	done
	pid=$(cat "$tmp/kpid")
	call PUT /metrics "{\"metrics_path\": \"$tmp/metrics.stall\"}"
	call PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 16}'
	call PUT /boot-source "{\"kernel_image_path\": \"$tiny/flood.elf\"}"
	call PUT /actions '{"action_type": "InstanceStart"}'
	expect "stalled stdout: InstanceStart" 204
	dropped=0 # the pipe's 64 KiB and kiln's 128 KiB fill first: seconds at two exits per byte
	for _ in $(seq 120); do
		flush_counter bytes_dropped
		dropped=$counter
		[ "$dropped" -gt 0 ] && break
		sleep 0.5
	done
	if [ "$dropped" -gt 0 ]; then ok "stalled stdout: what the pipe and kiln's buffer cannot hold is dropped, counted ($dropped bytes)"
	else not_ok "stalled stdout: what the pipe and kiln's buffer cannot hold is dropped, counted" "no bytes_dropped: $(tail -n 1 "$tmp/metrics.stall" | head -c 300)"; fi
	call PATCH /vm '{"state": "Paused"}'
	expect "stalled stdout: PATCH /vm Paused returns" 204
	call GET /
	expect "stalled stdout: GET / says Paused" 200 '"state":"Paused"'
	call PATCH /vm '{"state": "Resumed"}'
	expect "stalled stdout: PATCH /vm Resumed returns" 204
	flush_counter bytes_from_guest
	before=$counter after=$counter
	for _ in $(seq 30); do
		sleep 0.1
		flush_counter bytes_from_guest
		after=$counter
		[ "$after" -gt "$before" ] && break
	done
	if [ "$after" -gt "$before" ]; then ok "stalled stdout: the guest runs on after the resume"
	else not_ok "stalled stdout: the guest runs on after the resume" "bytes_from_guest stayed at $before"; fi

	touch "$tmp/go" # the host reads again
	printf q >&4    # and tells the guest to end
	exec 4>&-
	for _ in $(seq 400); do
		[ -s "$tmp/kstatus" ] && break
		sleep 0.05
	done
	status=$(cat "$tmp/kstatus" 2>/dev/null)
	if [ "$status" = 0 ] && [ -s "$out" ]; then ok "stalled stdout: the reader reads again, the guest ends, kiln exits 0"
	else
		not_ok "stalled stdout: the reader reads again, the guest ends, kiln exits 0" "status ${status:-none}, $(wc -c <"$out") bytes read"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait
	pid=
	warnings=$(grep -c 'dropping what does not fit' "$err")
	if [ "$warnings" = 1 ]; then ok "stalled stdout: the drop is logged once"
	else not_ok "stalled stdout: the drop is logged once" "$warnings lines"; fi
	if grep -qE 'Sanitizer|runtime error:' "$err"; then
		not_ok "stalled stdout: no sanitizer report" "$(grep -m1 -E 'Sanitizer|runtime error:' "$err")"
	fi
}

# The pre-boot configuration of devices the tiny guest cannot use (no tap device here).
test_devices() {
	call PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "06:00:ac:10:00:02"}'
	expect "PUT /network-interfaces" 204
	bad "the same tap twice" PUT /network-interfaces/eth1 '{"iface_id": "eth1", "host_dev_name": "tap0"}' \
		"already in use"
	call PUT /vsock "{\"guest_cid\": 3, \"uds_path\": \"$tmp/v.sock\"}"
	expect "PUT /vsock" 204
	call GET /vm/config
	expect "GET /vm/config shows them" 200 '"guest_mac":"06:00:ac:10:00:02"'
}

# API_MAX_CONNECTIONS (16) idle clients and 4 more: a request still gets its answer, once the idle
# ones time out (curl's --max-time in call() bounds the wait; no duration is asserted).
test_idle_clients() {
	start_kiln || { not_ok "kiln --api-sock for the idle clients" "kiln did not start"; return; }
	if hold "$sock" 20; then
		call GET /
		expect "20 idle clients: a request is still answered" 200 '"state":"Not started"'
	else
		not_ok "20 idle clients hold their connections" "$(cat "$tmp/held")"
	fi
	release
	stop_kiln
}

# raw NAME TEXT: sends TEXT (printf's escapes) down one connection as it is; the replies are in $reply.
raw() {
	reply=$tmp/raw.$1
	# shellcheck disable=SC2059 # TEXT is a format on purpose: its \r\n
	printf "$2" | "$raw" "$sock" >"$reply" 2>&1
}

# replies FILE: the status codes of the HTTP replies in FILE, space-separated.
replies() {
	grep -oE 'HTTP/1\.1 [0-9]{3}' "$1" | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//'
}

# The HTTP layer (api/http.c, api/server.c) on what curl does not send.
test_http() {
	start_kiln || { not_ok "kiln --api-sock for the HTTP tests" "kiln did not start"; return; }
	raw pipelined 'GET /version HTTP/1.1\r\n\r\nPUT /machine-config HTTP/1.1\r\nContent-Length: 34\r\n\r\n{"vcpu_count":1,"mem_size_mib":32}GET /machine-config HTTP/1.1\r\nConnection: close\r\n\r\n'
	if [ "$(replies "$reply")" = "200 204 200" ] && grep -q '"mem_size_mib":32' "$reply"; then
		ok "HTTP: three pipelined requests get three replies, in order"
	else
		not_ok "HTTP: three pipelined requests get three replies, in order" "$(replies "$reply"): $(head -c 300 "$reply")"
	fi
	raw chunked 'PUT /machine-config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10;ext=1\r\n{"vcpu_count":1,\r\n12\r\n"mem_size_mib":48}\r\n0\r\nX-Trailer: 1\r\n\r\nGET /machine-config HTTP/1.1\r\nConnection: close\r\n\r\n'
	if [ "$(replies "$reply")" = "204 200" ] && grep -q '"mem_size_mib":48' "$reply"; then
		ok "HTTP: a chunked body"
	else
		not_ok "HTTP: a chunked body" "$(replies "$reply"): $(head -c 300 "$reply")"
	fi
	raw malformed 'GET / HTTP/1.1\r\nHost : localhost\r\n\r\nGET / HTTP/1.1\r\n\r\n'
	if [ "$(replies "$reply")" = 400 ] && grep -q 'fault_message.*NAME: VALUE' "$reply" && grep -qi '^Connection: close' "$reply"; then
		ok "HTTP: a malformed request gets a 400, then the connection closes"
	else
		not_ok "HTTP: a malformed request gets a 400, then the connection closes" "$(replies "$reply"): $(head -c 300 "$reply")"
	fi
	raw smuggled 'PUT /machine-config HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
	if [ "$(replies "$reply")" = 400 ] && grep -q 'both Transfer-Encoding and Content-Length' "$reply"; then
		ok "HTTP: both framings at once are refused"
	else
		not_ok "HTTP: both framings at once are refused" "$(replies "$reply"): $(head -c 300 "$reply")"
	fi
	# The body of a request refused for its size still arrives: kiln drops it, and the client, still
	# sending when the reply goes out, gets that reply, not a reset connection (api/server.c, lingering).
	reply=$tmp/raw.oversized
	{ printf 'PUT /machine-config HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n'; head -c 1048576 /dev/zero; } |
		"$raw" "$sock" >"$reply" 2>&1
	if [ "$(replies "$reply")" = 400 ] && grep -q 'larger than the limit' "$reply"; then
		ok "HTTP: a 1 MiB body sent whole after its refusal: the client reads the 400"
	else
		not_ok "HTTP: a 1 MiB body sent whole after its refusal: the client reads the 400" \
			"$(replies "$reply"): $(head -c 300 "$reply")"
	fi
	raw http10 'GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n'
	if [ "$(replies "$reply")" = 200 ]; then ok "HTTP/1.0: one request, then the connection closes"
	else not_ok "HTTP/1.0: one request, then the connection closes" "$(replies "$reply")"; fi
	call GET /
	expect "HTTP: kiln still serves after all that" 200 '"state":"Not started"'
	stop_kiln
}

# libs PID: the HTTP and TLS libraries (libmicrohttpd and what it pulls in on Debian, OpenSSL) that
# PID maps, one a line; "no maps" when /proc/PID/maps cannot be read or does not name kiln's binary
# (the release kiln is linked static: no libc.so to look for; the sanitizer build maps shared ones).
libs() {
	if ! grep -qF "$(readlink -f "$kiln")" "/proc/$1/maps" 2>/dev/null; then
		echo "no maps"
		return
	fi
	grep -oE '/lib(microhttpd|gnutls|nettle|hogweed|gmp|p11-kit|idn2|unistring|tasn1|ffi|ssl|crypto)[^/]*$' \
		"/proc/$1/maps" | sort -u
}

# The maps of a running kiln, with and without the API, hold no HTTP or TLS library: the API server
# is kiln's own (api/http.c). In API mode the process still serves before and after InstanceStart.
test_maps() {
	"$kiln" run --kernel "$tiny/counter.elf" --mem 16M </dev/null >"$out" 2>"$err" &
	pid=$!
	if grows; then
		found=$(libs "$pid")
		if [ -z "$found" ]; then ok "kiln run maps no HTTP or TLS library"
		else not_ok "kiln run maps no HTTP or TLS library" "$(echo "$found" | tr '\n' ' ')"; fi
	else
		not_ok "kiln run maps no HTTP or TLS library" "counter.elf did not run: $(grep -v '^kiln: warning:' "$err" | head -n 1)"
	fi
	stop_kiln
	start_kiln || { not_ok "kiln --api-sock for the maps" "kiln did not start"; return; }
	call GET /
	found=$(libs "$pid")
	if [ "$code" = 200 ] && [ -z "$found" ]; then ok "kiln --api-sock serves and maps no HTTP or TLS library"
	else not_ok "kiln --api-sock serves and maps no HTTP or TLS library" "status $code; $(echo "$found" | tr '\n' ' ')"; fi
	call PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 16}'
	call PUT /boot-source "{\"kernel_image_path\": \"$tiny/counter.elf\"}"
	call PUT /actions '{"action_type": "InstanceStart"}'
	expect "maps: InstanceStart" 204
	call GET /
	found=$(libs "$pid")
	if [ "$code" = 200 ] && grep -qF '"state":"Running"' "$reply" && [ -z "$found" ]; then
		ok "a running VM's API process serves and maps no HTTP or TLS library"
	else
		not_ok "a running VM's API process serves and maps no HTTP or TLS library" "status $code; $(echo "$found" | tr '\n' ' ')"
	fi
	stop_kiln
}

# vsock_fd_limit NAME ULIMIT_ARGS...: kiln under `ulimit ULIMIT_ARGS -n 1024` boots vsock_idle.elf
# (it activates the vsock device and never answers) with a drive and metrics; 1100 host clients
# connect to the vsock socket and stay, each a kiln fd: more than VSOCK_MAX_CONNS (1024) and than
# the limit. kiln refuses those past its connection limit and still answers the API, flushes the
# metrics and opens a drive.
vsock_fd_limit() {
	name=$1
	shift
	limits="$* -n 1024"
	start_kiln
	started=$?
	limits=
	[ $started -eq 0 ] || { not_ok "$name: kiln --api-sock" "kiln did not start"; return; }
	call PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 16}'
	call PUT /boot-source "{\"kernel_image_path\": \"$tiny/vsock_idle.elf\"}"
	call PUT /drives/scratch \
		"{\"drive_id\": \"scratch\", \"path_on_host\": \"$tmp/disk1\", \"is_root_device\": false, \"is_read_only\": true}"
	: >"$tmp/metrics.$name"
	call PUT /metrics "{\"metrics_path\": \"$tmp/metrics.$name\"}"
	call PUT /vsock "{\"guest_cid\": 3, \"uds_path\": \"$tmp/v.sock\"}"
	call PUT /actions '{"action_type": "InstanceStart"}'
	expect "$name: InstanceStart of vsock_idle.elf" 204
	soft=$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")
	hard=$(awk '/^Max open files/ { print $5 }' "/proc/$pid/limits")
	if [ "$soft" = "$hard" ]; then ok "$name: kiln raised its soft fd limit to the hard one ($hard)"
	else not_ok "$name: kiln raises its soft fd limit to the hard one" "soft $soft, hard $hard"; fi
	if ! hold "$tmp/v.sock" 1100; then
		not_ok "$name: 1100 vsock clients connect" "$(cat "$tmp/held"); kiln: $(grep -v '^kiln: warning:' "$err" | tail -n 2)"
	elif wait_for "$err" "refusing a host client" 60; then
		ok "$name: kiln refuses the vsock clients past its connection limit"
	else
		not_ok "$name: kiln refuses the vsock clients past its connection limit" \
			"$(grep -v '^kiln: warning:' "$err" | tail -n 2)"
	fi
	call GET /
	expect "$name: GET / is answered at the vsock connection limit" 200 '"state":"Running"'
	call PUT /actions '{"action_type": "FlushMetrics"}'
	expect "$name: FlushMetrics at the vsock connection limit" 204
	call PATCH /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$tmp/disk2\"}"
	expect "$name: PATCH /drives opens a file at the vsock connection limit" 204
	release
	stop_kiln
}

test_fd_limits() {
	if [ "$(ulimit -H -n)" != unlimited ] && [ "$(ulimit -H -n)" -lt 2048 ]; then
		echo "# skip: soft fd limit 1024 under a higher hard one: the hard limit here is $(ulimit -H -n)"
	else
		vsock_fd_limit "soft 1024" -S
	fi
	vsock_fd_limit "soft = hard = 1024"
}

head -c 1048576 /dev/zero >"$tmp/disk1"
head -c 1048576 /dev/zero >"$tmp/disk2"
head -c 1048576 /dev/zero >"$tmp/disk3"
head -c 1048576 /dev/zero >"$tmp/disk4"
: >"$tmp/metrics"
: >"$tmp/log"

if start_kiln; then
	test_pre_boot
	test_devices
	stop_kiln
else
	not_ok "kiln --api-sock" "kiln did not start"
fi
if start_kiln; then
	test_configure
	test_running
else
	not_ok "kiln --api-sock" "kiln did not start"
fi
test_config_file
test_stalled_stdout
test_api_exit
test_socket
test_idle_clients
test_http
test_maps
test_fd_limits

contract_check "$contract" "$schema" "$exchanges" "$routes"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
