#!/bin/sh
# tests/integration/disk_errors.sh — bad --disk values: kiln must refuse each before the guest runs,
# with exit status 125 and exactly one line on stderr that names the bad value (a `kiln: warning:`
# line about a PVM /dev/kvm is not counted). Needs no Linux guest: the tiny guest (make tiny) is only
# booted by the controls that show a good value is accepted.
#
# usage: disk_errors.sh KILN TINY_KERNEL      (TINY_KERNEL: build/tiny/hello.elf)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed, 2 on bad usage.
#
# File errors are found after /dev/kvm is opened, so without a usable /dev/kvm those tests (and the
# controls) print `ok - NAME # SKIP ...`. As root, the unreadable file is checked with
# CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH taken out of the bounding set (setpriv), so that root
# cannot open a mode-000 file either; without setpriv that test is skipped, and says so.
# SPDX-License-Identifier: Apache-2.0
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 KILN TINY_KERNEL" >&2
	exit 2
fi
kiln=$1 tiny=$2
[ -x "$kiln" ] || { echo "disk_errors.sh: $kiln is not an executable" >&2; exit 2; }
[ -f "$tiny" ] || { echo "disk_errors.sh: $tiny: no such file (make tiny)" >&2; exit 2; }
kiln=$(realpath "$kiln") tiny=$(realpath "$tiny")	# the tests run in a scratch directory

w=$(mktemp -d) || exit 2
trap 'chmod -R u+rwx "$w" 2>/dev/null; rm -rf "$w"' EXIT
trap 'exit 130' INT TERM
pass=0 failed=0 skipped=0
have_kvm=no
[ -r /dev/kvm ] && [ -w /dev/kvm ] && have_kvm=yes

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() {
	echo "not ok - $1 ($2)"
	failed=$((failed + 1))
	sed 's/^/#   stderr: /' "$w/err"
}
skip() { echo "ok - $1 # SKIP $2"; pass=$((pass + 1)) skipped=$((skipped + 1)); }

# run [PREFIX...] -- KILN ARGS...: runs kiln on the tiny guest; $rc, stderr in $w/err, stdout in $w/out.
run() {
	pre=
	while [ "$1" != -- ]; do pre="$pre $1"; shift; done
	shift
	# shellcheck disable=SC2086 # $pre is a word list (setpriv and its options) on purpose
	timeout -s KILL 30 $pre "$kiln" run --kernel "$tiny" --mem 16M "$@" < /dev/null > "$w/out" 2> "$w/err"
	rc=$?
}

# refused NAME VALUE [PREFIX... --] KILN ARGS...: kiln must exit 125 with one stderr line (less the
# PVM warning) that contains VALUE.
refused() {
	name=$1 value=$2
	shift 2
	case " $* " in *" -- "*) run "$@" ;; *) run -- "$@" ;; esac
	lines=$(grep -cv '^kiln: warning:' "$w/err")
	line=$(grep -v '^kiln: warning:' "$w/err" | head -n 1)
	if [ "$rc" != 125 ]; then not_ok "$name" "exit status $rc, expected 125"
	elif [ "$lines" != 1 ]; then not_ok "$name" "$lines lines on stderr, expected 1"
	else
		case $line in
		*"$value"*) ok "$name: $line" ;;
		*) not_ok "$name" "the error line does not name $value" ;;
		esac
	fi
}

# accepted NAME KILN ARGS...: a control: the tiny guest boots and exits 0.
accepted() {
	name=$1
	shift
	if [ $have_kvm = no ]; then skip "$name" "no usable /dev/kvm"; return; fi
	run -- "$@"
	if [ "$rc" = 0 ]; then ok "$name"; else not_ok "$name" "exit status $rc, expected 0"; fi
}

# Needs /dev/kvm: kiln opens it before the disk files.
refused_file() {
	if [ $have_kvm = no ]; then skip "$1" "no usable /dev/kvm (kiln opens it before the disk)"; return; fi
	refused "$@"
}

cd "$w" || exit 2
: > x.img
truncate -s 1048576 disk.img
mkdir dir.img
echo secret > unreadable.img && chmod 000 unreadable.img
echo data > readonly.img && chmod 400 readonly.img
serial21=123456789012345678901
serial20=12345678901234567890

# --- rejected while parsing the command line ---
refused "ro flag typo: --disk x.img,rw" "'rw'" --disk x.img,rw
refused "option typo: --disk x.img,ro,serail=A" "'serail=A'" --disk x.img,ro,serail=A
refused "serial of 21 bytes" "$serial21" --disk "x.img,serial=$serial21"
refused "--disk ''" "''" --disk ''
refused "no path: --disk ,ro" "',ro'" --disk ,ro
# More disks than kiln takes (KILN_MAX_DISKS; 65 is past any sane limit): refused, naming a --disk value.
set --
i=0
while [ $i -lt 65 ]; do set -- "$@" --disk x.img,ro; i=$((i + 1)); done
refused "65 disks" "--disk x.img,ro" "$@"

# --- rejected when the files are opened ---
refused_file "missing disk file" "no-such.img" --disk no-such.img
refused_file "a directory as disk" "dir.img" --disk dir.img
refused_file "a directory as disk, ro" "dir.img" --disk dir.img,ro
refused_file "a character device as disk (/dev/null)" "/dev/null" --disk /dev/null
if [ $have_kvm = no ]; then
	skip "unreadable disk file" "no usable /dev/kvm"
	skip "a read-only file without ro" "no usable /dev/kvm"
elif [ "$(id -u)" != 0 ]; then
	refused "unreadable disk file (mode 000)" "unreadable.img" --disk unreadable.img,ro
	refused "a read-only file (mode 400) without ro" "readonly.img" --disk readonly.img
elif command -v setpriv > /dev/null &&
	! setpriv --bounding-set=-dac_override,-dac_read_search -- cat unreadable.img > /dev/null 2>&1; then
	drop="setpriv --bounding-set=-dac_override,-dac_read_search"
	# shellcheck disable=SC2086 # $drop is a command and its option, split on purpose
	refused "unreadable disk file (mode 000; root without CAP_DAC_*)" "unreadable.img" \
		$drop -- --disk unreadable.img,ro
	# shellcheck disable=SC2086
	refused "a read-only file (mode 400) without ro (root without CAP_DAC_*)" "readonly.img" \
		$drop -- --disk readonly.img
else
	skip "unreadable disk file" "as root, and setpriv cannot take CAP_DAC_OVERRIDE away"
	skip "a read-only file without ro" "as root, and setpriv cannot take CAP_DAC_OVERRIDE away"
fi

# --- controls: good values are accepted, so the refusals above are about the values ---
accepted "control: --disk disk.img,ro,serial=<20 bytes> boots" --disk "disk.img,ro,serial=$serial20"
accepted "control: --disk disk.img and --disk x.img,ro (empty file) boot" --disk disk.img --disk x.img,ro
[ -z "${drop:-}" ] || {
	# shellcheck disable=SC2086
	run $drop -- --disk readonly.img,ro
	if [ "$rc" = 0 ]; then ok "control: the mode-400 file with ro boots (root without CAP_DAC_*)"
	else not_ok "control: the mode-400 file with ro boots" "exit status $rc, expected 0"; fi
}

[ $skipped = 0 ] || echo "# $skipped of the passed tests were SKIPPED"
echo "$pass passed, $failed failed"
[ $failed = 0 ]
