#!/bin/sh
# shellcheck disable=SC2016 # the guest's script is single-quoted: the guest shell expands it
# tests/integration/arm64_snapshot.sh — snapshot and restore on arm64, in the arm64 KVM test host
# (make check-linux-arm64): the arm64 test guest, 2 vCPUs, counts while `kiln run --api-sock
# --track-dirty-pages` runs it; a Full `kiln snapshot --resume`, then a Diff (paused), kiln killed,
# the Diff's memory merged onto the Full's, and after a gap a new `kiln restore` from the files. The
# restored guest must count on from the next number with its uptime (the virtual counter) moved on
# by less than half the gap, run on both CPUs (each one's timer interrupts go on), and write its disk,
# read back here. A guest that never starts its second vCPU (maxcpus=1) is restored with that vCPU
# still powered off, and runs on; its snapshot is restored a second time through the API
# (`PUT /snapshot/load` in a fresh kiln, resume_vm). Then damaged state
# files, made from the good one by snap-edit (kiln's own reader and writer, a fresh checksum), are
# refused with one line each: another machine's (x86_64), a register id this vCPU does not have, a
# register list cut short, and a file cut short.
#
# env: KILN, GUEST (Image, initrd.img), GUEST_KERNEL=Image, SNAP_EDIT (tests/integration/snap_edit.c
#      built static for arm64), HTTP_RAW (tests/api/http_raw.c, static), KILN_TEST_TIMEOUT (default 300)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with Image and initrd.img}" "${SNAP_EDIT:?SNAP_EDIT=snap-edit}"
: "${HTTP_RAW:?HTTP_RAW=http-raw}"
GUEST_KERNEL=${GUEST_KERNEL:-Image}
. "$(dirname "$0")/lib.sh"
require_kvm "$KILN" "$GUEST/$GUEST_KERNEL" "$GUEST/initrd.img" "$SNAP_EDIT" "$HTTP_RAW"

COUNT=40 FULL_AT=6 AT=10 GAP=10
sock=$w/api.sock
pid=
kill_kiln() { [ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null; }
cleanup_hook=kill_kiln

# The guest's script (on a read-only disk, vda): a line per 0.25 s with its count and uptime, then
# a marker written on the data disk (vdb), its CPU count and, twice, each CPU's timer interrupts.
cat > "$w/guest.sh" << 'EOF2'
i=0
while [ $i -lt 40 ]; do
	i=$((i + 1))
	read -r up idle < /proc/uptime
	echo "count $i up $up"
	sleep 0.25
done
echo armsnap-restored > /dev/vdb && sync && echo disk-ok
echo "cpus $(nproc)"
grep arch_timer /proc/interrupts
sleep 0.5
grep arch_timer /proc/interrupts
EOF2
sector_image "$w/guest.sh" "$w/guest.img"
head -c 1048576 /dev/zero > "$w/data.img"

# counts FILE...: the numbers of the `count N` lines of the files joined (the snapshot may catch
# the guest mid-line: the restored guest prints the rest of it).
counts() { cat "$@" | tr -d '\r' | sed -n 's/^count \([0-9]*\) up .*$/\1/p'; }
# uptime_at N FILE...: the uptime the guest printed with count N.
uptime_at() { n=$1; shift; cat "$@" | tr -d '\r' | sed -n "s/^count $n up \([0-9.]*\)\$/\1/p" | head -n 1; }
consecutive() { counts "$@" | awk '$1 != NR { bad = 1 } { last = $1 } END { if (!bad && NR) print last }'; }

# --- 1. run; a Full snapshot at count FULL_AT, a Diff at AT; kill; merge -------------------------
"$KILN" run --kernel "$GUEST/$GUEST_KERNEL" --initrd "$GUEST/initrd.img" --cpus 2 --mem 256M \
	--disk "$w/guest.img,ro" --disk "$w/data.img" --api-sock "$sock" --track-dirty-pages -- sh /dev/vda \
	< /dev/null > "$w/out1" 2> "$w/err1" &
pid=$!
# take AT DIR [OPTION]: once the guest has counted to AT, `kiln snapshot OPTION DIR`.
take() {
	if ! wait_for "$w/out1" "^count $1 up"; then
		cp "$w/out1" "$w/out"; cp "$w/err1" "$w/err"
		fatal "the guest counts to $1 under kiln run"
	fi
	timeout -s KILL 120 "$KILN" snapshot --api-sock "$sock" ${3:+"$3"} "$2" 2> "$w/snap.err"
	src=$?
	if [ "$src" != 0 ] || [ ! -s "$2/state" ]; then
		tail -n 5 "$w/err1" | sed 's/^/#   kiln run: /'
		fatal "kiln snapshot $3 of the guest (status $src: $(tail -n 1 "$w/snap.err"))"
	fi
	ok "kiln snapshot $3: state $(wc -c < "$2/state") bytes, memory file $(du -k "$2/mem" | cut -f1) KiB on disk"
}
take "$FULL_AT" "$w/full" --resume
take "$AT" "$w/snap" --diff
kill -KILL "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
pid= t_killed=$(date +%s)
first=$(consecutive "$w/out1")
if "$KILN" snapshot-merge "$w/full/mem" "$w/snap/mem" 2> "$w/err" && mv "$w/full/mem" "$w/snap/mem"; then
	ok "the Diff's memory merges onto the Full's"
else fatal "kiln snapshot-merge ($(cat "$w/err"))"; fi

# --- 2. a new kiln restores it GAP s later; the guest goes on ---------------------------------------
sleep "$GAP"
start=$(date +%s)
timeout -s KILL "$tmo" "$KILN" restore "$w/snap" < /dev/null > "$w/out2" 2> "$w/err" &
pid=$!
wait "$pid"
rc=$?
pid=
tr -d '\r' < "$w/out2" > "$w/out"
note "restored $((start - t_killed)) s after the kill; ran $(($(date +%s) - start)) s"
last=$(consecutive "$w/out1" "$w/out2")
if [ "$rc" = 0 ] && [ "$last" = "$COUNT" ]; then
	ok "the restored guest counts on from $first to $COUNT, no gap, no repeat; kiln restore exits 0"
else not_ok "the restored guest counts on to $COUNT" "status $rc, counted to ${last:-a gap}"; fi
next=$((first + 1))
u0=$(uptime_at "$first" "$w/out1") u1=$(uptime_at "$next" "$w/out1" "$w/out2")
if [ -n "$u0" ] && [ -n "$u1" ] && awk -v a="$u0" -v b="$u1" -v g="$GAP" 'BEGIN { exit !(b >= a && b - a < g / 2) }'; then
	ok "the guest's uptime moves on by $u0 -> $u1 s across the snapshot, not by the ${GAP} s gap (less than half of it)"
else not_ok "the guest's uptime does not jump across the restore" "count $first up ${u0:-?}, count $next up ${u1:-?}"; fi
# arch_timer's line of /proc/interrupts: `IRQ: CPU0 CPU1 GICv3 27 Level arch_timer`, printed twice.
ticks=$(grep 'arch_timer$' "$w/out" | awk '{ print $2, $3 }' | tr '\n' ' ')
if grep -qx 'cpus 2' "$w/out" && echo "$ticks" | awk 'NF == 4 && $3 > $1 && $4 > $2 { ok = 1 } END { exit !ok }'; then
	ok "both vCPUs run after the restore (timer interrupts per CPU: $ticks)"
else not_ok "both vCPUs run after the restore" "$(grep '^cpus' "$w/out"), timer interrupts: $ticks"; fi
if grep -qx disk-ok "$w/out" && [ "$(head -c 16 "$w/data.img")" = armsnap-restored ]; then
	ok "the restored guest writes its disk; the data reads back here"
else not_ok "the restored guest writes its disk" "$(grep -c disk-ok "$w/out") disk-ok, disk starts '$(head -c 16 "$w/data.img" | tr -d '\0')'"; fi

# --- 3. a secondary the guest never started comes back powered off ---------------------------------
# (PSCI CPU_ON was never called for vCPU 1: were it restored running, it would start at its reset PC.)
rm -f "$sock"
"$KILN" run --kernel "$GUEST/$GUEST_KERNEL" --initrd "$GUEST/initrd.img" --cpus 2 --api-sock "$sock" \
	--cmdline "console=ttyS0 reboot=k panic=-1 pci=off quiet maxcpus=1" -- \
	sh -c 'echo "ready $(nproc)"; sleep 3; echo "after $(nproc)"' < /dev/null > "$w/out1" 2> "$w/err1" &
pid=$!
if wait_for "$w/out1" '^ready 1' && timeout -s KILL 120 "$KILN" snapshot --api-sock "$sock" "$w/one" 2> "$w/err"; then
	kill -KILL "$pid" 2> /dev/null
	wait "$pid" 2> /dev/null
	pid=
	timeout -s KILL "$tmo" "$KILN" restore "$w/one" < /dev/null > "$w/raw" 2> "$w/err"
	rc=$?
	tr -d '\r' < "$w/raw" > "$w/out"
	if [ "$rc" = 0 ] && grep -qx 'after 1' "$w/out"; then
		ok "maxcpus=1 on 2 vCPUs: restored with vCPU 1 still off, the guest runs on (exit 0)"
	else not_ok "maxcpus=1: the restored guest runs on" "status $rc, $(grep -c '^after' "$w/out") after lines"; fi
else
	not_ok "maxcpus=1 on 2 vCPUs: snapshot" "$(tail -n 1 "$w/err") $(tail -n 1 "$w/err1")"
	kill -KILL "$pid" 2> /dev/null
	pid=
fi

# The same snapshot again, through Firecracker's API in a fresh kiln.
rm -f "$sock"
"$KILN" --api-sock "$sock" < /dev/null > "$w/raw" 2> "$w/err" &
pid=$!
n=0
while [ ! -S "$sock" ] && [ $n -lt 100 ]; do sleep 0.2; n=$((n + 1)); done
body="{\"snapshot_path\": \"$w/one/state\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$w/one/mem\"}, \"resume_vm\": true}"
printf 'PUT /snapshot/load HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' \
	"${#body}" "$body" | "$HTTP_RAW" "$sock" > "$w/reply" 2>&1
code=$(sed -n '1s|^HTTP/1\.1 \([0-9]*\).*|\1|p' "$w/reply")
wait_for "$w/raw" '^after 1'
kill -KILL "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
pid=
tr -d '\r' < "$w/raw" > "$w/out"
if [ "$code" = 204 ] && grep -qx 'after 1' "$w/out"; then
	ok "PUT /snapshot/load of the same snapshot in a fresh kiln: 204, the guest runs on"
else not_ok "PUT /snapshot/load" "reply ${code:-none}: $(tr -d '\r' < "$w/reply" | tail -n 1 | head -c 200)"; fi

# --- 4. damaged state files: one line each, status 125 --------------------------------------------
# refused NAME PATTERN EDIT...: a copy of the snapshot whose state file snap-edit changed by EDIT.
refused() {
	name=$1 pattern=$2
	shift 2
	rm -rf "$w/bad" && mkdir "$w/bad" && ln -s "$w/snap/mem" "$w/bad/mem" || fatal "a directory for $name"
	if [ "$1" = cut ]; then head -c 200 "$w/snap/state" > "$w/bad/state"
	elif ! "$SNAP_EDIT" "$w/snap/state" "$w/bad/state" "$@" 2> "$w/err"; then
		not_ok "$name" "snap-edit: $(cat "$w/err")"; return
	fi
	timeout -s KILL 60 "$KILN" restore "$w/bad" < /dev/null > "$w/out" 2> "$w/err"
	rc=$?
	if [ "$rc" = 125 ] && [ "$(wc -l < "$w/err")" = 1 ] && grep -q "$pattern" "$w/err"; then
		ok "$name is refused (125): $(cat "$w/err")"
	else not_ok "$name is refused with one line" "status $rc, $(wc -l < "$w/err") lines: $(head -n 2 "$w/err" | tr '\n' ' ')"; fi
}
refused "an x86_64 machine's state file" "x86_64" arch x86_64
# ARM64_SYS_REG(3, 7, 15, 15, 7): an implementation-defined register KVM does not list
refused "a register id this vCPU does not have" "register 0x603000000013ffff is not one this vCPU has" \
	reg-id 603000000013ffff
refused "a register list cut short" "vCPU 0: its section is malformed" truncate-regs
refused "a state file cut short" "snapshot" cut
finish
