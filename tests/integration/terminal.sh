#!/bin/sh
# terminal.sh KILN TINY_DIR — kiln on a terminal (script(1) makes one) sets it raw for the guest and,
# from under its main thread's seccomp filter, restores it at the end: in `kiln run` and in the API
# process. Run on every build: the release build's filter lacks the sanitizer's extra rows.
# SPDX-License-Identifier: Apache-2.0
kiln=$1 tiny=$2
pass=0 failed=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

check() { # NAME WANT GOT
	if [ "$3" = "$2" ]; then echo "ok - $1"; pass=$((pass + 1))
	else echo "not ok - $1 (got $3, expected $2)"; failed=$((failed + 1)); fi
}

cat >"$tmp/hello.json" <<JSON
{ "boot-source": { "kernel_image_path": "$tiny/hello.elf" }, "machine-config": { "vcpu_count": 1, "mem_size_mib": 16 } }
JSON

# on_terminal NAME KILN_ARGS...: kiln with a terminal (script(1) makes one) sets it raw for the guest
# and, from under the main thread's filter, restores it at the end.
on_terminal() {
	name=$1
	shift
	# The timeout runs inside the terminal's session, where kiln is, so that it kills kiln, and in
	# the terminal's foreground process group, where kiln may change the terminal's mode.
	: >"$tmp/status"
	script -qec "stty -g >$tmp/before; timeout --foreground -s KILL 20 $kiln $* >/dev/null 2>&1; echo \$? >$tmp/status;
		stty -g >$tmp/after" /dev/null </dev/null >/dev/null
	check "$name on a terminal: the guest runs to its end" 0 "$(cat "$tmp/status")"
	check "$name on a terminal: the terminal's mode is restored" yes \
		"$(cmp -s "$tmp/before" "$tmp/after" && echo yes || echo no)"
}
if command -v script >/dev/null; then
	on_terminal "kiln run" run --kernel "$tiny/hello.elf" --mem 16M
	on_terminal "API process" --api-sock "$tmp/api.sock" --config-file "$tmp/hello.json"
else
	echo "# SKIP: no script(1) (util-linux): the terminal tests did not run"
fi

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
