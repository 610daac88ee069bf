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
# first output, their maximum, the set-up CPU (each clone's before its guest's first KVM_RUN, from
# --boot-time, added up, with the --clones parent's own), and all the CPU used until the last clone
# printed, guests included. Nothing is asserted: the figures are for reading.
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

# setup_cpu RUNFILE ERRFILE: per run, the setup-cpu of every clone (kiln --boot-time's CPU before
# the guest's first KVM_RUN) added up, plus the --clones parent's own CPU (cmd_cpu_ms) when there is
# one. The runs' stderr went to ERRFILE one after the other, each ended by a line "run".
setup_cpu() {
	field cmd_cpu_ms "$1" | awk '{ print ($1 < 0 ? 0 : $1) }' >"$tmp/parent"
	awk '/^run$/ { print s + 0; s = 0; next }
		{ for (i = 1; i <= NF; i++) if ($i ~ /^setup-cpu=/) s += substr($i, 11) }' "$2" | paste - "$tmp/parent" |
		awk '{ print $1 + $2 }'
}

printf '%-28s %4s %10s %10s %12s %10s\n' "how" "N" "median_ms" "max_ms" "setup_cpu_ms" "cpu_ms"
for n in 1 4 16; do
	for how in sep clo; do : >"$tmp/$how" && : >"$tmp/$how.err"; done
	for _ in $(seq "$runs"); do
		"$watch" -n "$n" -e "$tmp/sep.err" -- "$kiln" restore --boot-time "$tmp/snap" >>"$tmp/sep"
		echo run >>"$tmp/sep.err"
		"$watch" -n "$n" -e "$tmp/clo.err" -f "$tmp/fifo%i" -- "$kiln" restore --boot-time --clones "$n" \
			--console-out "$tmp/fifo%i" "$tmp/snap" >>"$tmp/clo"
		echo run >>"$tmp/clo.err"
	done
	for how in sep clo; do
		label="$n separate kiln restore"
		[ "$how" = clo ] && label="kiln restore --clones $n"
		bad=$(grep -vc "started=$n " "$tmp/$how")
		[ "$bad" = 0 ] || echo "# $label: $bad runs where not every clone printed"
		printf '%-28s %4s %10s %10s %12s %10s\n' "$label" "$n" "$(field median_ms "$tmp/$how" | median)" \
			"$(field max_ms "$tmp/$how" | median)" "$(setup_cpu "$tmp/$how" "$tmp/$how.err" | median)" \
			"$(field cpu_ms "$tmp/$how" | median)"
	done
done
