#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Boots each tiny guest (tests/tiny, built by `make tiny`) under kiln and checks its exit status and
# output. Usage: tiny.sh KILN_BINARY TINY_DIR
# Prints "ok - NAME" or "not ok - NAME (why)" per guest, then "N passed, M failed"; exits 1 if any
# failed, 77 (skip) without /dev/kvm, 2 on bad usage.

set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 KILN_BINARY TINY_DIR" >&2
	exit 2
fi
kiln=$1
tiny_dir=$2
if [ ! -x "$kiln" ]; then
	echo "tiny.sh: $kiln is not an executable" >&2
	exit 2
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "tiny.sh: SKIP: /dev/kvm is not usable here" >&2
	exit 77
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

status=0
out=$tmp/stdout
err=$tmp/stderr
. "$(dirname "$0")/tiny_lib.sh"

# run_guest NAME [FLAG...]: boots TINY_DIR/NAME.elf; sets $status, leaves the output in $out, $err.
# SIGKILL after $limit seconds (20 unless set), with --preserve-status, gives 137: unlike timeout's
# own 124, it cannot be mistaken for kiln's "guest kernel panicked" status.
run_guest() {
	name=$1
	shift
	timeout --preserve-status -s KILL "${limit:-20}" \
		"$kiln" run --kernel "$tiny_dir/$name.elf" --mem 16M "$@" >"$out" 2>"$err"
	status=$?
}

# messages: stderr without kiln's warnings (on a PVM host, every run warns about it).
messages() {
	grep -v '^kiln: warning:' "$err"
}

# status_problem EXPECTED: prints why $status is wrong, or nothing when it is EXPECTED.
status_problem() {
	[ "$status" -eq "$1" ] && return
	if [ "$status" -eq 137 ]; then
		printf 'timed out after 20 s'
	else
		printf 'exit status %s, expected %s' "$status" "$1"
	fi
	first=$(messages | head -n 1)
	if [ -n "$first" ]; then
		printf ': %s' "$first"
	fi
}

# check NAME EXPECTED_STATUS [FLAG...]: runs the guest and checks only its exit status (this suite's
# check, in place of tiny_lib.sh's).
check() {
	name=$1
	expected=$2
	shift 2
	run_guest "$name" "$@"
	why=$(status_problem "$expected")
	if [ -n "$why" ]; then
		not_ok "$name" "$why"
	else
		ok "$name"
	fi
}

test_hello() {
	run_guest hello
	why=$(status_problem 0)
	printf 'hello from a tiny guest\n' >"$tmp/expected"
	if [ -z "$why" ] && ! cmp -s "$out" "$tmp/expected"; then
		why="stdout is not exactly the guest's line: $(head -c 200 "$out" | od -An -c | tr -s ' \n' ' ')"
	fi
	if [ -n "$why" ]; then
		not_ok hello "$why"
	else
		ok hello
	fi
}

test_status() {
	run_guest status --boot-time
	why=$(status_problem 42)
	if [ -z "$why" ] && ! grep -q '^kiln: boot-time:' "$err"; then
		why="no 'kiln: boot-time:' line on stderr with --boot-time"
	fi
	if [ -n "$why" ]; then
		not_ok status "$why"
	else
		ok status
	fi
}

test_triplefault() {
	run_guest triplefault
	why=$(status_problem 123)
	# Two lines besides warnings: the vCPU's state (to trace the crash), then the crash itself.
	lines=$(messages | wc -l)
	if [ -z "$why" ] && [ "$lines" -ne 2 ]; then
		why="expected two lines on stderr besides warnings, got $lines"
	elif [ -z "$why" ] && ! messages | grep -qE '^kiln: vcpu: vCPU 0 at the crash: (rip=0x10|registers unknown: KVM reset)'; then
		why="no line with the vCPU's rip at the crash (or why it is unknown)"
	elif [ -z "$why" ] && ! messages | tail -n 1 | grep -q 'triple-faulted'; then
		why="the last line does not name the triple fault"
	fi
	if [ -n "$why" ]; then
		not_ok triplefault "$why"
	else
		ok triplefault
	fi
}

# echo: 60 KB on stdin, 15 times the UART's receive queue, come back intact from a regular file
# and from a pipe: kiln stops reading while the queue is full instead of dropping input. Each byte
# is an exit each way: 18-23 s in the KVM test host (mk/kvm.mk), hence 120 s at most.
test_echo() {
	limit=120
	seq 1 12000 >"$tmp/text"
	{ cat "$tmp/text"; printf '\004'; } >"$tmp/input"
	rm -f "$tmp/fifo" && mkfifo "$tmp/fifo"
	for how in file pipe; do
		if [ $how = file ]; then
			run_guest echo <"$tmp/input"
		else
			cat "$tmp/input" >"$tmp/fifo" &
			run_guest echo <"$tmp/fifo"
			wait
		fi
		why=$(status_problem 0)
		if [ -z "$why" ] && ! cmp -s "$out" "$tmp/text"; then
			why="$(wc -c <"$out") of $(wc -c <"$tmp/text") bytes came back$(cmp "$out" "$tmp/text" 2>&1 | sed -n 's/.*differ:/, first difference at/p')"
		fi
		if [ -n "$why" ]; then
			not_ok "echo: 60 KB of console input from a $how" "$why"
		else
			ok "echo: 60 KB of console input from a $how"
		fi
	done
	limit=
}

test_hello
test_status
test_echo
check reset 0
check unmapped 0
# No in-kernel PIT: its teardown at the VM's exit cost ~12.7 ms (vm_build.c, create_irqchip).
check nopit 0
test_triplefault
# A virtio-console driver without MULTIPORT, stdin /dev/null: the input starts at DRIVER_OK, on the
# I/O thread (kiln once read it on the vCPU thread, and its seccomp filter killed kiln: 159).
check console_nomultiport 0 --console virtio </dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
