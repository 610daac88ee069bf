#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/clones.sh KILN TINY_DIR CLONE_START [RUNS]: how N clones of one snapshot start, N = 1, 4, 16,
# two ways: N separate `kiln restore DIR` processes started at once, and one `kiln restore --clones N
# --console-out FIFO%i DIR`. The snapshot is of tests/tiny/count.S (32 MiB), taken while it counts;
# a restored guest prints its next number at once, so a clone's first console byte marks its
# resume. bench/tools/clone_start.c times each clone's first byte from the start and adds up the
# CPU of every process until then (the clones are then stopped). RUNS runs (default 5) of each,
# alternated A B A B; each row gives the medians over the runs of: the clones' median time to
# first output, their maximum, and the CPU. Nothing is asserted: the figures are for reading.
set -u
[ $# -ge 3 ] || { echo "usage: $0 KILN TINY_DIR CLONE_START [RUNS]" >&2; exit 2; }
kiln=$1 count=$2/count.elf watch=$3 runs=${4:-5}
tmp=$(mktemp -d) || exit 2
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

"$kiln" run --kernel "$count" --mem 32M --api-sock "$tmp/sock" </dev/null >"$tmp/run.out" 2>/dev/null &
pid=$!
for _ in $(seq 200); do
	[ "$(wc -l <"$tmp/run.out")" -ge 100 ] && break
	sleep 0.05
done
"$kiln" snapshot --api-sock "$tmp/sock" "$tmp/snap" || exit 1
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=

# median: the median of the numbers on stdin.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# field NAME FILE: NAME's value on each line of FILE.
field() {
	sed -n "s/.* $1=\([0-9.-]*\).*/\1/p" "$2"
}

printf '%-28s %4s %10s %10s %10s\n' "how" "N" "median_ms" "max_ms" "cpu_ms"
for n in 1 4 16; do
	: >"$tmp/sep" && : >"$tmp/clo"
	for _ in $(seq "$runs"); do
		"$watch" -n "$n" -- "$kiln" restore "$tmp/snap" >>"$tmp/sep"
		"$watch" -n "$n" -f "$tmp/fifo%i" -- "$kiln" restore --clones "$n" --console-out "$tmp/fifo%i" \
			"$tmp/snap" >>"$tmp/clo"
	done
	for how in sep clo; do
		label="$n separate kiln restore"
		[ "$how" = clo ] && label="kiln restore --clones $n"
		bad=$(grep -vc "started=$n " "$tmp/$how")
		[ "$bad" = 0 ] || echo "# $label: $bad runs where not every clone printed"
		printf '%-28s %4s %10s %10s %10s\n' "$label" "$n" "$(field median_ms "$tmp/$how" | median)" \
			"$(field max_ms "$tmp/$how" | median)" "$(field cpu_ms "$tmp/$how" | median)"
	done
done
