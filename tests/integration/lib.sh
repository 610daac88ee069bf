# tests/integration/lib.sh — what the Linux-guest suites (linux.sh, virtio.sh, vsock.sh, net.sh,
# api_guest.sh, ctrl_alt_del.sh) share: TAP-style result lines, a scratch directory, one kiln boot.
# Sourced (`. "$(dirname "$0")/lib.sh"`) after the suite has checked its own environment; runs under
# busybox sh. It sets:
#   w        a scratch directory, removed at exit (after the suite's `cleanup_hook`, if it sets one)
#   tmo      seconds one boot may take: KILN_TEST_TIMEOUT, default 300
#   pass failed t_start
# SPDX-License-Identifier: Apache-2.0

tmo=${KILN_TEST_TIMEOUT:-300}
w=$(mktemp -d) || exit 1
pass=0 failed=0 t_start=$(date +%s)

lib_cleanup() {
	[ -n "${cleanup_hook:-}" ] && $cleanup_hook
	rm -rf "$w"
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $1"; pass=$((pass + 1)); took; }
# not_ok NAME DETAIL: also shows the end of what the guest and kiln printed, once per boot.
not_ok() {
	echo "not ok - $1 ($2)"
	took
	failed=$((failed + 1))
	show_output 15
}
show_output() {  # LINES: the tails of the last boot's stdout and stderr, the first time only
	[ -n "${shown:-}" ] && return
	shown=yes
	tail -n "$1" "$w/out" 2> /dev/null | sed 's/^/#   stdout: /'
	tail -n "$1" "$w/err" 2> /dev/null | sed 's/^/#   stderr: /'
}
took() { [ -n "${secs:-}" ] && echo "#   ($secs s)"; secs=; }
note() { echo "#   $*"; }
# fatal NAME: a failure that makes the rest of the suite pointless.
fatal() { echo "not ok - $1"; failed=$((failed + 1)); finish; }
# finish: the summary line guest_batch.sh adds up; the suite's status says whether all passed.
finish() {
	echo "# total $(($(date +%s) - t_start)) s"
	echo "$pass passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

# require_kvm [FILE...]: /dev/kvm and the suite's input files are there, or the suite ends failed.
require_kvm() {
	[ -c /dev/kvm ] || fatal "/dev/kvm (missing: these tests need KVM; see tests/host/README.md)"
	for f in "$@"; do
		[ -f "$f" ] || fatal "inputs ($f missing)"
	done
}

# boot [KILN OPTIONS] -- CMD...: kiln runs the test guest ($GUEST/$GUEST_KERNEL, default vmlinuz; the
# arm64 guest's is Image), prefixed by $run_in (e.g. a netns exec),
# stdin from $stdin (default /dev/null). $rc is its status ("timeout" past ${btmo:-$tmo} seconds;
# btmo is reset after each boot), its stdout less carriage returns (the UART driver turns \n into
# \r\n) in $w/out, its stderr in $w/err, its wall time in $secs.
boot() {
	start=$(date +%s) btmo=${btmo:-$tmo}
	${run_in:-} timeout -s KILL "$btmo" "$KILN" run --kernel "$GUEST/${GUEST_KERNEL:-vmlinuz}" --initrd "$GUEST/initrd.img" \
		"$@" < "${stdin:-/dev/null}" > "$w/raw" 2> "$w/err"
	rc=$?
	secs=$(($(date +%s) - start))
	[ "$secs" -ge "$btmo" ] && rc=timeout
	btmo= shown=
	tr -d '\r' < "$w/raw" > "$w/out"
}

# expect_status NAME STATUS [KILN OPTIONS] -- CMD...
expect_status() {
	name=$1 want=$2
	shift 2
	boot "$@"
	if [ "$rc" = "$want" ]; then ok "$name"; else not_ok "$name" "exit status $rc, expected $want"; fi
}
# meminfo_total: MemTotal in kB from the guest's `cat /proc/meminfo` ($w/out), empty if absent.
meminfo_total() { sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' "$w/out" | head -n 1; }
# expect_nproc N: with --cpus N the guest's nproc prints N.
expect_nproc() {
	boot --cpus "$1" -- nproc
	if [ "$rc" = 0 ] && grep -qx "$1" "$w/out"; then ok "--cpus $1: nproc prints $1"
	else not_ok "--cpus $1: nproc prints $1" "status $rc, nproc: $(grep -x '[0-9]*' "$w/out" | head -n 1)"; fi
}
# expect_memtotal_300m: with --mem 300M, MemTotal is RAM less what the kernel keeps for itself: the
# cloud kernel's image and bss, struct pages, early allocations. With 300 MiB that is ~13% (QEMU
# microvm, x86: MemTotal 266388 kB; QEMU -M virt, arm64: 275624 kB), so the bounds are 85-100% of
# 307200 kB.
expect_memtotal_300m() {
	boot --mem 300M -- cat /proc/meminfo
	kb=$(meminfo_total)
	if [ "$rc" = 0 ] && [ -n "$kb" ] && [ "$kb" -le 307200 ] && [ "$kb" -ge 261120 ]; then
		ok "--mem 300M: MemTotal $kb kB"
	else not_ok "--mem 300M: MemTotal within 255-300 MiB" "status $rc, MemTotal ${kb:-none} kB"; fi
}
sha_stdin() { sha256sum | cut -d' ' -f1; }
zeros_sha() { head -c "$1" /dev/zero | sha_stdin; }	# BYTES
# guest_sha PATH: the sha256 the guest printed for PATH (`sha256sum PATH` output), empty if none.
guest_sha() { sed -n "s|^\([0-9a-f]\{64\}\)  $1\$|\1|p" "$w/out" | head -n 1; }
# console_cmd SECONDS: a guest command for the console tests: prints a marker (computed, so that the
# kernel's echo of its command line cannot match it), reads two lines (each with a time limit) and
# prints them back as `got:A|B` (got_line).
console_cmd() {
	echo "echo \$((6 * 7))-ready; read -t $1 -r a && read -t $1 -r b; echo \"got:\$a|\$b\""
}
got_line() { grep '^got:' "$w/out" | head -n 1; }

# value KEY [FILE]: the value of the first `KEY=VALUE` word printed (default $w/out), empty if none.
value() {
	awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' \
		"${2:-$w/out}"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
# wait_for FILE PATTERN: until a line of FILE (carriage returns dropped) matches the grep PATTERN;
# 1 once kiln ($pid, started in the background) has ended or a boot's time ($tmo) has passed.
wait_for() {
	end=$(($(date +%s) + tmo))
	until tr -d '\r' < "$1" | grep -q "$2"; do
		[ "$(date +%s)" -lt "$end" ] && kill -0 "$pid" 2> /dev/null || return 1
		sleep 0.2
	done
}
# numbers_of WORD FILE...: the numbers N of the `WORD N` lines of the files joined (a snapshot may
# catch a guest mid-line: the restored guest prints the rest of that line, so the files join whole).
# A line still being written when FILE was read (its last, without an end) is not one: the END
# appended makes it no match (a `count ` without its number once ended a wait at once).
numbers_of() {
	word=$1
	shift
	{ cat "$@"; echo END; } | tr -d '\r' | sed -n "s/^$word \([0-9][0-9]*\)\$/\1/p"
}
counts() { numbers_of count "$@"; }
# consecutive FILE...: the counts in the files joined run 1, 2, ... with no gap; prints the last.
consecutive() { counts "$@" | awk '$1 != NR { bad = 1 } { last = $1 } END { if (!bad && NR) print last }'; }
# sector_image SCRIPT IMAGE: SCRIPT padded with newlines to whole 512-byte sectors (virtio-blk shows
# whole sectors only): how a guest gets a script too long for the kernel command line.
sector_image() {
	size=$(wc -c < "$1")
	{ cat "$1"; head -c $((511 - (size + 511) % 512)) /dev/zero | tr '\0' '\n'; } > "$2"
}
