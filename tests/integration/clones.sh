#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Clones: 8 guests restored from one snapshot of the tiny guest tests/tiny/clone.S, which at boot
# fills 16 MiB of its RAM with a pattern, counts 1..100 and waits for a byte on its UART (there
# the snapshot is taken). Each clone is given its own byte (its seed), reads the whole area back
# (each word checked), writes sector 0 of its disk full of its seed, prints "written", waits for a
# second byte, counts on 101..150 and exits with (1 + ... + 150 + seed) mod 100.
#   (a) a fresh boot: its PSS (smaps_rollup) is the yardstick; it is snapshotted while it waits;
#   (b) 8 separate `kiln restore` processes, each with its own disk (--disk-path drive0=FILE);
#   (c) one `kiln restore --clones 8`, per-clone console files, disks and logs by %i;
#   in (b) and (c), while all 8 are alive after their reads, the sum of their PSS (the parent's
#   too in (c)) must be under half of 8 fresh VMs': the memory file is mapped MAP_PRIVATE, so the
#   16 MiB a clone only reads are in the page cache once. Each clone's output, status and disk
#   are checked; the snapshot's own disk is never written. The figures are printed as
#   `# measure:` lines; nothing is timed.
#   (d) refusals, each one line and status 125: a writable disk or an output file every clone
#       would share, a bad '%', --clones 0, a --disk-path id the snapshot lacks or a file of
#       another size.
#
# usage: [KEEP=1] clones.sh KILN_BINARY TINY_DIR (KEEP=1: the scratch directory is kept, for a look)
# Prints "ok - NAME" or "not ok - NAME (why)", then "N passed, M failed"; exits 1 if any failed,
# 77 (skip) without /dev/kvm, 2 on bad usage.

set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 KILN_BINARY TINY_DIR" >&2
	exit 2
fi
kiln=$1 guest=$2/clone.elf
n=8 first=100 end=150
[ -x "$kiln" ] || { echo "clones.sh: $kiln is not an executable" >&2; exit 2; }
[ -f "$guest" ] || { echo "clones.sh: $guest is missing (make tiny)" >&2; exit 2; }
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "clones.sh: SKIP: /dev/kvm is not usable here" >&2
	exit 77
fi

tmp=$(mktemp -d) || exit 2
pids=
cleanup() {
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(dirname "$0")/tiny_lib.sh"

# seed I: clone I's byte. Clone 0's makes status 0, the others' 91..97.
seed() {
	if [ "$1" = 0 ]; then echo K; else printf "\\$(printf %03o $((65 + $1)))"; fi
}

# status_of SEED: the status the guest computes from SEED.
status_of() {
	echo $(((end * (end + 1) / 2 + $(printf %d "'$1")) % 100))
}

# feeder FIFO SEED GO: in the background, holds FIFO open for writing: writes SEED at once, and the
# second byte once the file GO exists.
feeder() {
	(
		printf %s "$2"
		until [ -e "$3" ]; do sleep 0.05; done
		printf G
	) >"$1" &
	pids="$pids $!"
}

# wait_for FILE TEXT SECONDS: whether FILE holds the line TEXT within SECONDS.
wait_for() {
	for _ in $(seq $(($3 * 10))); do
		grep -qx "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# pss PID...: the sum of their Pss in KiB.
pss() {
	for p in "$@"; do
		awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0
	done | awk '{ s += $1 } END { print s + 0 }'
}

# finish PID SECONDS: waits for the background PID to end within SECONDS (else kills it: 137); $status.
finish() {
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	status=$?
}

# clone_output FILE: empty when FILE is what a clone prints: checked, written, 101..150.
{ echo checked; echo written; seq $((first + 1)) $end; } >"$tmp/expected"
clone_output() {
	cmp -s "$1" "$tmp/expected" || echo "$(basename "$1"): $(head -n 3 "$1" | tr '\n' '|')... $(wc -l <"$1") lines"
}

# sector FILE SEED: empty when FILE's first 512 bytes are SEED, and the rest zeros.
sector() {
	want=$(head -c 512 /dev/zero | tr '\0' "$2" | cksum)
	[ "$(head -c 512 "$1" | cksum)" = "$want" ] || { echo "$(basename "$1"): sector 0 is not 512 x $2"; return; }
	[ "$(tail -c +513 "$1" | tr -d '\0' | wc -c)" = 0 ] || echo "$(basename "$1"): written past sector 0"
}

# one_line FILE: empty when FILE (a kiln's stderr) says exactly one line besides the PVM warning.
one_line() {
	got=$(grep -vc '^kiln: warning:' "$1")
	[ "$got" = 1 ] || echo "$got lines: $(grep -v '^kiln: warning:' "$1" | head -n 3 | tr '\n' '|')"
}

# --- (a) a fresh boot, snapshotted --------------------------------------------------------------------
truncate -s 1M "$tmp/disk"
sock=$tmp/run.sock
"$kiln" run --kernel "$guest" --mem 32M --disk "$tmp/disk" --api-sock "$sock" </dev/null >"$tmp/run.out" \
	2>"$tmp/run.err" &
run_pid=$!
pids="$pids $run_pid"
if ! wait_for "$tmp/run.out" ready 60; then
	not_ok "the guest boots, fills its memory and waits" "$(tail -n 2 "$tmp/run.out" | tr '\n' '|') $(tail -n 2 "$tmp/run.err")"
	exit 1
fi
fresh=$(pss "$run_pid")
echo "# measure: one freshly booted VM (16 MiB written): PSS $fresh KiB"
timeout -s KILL 30 "$kiln" snapshot --api-sock "$sock" "$tmp/snap" </dev/null >/dev/null 2>"$tmp/snap.err"
check "kiln snapshot of the waiting guest" "$([ $? = 0 ] || cat "$tmp/snap.err")"
kill -KILL "$run_pid"
wait "$run_pid" 2>/dev/null
sanitizer "$tmp/run.err"
snap=$tmp/snap
limit=$((n * fresh / 2))

# measured WHAT SUM: the figure and its ratio to n fresh VMs, and whether it is under the limit.
measured() {
	echo "# measure: $1: sum of PSS $2 KiB for $n VMs; $n fresh VMs: $((n * fresh)) KiB; ratio $(awk -v a="$2" -v b=$((n * fresh)) 'BEGIN { printf "%.2f", a / b }')"
	check "$1: their memory is shared: the sum of their PSS ($2 KiB) is under half of $n fresh VMs' ($limit KiB)" \
		"$([ "$2" -gt 0 ] && [ "$2" -lt "$limit" ] || echo "$2 KiB")"
}

# --- (b) 8 separate kiln restore processes --------------------------------------------------------------
spids=
for i in $(seq 0 $((n - 1))); do
	truncate -s 1M "$tmp/s$i.disk"
	mkfifo "$tmp/s$i.in"
	feeder "$tmp/s$i.in" "$(seed "$i")" "$tmp/go.s"
	"$kiln" restore --disk-path "drive0=$tmp/s$i.disk" "$snap" <"$tmp/s$i.in" >"$tmp/s$i.out" 2>"$tmp/s$i.err" &
	spids="$spids $!"
done
pids="$pids $spids"
all=yes
for i in $(seq 0 $((n - 1))); do
	wait_for "$tmp/s$i.out" written 120 || { all=; not_ok "separate restore $i reads its memory and writes its disk" \
		"$(tail -n 2 "$tmp/s$i.out" | tr '\n' '|') $(grep -v warning "$tmp/s$i.err" | head -n 2)"; }
done
# shellcheck disable=SC2086 # a list of pids
[ -n "$all" ] && measured "$n separate kiln restore" "$(pss $spids)"
touch "$tmp/go.s"
i=0
for p in $spids; do
	finish "$p" 60
	want=$(status_of "$(seed "$i")")
	check "separate restore $i: counts on and exits with the status of its seed ($want)" \
		"$([ "$status" = "$want" ] || echo "status $status")$(clone_output "$tmp/s$i.out")"
	check "separate restore $i: its disk writes went to its own file" "$(sector "$tmp/s$i.disk" "$(seed "$i")")"
	sanitizer "$tmp/s$i.err"
	i=$((i + 1))
done

# --- (c) kiln restore --clones 8 ---------------------------------------------------------------------------
for i in $(seq 0 $((n - 1))); do
	truncate -s 1M "$tmp/c$i.disk"
	mkfifo "$tmp/c$i.in"
	feeder "$tmp/c$i.in" "$(seed "$i")" "$tmp/go.c"
done
"$kiln" restore --clones $n --console-in "$tmp/c%i.in" --console-out "$tmp/c%i.out" \
	--disk-path "drive0=$tmp/c%i.disk" --log-file "$tmp/c%i.log" --log-level info "$snap" \
	</dev/null >"$tmp/clones.out" 2>"$tmp/clones.err" &
parent=$!
pids="$pids $parent"
all=yes
for i in $(seq 0 $((n - 1))); do
	wait_for "$tmp/c$i.out" written 120 || { all=; not_ok "clone $i reads its memory and writes its disk" \
		"$(tail -n 2 "$tmp/c$i.out" 2>&1 | tr '\n' '|') $(grep -v warning "$tmp/c$i.log" 2>&1 | head -n 2)"; }
done
children=$(pgrep -P "$parent" | tr '\n' ' ')
check "kiln restore --clones $n: one child process per clone" \
	"$([ "$(echo "$children" | wc -w)" = $n ] || echo "children: $children")"
# shellcheck disable=SC2086 # a list of pids
[ -n "$all" ] && measured "kiln restore --clones $n (its own process too)" "$(pss "$parent" $children)"
touch "$tmp/go.c"
finish "$parent" 60
want=$(status_of "$(seed 1)")
check "kiln restore --clones: exits with the first clone's non-zero status (clone 1's, $want; clone 0's is 0)" \
	"$([ "$status" = "$want" ] || echo "status $status")"
for i in $(seq 0 $((n - 1))); do
	want=$(status_of "$(seed "$i")")
	check "clone $i: counts on; kiln prints its status ($want)" "$(clone_output "$tmp/c$i.out")$(grep -qE \
		"^kiln: clone $i \(pid [0-9]+\): exit status $want\$" "$tmp/clones.err" || echo "no line for it")"
	check "clone $i: its disk writes went to its own file (--disk-path drive0=...%i)" \
		"$(sector "$tmp/c$i.disk" "$(seed "$i")")"
	check "clone $i: its log is its own (--log-file ...%i)" \
		"$(grep -q "^kiln: snapshot: $snap/state restored in" "$tmp/c$i.log" || echo "$(head -c 200 "$tmp/c$i.log")")"
	sanitizer "$tmp/c$i.log"
done
check "kiln restore --clones: one line per clone, nothing else but the PVM warning" \
	"$(grep -v '^kiln: warning:' "$tmp/clones.err" | grep -vcE '^kiln: clone [0-9] \(pid [0-9]+\): exit status [0-9]+$' | grep -vx 0)"
check "the snapshot's own disk was never written" "$([ "$(tr -d '\0' <"$tmp/disk" | wc -c)" = 0 ] || echo written)"

# --- (d) refusals ------------------------------------------------------------------------------------------
# refused NAME TEXT KILN_ARGS...: kiln restore KILN_ARGS exits 125 with one line holding TEXT.
refused() {
	name=$1 text=$2
	shift 2
	timeout -s KILL 30 "$kiln" restore "$@" </dev/null >"$tmp/r.out" 2>"$tmp/r.err"
	status=$?
	check "$name: refused with one line" "$([ "$status" = 125 ] || echo "status $status")$(one_line "$tmp/r.err")$(grep -qF -- \
		"$text" "$tmp/r.err" || echo "no '$text': $(cat "$tmp/r.err")")"
	sanitizer "$tmp/r.err"
}
refused "--clones 2 sharing the writable disk" "--clones 2: every clone would write disk drive0 ($tmp/disk)" \
	--clones 2 "$snap"
refused "--clones 2 with one --disk-path for all" "every clone would write disk drive0" \
	--clones 2 --disk-path "drive0=$tmp/s0.disk" "$snap"
refused "--clones 2 with one --console-out for all" "--console-out $tmp/o: one file for 2 clones: put %i in it" \
	--clones 2 --disk-path "drive0=$tmp/c%i.disk" --console-out "$tmp/o" "$snap"
refused "--clones 2 with one --api-sock for all" "--api-sock $tmp/a.sock: one socket for 2 clones" \
	--clones 2 --disk-path "drive0=$tmp/c%i.disk" --api-sock "$tmp/a.sock" "$snap"
refused "a '%' that is neither %i nor %%" "--disk-path $tmp/c%d.disk: a '%' starts %i" \
	--clones 2 --disk-path "drive0=$tmp/c%d.disk" "$snap"
refused "--clones 0" "--clones 0: a number of guests from 1 to 1024" --clones 0 "$snap"
refused "--disk-path for a disk the snapshot lacks" "disk override drive1: the snapshot has no disk with that id" \
	--disk-path "drive1=$tmp/s0.disk" "$snap"
truncate -s 4096 "$tmp/small.disk"
refused "--disk-path to a file of another size" "disk $tmp/small.disk: 4096 bytes, the snapshot's guest had 1048576" \
	--disk-path "drive0=$tmp/small.disk" "$snap"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
