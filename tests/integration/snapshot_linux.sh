#!/bin/sh
# shellcheck disable=SC2016 # the guest's script is single-quoted: the guest shell expands it
# tests/integration/snapshot_linux.sh — kiln's Linux test guest snapshotted while it counts, and
# restored in a new kiln process, through the command line a person uses: `kiln run --api-sock`,
# `kiln snapshot`, kill, `kiln restore`. The restored guest must count on from the next number, then
# use its devices: write a file on its ext4 disk (e2fsck -fn clean and read back here) and read
# /dev/hwrng. A second snapshot of the restored guest (a chain) must work the same. Runs under
# busybox sh inside the KVM test host (tests/host/run.sh), or directly with hardware KVM.
#
# env: KILN, GUEST, MKFS_EXT4, E2FSCK, DEBUGFS (optional), KILN_TEST_TIMEOUT (see virtio.sh)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, `# measure:` lines (snapshot and restore
# times, file sizes), then `N passed, M failed`; exits 1 if any test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
: "${MKFS_EXT4:?MKFS_EXT4=path/to/mkfs.ext4}" "${E2FSCK:?E2FSCK=path/to/e2fsck}"
. "$(dirname "$0")/lib.sh"
require_kvm "$KILN" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$MKFS_EXT4" "$E2FSCK"

COUNT=60
sock=$w/api.sock
pid=
kill_kiln() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; }
cleanup_hook=kill_kiln

# The guest counts to COUNT, a line every 0.25 s, each followed by its wall clock, then writes /f
# on its ext4 disk and reads 32 bytes of /dev/hwrng.
guest='i=0; while [ $i -lt '$COUNT' ]; do i=$((i+1)); echo "count $i"; echo "clock $(date +%s)"; sleep 0.25; done;
mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && echo restored > /mnt/f && umount /mnt && echo disk-ok;
echo "hwrng $(head -c 32 /dev/hwrng | wc -c)"'

# wait_for_count FILE N: until FILE shows count N (or the boot's time runs out).
wait_for_count() {
	end=$(($(date +%s) + tmo))
	while [ "$(counts "$1" | tail -n 1)" -lt "$2" ] 2>/dev/null || [ -z "$(counts "$1")" ]; do
		[ "$(date +%s)" -lt "$end" ] && kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
}

# snapshot_at OUT N DIR: once OUT shows count N, `kiln snapshot` into DIR, then kill the kiln ($pid).
snapshot_at() {
	if ! wait_for_count "$1" "$2"; then
		not_ok "the guest counts to $2 before its snapshot" "$(tail -n 3 "$1" | tr '\n' ' ')"
		return 1
	fi
	timeout -s KILL 120 "$KILN" snapshot --api-sock "$sock" "$3" 2> "$w/snap.err"
	src=$?
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
	if [ "$src" != 0 ]; then
		not_ok "kiln snapshot of the counting guest" "status $src: $(cat "$w/snap.err")"
		return 1
	fi
	ok "kiln snapshot writes the counting guest to $(basename "$3") (state $(wc -c < "$3/state") bytes, memory file $(du -k "$3/mem" | cut -f1) KiB on disk for $(($(wc -c < "$3/mem") / 1048576)) MiB)"
}

# restore DIR OUT [OPTION]: `kiln restore DIR` in the background, console to OUT, API on $sock; $pid.
restore() {
	rm -f "$sock"
	timeout -s KILL "$tmo" "$KILN" restore --boot-time --log-level info --api-sock "$sock" ${3:-} "$1" \
		< /dev/null > "$2" 2> "$w/restore.err" &
	pid=$!
}
# measure ERRFILE: kiln's own figures from its log: the snapshot's write time, the restore's.
measure() {
	sed -n 's/^kiln: snapshot: \(.*\)$/# measure: \1/p; s/^kiln: restore-time: \(.*\)$/# measure: restore-time \1/p' "$1"
}

rm -f "$w/disk.img" && truncate -s 64M "$w/disk.img" && "$MKFS_EXT4" -q -F -t ext4 "$w/disk.img" ||
	fatal "an ext4 disk for the guest"

# --- 1. kiln run, snapshot at count 10, kill ------------------------------------------------------
"$KILN" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" --mem 256M --disk "$w/disk.img" --rng \
	--log-level info --api-sock "$sock" -- sh -c "$guest" < /dev/null > "$w/out1" 2> "$w/err1" &
pid=$!
snapshot_at "$w/out1" 10 "$w/snap1" || finish
first_stop=$(consecutive "$w/out1")
[ -n "$first_stop" ] && ok "the guest counted 1..$first_stop before its snapshot" ||
	not_ok "the guest counted from 1 before its snapshot" "$(counts "$w/out1" | tr '\n' ' ')"

# --- 2. restore, snapshot again at count 30 (a chain) -------------------------------------------
measure "$w/err1"
restore "$w/snap1" "$w/out2"
snapshot_at "$w/out2" 30 "$w/snap2" || finish
measure "$w/restore.err"
second_stop=$(consecutive "$w/out1" "$w/out2")
[ -n "$second_stop" ] && [ "$second_stop" -gt "$first_stop" ] &&
	ok "the restored guest counts on from where it was snapshotted to $second_stop, no gap, no repeat" ||
	not_ok "the restored guest counts on from $first_stop" "$(counts "$w/out2" | head -n 5 | tr '\n' ' ')"

# --- 3. restore the second snapshot and let the guest finish -----------------------------------
# GAP seconds after the snapshot, with --clock-realtime: the guest's wall clock moves on by the
# host's time since then (Firecracker's clock_realtime), instead of going on from the snapshot's.
GAP=6
sleep $GAP
restore "$w/snap2" "$w/out3" --clock-realtime
wait "$pid"
rc=$?
pid=
measure "$w/restore.err"
tr -d '\r' < "$w/out3" > "$w/out"
cp "$w/restore.err" "$w/err"
last=$(consecutive "$w/out1" "$w/out2" "$w/out3")
[ "$last" = "$COUNT" ] && ok "restored from the chain's second snapshot, it counts on to $COUNT: 1..$COUNT across three processes" ||
	not_ok "the chain's second restore counts on to $COUNT" "last ${last:-none}"
[ "$rc" = 0 ] && ok "kiln restore exits with the guest's status 0" || not_ok "kiln restore's exit status" "status $rc"
before=$(numbers_of clock "$w/out2" | tail -n 1)
after=$(numbers_of clock "$w/out" | head -n 1)
[ -n "$before" ] && [ -n "$after" ] && [ $((after - before)) -ge $((GAP - 2)) ] &&
	ok "--clock-realtime: across a restore $GAP s after the snapshot, the guest's wall clock moved on $((after - before)) s" ||
	not_ok "--clock-realtime: the guest's wall clock moves on by the time since the snapshot" "before ${before:-none}, after ${after:-none}"
grep -qx 'disk-ok' "$w/out" && ok "after the restore the guest mounts its disk and writes a file" ||
	not_ok "the guest writes a file on its disk after the restore" "no disk-ok"
grep -qx 'hwrng 32' "$w/out" && ok "after the restore /dev/hwrng reads 32 bytes" ||
	not_ok "/dev/hwrng after the restore" "$(grep hwrng "$w/out")"
if "$E2FSCK" -fn "$w/disk.img" > "$w/fsck.log" 2>&1; then
	ok "the disk the restored guest wrote is clean (e2fsck -fn)"
else
	not_ok "e2fsck -fn of the disk" "$(tail -n 3 "$w/fsck.log" | tr '\n' ' ')"
fi
if [ -n "${DEBUGFS:-}" ]; then
	got=$("$DEBUGFS" -R "cat /f" "$w/disk.img" 2>/dev/null)
	[ "$got" = restored ] && ok "the file the restored guest wrote reads back here (debugfs)" ||
		not_ok "the file the restored guest wrote" "debugfs read '$got'"
fi

# --- 4. refusals: a damaged state file, a disk of another size -----------------------------------
head -c 100 "$w/snap2/state" > "$w/bad.state" && mkdir -p "$w/bad" && mv "$w/bad.state" "$w/bad/state" &&
	ln -s "$w/snap2/mem" "$w/bad/mem"
"$KILN" restore "$w/bad" < /dev/null > /dev/null 2> "$w/bad.err"
rc=$?
[ "$rc" = 125 ] && [ "$(wc -l < "$w/bad.err")" -ge 1 ] && ok "a truncated state file is refused (125): $(tail -n 1 "$w/bad.err")" ||
	not_ok "a truncated state file is refused" "status $rc"
truncate -s 65M "$w/disk.img"
"$KILN" restore "$w/snap2" < /dev/null > /dev/null 2> "$w/size.err"
rc=$?
[ "$rc" = 125 ] && grep -q disk "$w/size.err" && ok "a disk of another size is refused (125): $(tail -n 1 "$w/size.err")" ||
	not_ok "a disk of another size is refused" "status $rc: $(cat "$w/size.err")"
finish
