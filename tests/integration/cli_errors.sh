#!/bin/sh
# cli_errors.sh KILN TINY_DIR — bad input gets one clear line on stderr naming the value, and exit
# status 125; no guest needs to run. Also: kiln's one-line warning on a PVM /dev/kvm.
# SPDX-License-Identifier: Apache-2.0
kiln=$1 tiny=$2
hello=$tiny/hello.elf
pass=0 failed=0
w=$(mktemp -d) || exit 1
chmod 755 "$w"
trap 'rm -rf "$w"' EXIT

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1 ($2)"; failed=$((failed + 1)); }

# check_error NAME NEEDLE COMMAND...: status 125 and exactly one stderr line (the PVM warning
# aside) that contains NEEDLE.
check_error() {
	name=$1 needle=$2
	shift 2
	"$@" < /dev/null > "$w/out" 2> "$w/err"
	rc=$?
	grep -v '^kiln: warning: /dev/kvm is PVM' "$w/err" > "$w/lines"
	if [ "$rc" = 125 ] && [ "$(wc -l < "$w/lines")" = 1 ] && grep -qF -- "$needle" "$w/lines"; then
		ok "$name"
	else
		not_ok "$name" "status $rc, stderr: $(tr '\n' '|' < "$w/lines")"
	fi
}

head -c 4096 /dev/urandom > "$w/garbage"
printf 'not a kernel' > "$w/text"
mkdir "$w/dir"
cp "$hello" "$w/unreadable.elf"
chmod 600 "$w/unreadable.elf"

check_error "missing kernel" "$w/none" "$kiln" run --kernel "$w/none"
check_error "kernel is a directory" "$w/dir" "$kiln" run --kernel "$w/dir"
check_error "a file that is not a kernel" "not a Linux bzImage" "$kiln" run --kernel "$w/garbage"
check_error "a short text file as kernel" "$w/text" "$kiln" run --kernel "$w/text"
check_error "missing initrd" "$w/none.img" "$kiln" run --kernel "$hello" --initrd "$w/none.img"
check_error "--mem 0" "mem 0" "$kiln" run --kernel "$hello" --mem 0
check_error "--mem below the minimum" "at least 8 MiB" "$kiln" run --kernel "$hello" --mem 1M
check_error "--mem larger than the host" "more than this host" "$kiln" run --kernel "$hello" --mem 100T
check_error "--mem not a size" "--mem lots" "$kiln" run --kernel "$hello" --mem lots
check_error "--cpus 0" "vcpus 0" "$kiln" run --kernel "$hello" --cpus 0
check_error "--cpus above the KVM limit" "vcpus 100000" "$kiln" run --kernel "$hello" --cpus 100000
# Device values kiln_config_validate refuses: before any tap, socket or /dev/kvm is touched.
check_error "a multicast MAC" "guest MAC 01:00:5e:00:00:01 is a multicast address" \
	"$kiln" run --kernel "$hello" --net tap=kiln-none0,mac=01:00:5e:00:00:01
check_error "two NICs on one tap" "tap kiln-none0 is already in use" \
	"$kiln" run --kernel "$hello" --net tap=kiln-none0 --net tap=kiln-none0
long_uds=$w/$(printf '%0100d' 0).sock
check_error "a vsock socket path too long" "vsock uds path $long_uds" \
	"$kiln" run --kernel "$hello" --vsock "cid=3,uds=$long_uds"
check_error "a reserved vsock CID" "vsock cid 2" "$kiln" run --kernel "$hello" --vsock "cid=2,uds=$w/v.sock"
check_error "a disk serial too long" "serial '012345678901234567890'" \
	"$kiln" run --kernel "$hello" --disk "$w/text,serial=012345678901234567890"
check_error "unknown flag" "--frobnicate" "$kiln" run --kernel "$hello" --frobnicate
check_error "no kernel" "--kernel is required" "$kiln" run
check_error "unknown command" "launch" "$kiln" launch

# An unreadable kernel and /dev/kvm without permission: as an unprivileged user (kiln's files
# are world-readable so that user can run it).
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	check_error "unreadable kernel" "Permission denied" as_nobody "$kiln" run --kernel "$w/unreadable.elf"
	if [ "$(stat -c %a /dev/kvm)" = 600 ]; then
		check_error "no permission on /dev/kvm" "/dev/kvm: permission denied" \
			as_nobody "$kiln" run --kernel "$hello"
	fi
else
	check_error "unreadable kernel" "Permission denied" "$kiln" run --kernel "$w/unreadable.elf"
fi

# No /dev/kvm at all: kiln in a private mount namespace whose /dev is empty.
if unshare -m true 2> /dev/null; then
	check_error "no /dev/kvm" "/dev/kvm: No such file or directory" \
		unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" run --kernel "$1"' "$kiln" "$hello"
fi

# A PVM /dev/kvm is named in one warning line.
if [ -d /sys/module/kvm_pvm ]; then
	"$kiln" run --kernel "$hello" --mem 16M > /dev/null 2> "$w/err"
	if [ "$(grep -c '^kiln: warning: /dev/kvm is PVM' "$w/err")" = 1 ]; then ok "PVM /dev/kvm: one warning line"
	else not_ok "PVM /dev/kvm: one warning line" "stderr: $(tr '\n' '|' < "$w/err")"; fi
fi

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
