#!/bin/sh
# shellcheck disable=SC2016 # the guest's script is single-quoted: the guest shell expands it
# tests/integration/vmgenid_linux.sh — the VM Generation ID seen by Linux's vmgenid driver. Debian's
# generic kernel ($GUEST/vmlinuz-generic: the cloud flavour has no CONFIG_VMGENID) boots under
# `kiln run --api-sock`; its vmgenid driver must bind to kiln's VMGENCTR device and the GED driver to
# ACPI0013. The guest waits until its kernel logs the reseed of a virtual machine fork, and is
# snapshotted while it waits; the snapshot is restored twice. Each restored guest must log the reseed
# (kiln's new ID reached the driver through the GED's interrupt and _EVT's Notify), read an ID other
# than the snapshot's at the address ADDR gives (/dev/mem), and print 32 bytes of /dev/urandom read
# after it: the two restores' bytes must differ. Runs under busybox sh inside the KVM test host
# (tests/host/run.sh), or directly with hardware KVM.
#
# env: KILN, GUEST, KILN_TEST_TIMEOUT (see virtio.sh)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz-generic and initrd.img}"
. "$(dirname "$0")/lib.sh"
require_kvm "$KILN" "$GUEST/vmlinuz-generic" "$GUEST/initrd.img"

sock=$w/api.sock
pid=
kill_kiln() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; }
cleanup_hook=kill_kiln

# The guest: the vmgenid and GED devices and their drivers; the ID at 0xa0000 (kiln's
# X86_VMGENID_ADDR, which the device's ADDR gives: the driver does not show it); then it waits for
# the kernel's "crng reseeded due to virtual machine fork" (add_vmfork_randomness), printing a line
# every half second; then the ID again and 32 bytes of /dev/urandom, in hex.
guest='acpi=/sys/bus/acpi/devices
for d in $acpi/VMGENCTR:* $acpi/ACPI0013:*; do
	echo "device $(basename $d) hid=$(cat $d/hid) driver=$(basename "$(readlink $d/physical_node/driver || readlink $d/driver)")"
done
id() { dd if=/dev/mem bs=16 skip=$((0xa0000 / 16)) count=1 2>/dev/null | od -An -tx1 | tr -d " \n"; }
echo "id-boot $(id)"
i=0
while ! dmesg | grep -q "crng reseeded due to virtual machine fork"; do
	i=$((i + 1)); echo "waiting $i"; [ $i -lt 2400 ] || exit 3; sleep 0.5
done
echo "reseeded after $i"
echo "id-now $(id)"
echo "urandom $(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")"'

# field WORD FILE: the rest of FILE's line "WORD REST" (the last such line), empty if none.
field() { tr -d '\r' < "$2" | sed -n "s/^$1 \\(.*\\)\$/\\1/p" | tail -n 1; }
# waiting FILE N: until FILE shows "waiting N" (or the boot's time runs out).
waiting() {
	end=$(($(date +%s) + tmo))
	until tr -d '\r' < "$1" | grep -qx "waiting $2"; do
		[ "$(date +%s)" -lt "$end" ] && kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
}

# --- 1. boot, the devices, snapshot while waiting, kill ------------------------------------------
rm -f "$sock"
"$KILN" run --kernel "$GUEST/vmlinuz-generic" --initrd "$GUEST/initrd.img" --mem 256M --api-sock "$sock" \
	-- sh -c "$guest" < /dev/null > "$w/boot.out" 2> "$w/boot.err" &
pid=$!
if ! waiting "$w/boot.out" 4; then
	cp "$w/boot.out" "$w/out"; cp "$w/boot.err" "$w/err"
	fatal "the guest boots and waits for a reseed (it never printed 'waiting 4')"
fi
timeout -s KILL 120 "$KILN" snapshot --api-sock "$sock" "$w/snap" 2> "$w/snap.err"
src=$?
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
cp "$w/boot.out" "$w/out"; cp "$w/boot.err" "$w/err"
[ "$src" = 0 ] && ok "kiln snapshot of the waiting guest" || fatal "kiln snapshot of the waiting guest (status $src: $(cat "$w/snap.err"))"

tr -d '\r' < "$w/boot.out" | grep -q '^device VMGENCTR:00 hid=VMGENCTR driver=vmgenid$' &&
	ok "the guest has the ACPI device VMGENCTR:00, bound to Linux's vmgenid driver" ||
	not_ok "VMGENCTR:00 bound to vmgenid" "$(tr -d '\r' < "$w/boot.out" | grep '^device' | tr '\n' ' ')"
tr -d '\r' < "$w/boot.out" | grep -q '^device ACPI0013:00 hid=ACPI0013 driver=acpi-ged$' &&
	ok "the guest has the Generic Event Device ACPI0013:00, bound to acpi-ged" ||
	not_ok "ACPI0013:00 bound to acpi-ged" "$(tr -d '\r' < "$w/boot.out" | grep '^device' | tr '\n' ' ')"
booted=$(field id-boot "$w/boot.out")
[ "${#booted}" = 32 ] && [ "$booted" != 00000000000000000000000000000000 ] &&
	ok "the guest reads a 16-byte ID at 0xa0000: $booted" || not_ok "the ID at 0xa0000" "'$booted'"
! tr -d '\r' < "$w/boot.out" | grep -q '^reseeded' && ok "a booted guest sees no VM fork" ||
	not_ok "a booted guest sees no VM fork" "$(grep reseeded "$w/boot.out")"

# --- 2. two restores of the one snapshot ----------------------------------------------------------
for n in 1 2; do
	timeout -s KILL "$tmo" "$KILN" restore "$w/snap" < /dev/null > "$w/restore$n.out" 2> "$w/restore$n.err"
	rc=$?
	cp "$w/restore$n.out" "$w/out"; cp "$w/restore$n.err" "$w/err"
	shown= # lib.sh: show this restore's output at its first failure
	[ "$rc" = 0 ] && ok "restore $n: the guest ends with status 0" || not_ok "restore $n: the guest's status" "status $rc"
	tr -d '\r' < "$w/restore$n.out" | grep -q '^reseeded after' &&
		ok "restore $n: the guest's kernel reseeds its RNG for a virtual machine fork (GED interrupt, Notify, vmgenid)" ||
		not_ok "restore $n: the guest's kernel reseeds its RNG" "no 'reseeded' line"
done
id1=$(field id-now "$w/restore1.out") id2=$(field id-now "$w/restore2.out")
random1=$(field urandom "$w/restore1.out") random2=$(field urandom "$w/restore2.out")
[ -n "$id1" ] && [ "$id1" != "$booted" ] && [ -n "$id2" ] && [ "$id2" != "$booted" ] &&
	ok "each restored guest reads a new ID at 0xa0000" || not_ok "a new ID at each restore" "boot $booted, restores '$id1' '$id2'"
[ "$id1" != "$id2" ] && ok "the two restores' IDs differ" || not_ok "the two restores' IDs differ" "both '$id1'"
[ "${#random1}" = 64 ] && [ "${#random2}" = 64 ] && ok "each restored guest reads 32 bytes of /dev/urandom" ||
	not_ok "32 bytes of /dev/urandom after each restore" "'$random1' '$random2'"
[ "$random1" != "$random2" ] && ok "two clones of one snapshot read different bytes from /dev/urandom" ||
	not_ok "two clones of one snapshot read different bytes from /dev/urandom" "both $random1"
finish
