#!/bin/sh
# seccomp.sh KILN_TEST_BUILD TINY_DIR — every thread of kiln runs under its own seccomp allowlist,
# in `kiln run` and in the API process: a syscall outside it kills kiln with SIGSYS, after one line
# on stderr naming the syscall and the thread. And the allowlists are complete: the guest runs, and
# kiln ends in each way it can (the guest's end, SIGTERM; on a terminal: terminal.sh) with its main
# thread's filter on through the teardown and, in this build, LeakSanitizer's scan at exit.
# KILN_TEST_BUILD is a kiln built with KILN_TEST_HOOKS (the sanitizer build): with
# KILN_TEST_SECCOMP_VIOLATION=io|blk|vcpu|main|api that thread makes a forbidden syscall (getpgid) once
# its filter is on. Every kiln here is killed after 20 s: a hung kiln fails its test.
# SPDX-License-Identifier: Apache-2.0
kiln=$1 tiny=$2
pass=0 failed=0
sigsys=159 # 128 + SIGSYS (31 on x86_64)
getpgid=121 # the hook's forbidden syscall, on x86_64
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

check() { # NAME WANT GOT
	if [ "$3" = "$2" ]; then echo "ok - $1"; pass=$((pass + 1))
	else echo "not ok - $1 (got $3, expected $2)"; failed=$((failed + 1)); fi
}

# kiln_status [VAR=VALUE...] -- KILN_ARGS...: runs kiln (stdin /dev/null, stderr in $tmp/err) and
# prints its exit status.
kiln_status() {
	env_args=
	while [ "$1" != -- ]; do env_args="$env_args $1"; shift; done
	shift
	# shellcheck disable=SC2086 # env_args is a list of VAR=VALUE words
	env $env_args timeout -s KILL 20 "$kiln" "$@" </dev/null >/dev/null 2>"$tmp/err"
	echo $?
}

# Config files for the API process, with a writable disk, vsock and entropy beside the tiny guest:
# the teardown syncs, closes and unlinks under the main thread's filter.
write_config() { # FILE KERNEL
	head -c 65536 /dev/zero >"$tmp/disk"
	cat >"$1" <<EOF
{
  "boot-source": { "kernel_image_path": "$2" },
  "drives": [ { "drive_id": "data", "path_on_host": "$tmp/disk", "is_root_device": false,
                "is_read_only": false } ],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 16 },
  "vsock": { "guest_cid": 3, "uds_path": "$tmp/v.sock" },
  "entropy": {}
}
EOF
}
write_config "$tmp/hello.json" "$tiny/hello.elf"
write_config "$tmp/counter.json" "$tiny/counter.elf"
api_hello="--api-sock $tmp/api.sock --config-file $tmp/hello.json"

# violation NAME THREAD KILN_ARGS...: THREAD's forbidden syscall kills kiln, and stderr names it.
violation() {
	name=$1 thread=$2
	shift 2
	check "seccomp: $name: a forbidden syscall on the $thread thread is killed with SIGSYS" "$sigsys" \
		"$(kiln_status KILN_TEST_SECCOMP_VIOLATION="$thread" -- "$@")"
	line="kiln: seccomp: the $thread thread made syscall $getpgid, which is not on its allowlist"
	check "seccomp: $name: the $thread thread's violation is named on stderr" yes \
		"$(grep -qF "$line" "$tmp/err" && echo yes || head -n 3 "$tmp/err")"
}

for thread in io vcpu main; do
	violation "kiln run" "$thread" run --kernel "$tiny/hello.elf" --mem 16M
done
head -c 65536 /dev/zero >"$tmp/disk"
violation "kiln run" blk run --kernel "$tiny/hello.elf" --mem 16M --disk "$tmp/disk"
for thread in api main; do
	# shellcheck disable=SC2086 # api_hello is a list of arguments
	violation "API process" "$thread" $api_hello
done

check "seccomp: kiln run: the allowlists let a guest run to its end" 0 \
	"$(kiln_status -- run --kernel "$tiny/hello.elf" --mem 16M --disk "$tmp/disk" \
		--vsock "cid=3,uds=$tmp/v.sock" --rng --boot-time)"
# shellcheck disable=SC2086
check "seccomp: API process: the allowlists let a guest run to its end" 0 "$(kiln_status -- $api_hello)"
check "seccomp: API process: the API socket is removed at the end" no \
	"$([ -e "$tmp/api.sock" ] && echo yes || echo no)"

# stopped NAME KILN_ARGS...: SIGSTOP then SIGCONT (job control) while the counter guest runs: kiln
# goes on (its sleeping threads resume through restart_syscall); then SIGTERM: kiln stops the guest
# and exits 143.
stopped() {
	name=$1
	shift
	"$kiln" "$@" </dev/null >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 100); do
		[ -s "$tmp/out" ] && break
		sleep 0.05
	done
	kill -STOP "$pid"
	sleep 0.3
	kill -CONT "$pid"
	sleep 0.5
	check "seccomp: $name: kiln goes on after SIGSTOP and SIGCONT" yes \
		"$(kill -0 "$pid" 2>/dev/null && echo yes || head -n 3 "$tmp/err")"
	kill -TERM "$pid"
	for _ in $(seq 400); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	check "seccomp: $name: SIGTERM while the guest runs stops kiln (128+15)" 143 $?
}
stopped "kiln run" run --kernel "$tiny/counter.elf" --mem 16M
# shellcheck disable=SC2086
stopped "API process" --api-sock "$tmp/api.sock" --config-file "$tmp/counter.json"
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
