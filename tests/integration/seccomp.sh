#!/bin/sh
# seccomp.sh KILN_TEST_BUILD TINY_DIR — a syscall outside a thread's allowlist kills kiln with SIGSYS,
# after one line on stderr naming the syscall and the thread.
# KILN_TEST_BUILD is a kiln built with KILN_TEST_HOOKS (the sanitizer build): with
# KILN_TEST_SECCOMP_VIOLATION=io|vcpu that thread makes a forbidden syscall once its filter is on.
# SPDX-License-Identifier: Apache-2.0
kiln=$1 tiny=$2
pass=0 failed=0
sigsys=159 # 128 + SIGSYS (31 on x86_64)

check() { # NAME WANT GOT
	if [ "$3" = "$2" ]; then echo "ok - $1"; pass=$((pass + 1))
	else echo "not ok - $1 (exit status $3, expected $2)"; failed=$((failed + 1)); fi
}

getppid=110 # the hook's forbidden syscall, on x86_64
for thread in io vcpu; do
	KILN_TEST_SECCOMP_VIOLATION=$thread timeout -s KILL 20 \
		sh -c '"$1" run --kernel "$2/hello.elf" --mem 16M >/dev/null 2>"$3.err"; echo $? > "$3"' \
		_ "$kiln" "$tiny" /tmp/kiln-seccomp.$$ 2>/dev/null
	check "seccomp: a forbidden syscall on the $thread thread is killed with SIGSYS" "$sigsys" \
		"$(cat /tmp/kiln-seccomp.$$)"
	line="kiln: seccomp: the $thread thread made syscall $getppid, which is not on its allowlist"
	check "seccomp: the $thread thread's violation is named on stderr" yes \
		"$(grep -qF "$line" /tmp/kiln-seccomp.$$.err && echo yes || head -n 3 /tmp/kiln-seccomp.$$.err)"
done
timeout -s KILL 20 "$kiln" run --kernel "$tiny/hello.elf" --mem 16M >/dev/null 2>&1
check "seccomp: the allowlists let a guest run to its end" 0 $?
rm -f /tmp/kiln-seccomp.$$ /tmp/kiln-seccomp.$$.err
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
