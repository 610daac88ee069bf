#!/bin/sh
# tests/integration/clones_linux.sh — four clones of one snapshot of a Linux guest, each started in
# its own kiln process and its own network namespace at once, each with its own disk file
# (`kiln restore --disk-path drive0=FILE`) and its own tap (`--net-tap net0=TAP`, the same name and
# address in each namespace). Debian's generic kernel ($GUEST/vmlinuz-generic: the cloud flavour has
# no CONFIG_VMGENID) waits until its kernel logs the reseed of a virtual machine fork; it is
# snapshotted while it waits. Each clone must then see the fork (kiln's new VM generation ID), print
# 32 bytes of /dev/urandom (all four differ), write them to its disk (each clone's file holds its own
# bytes, the snapshot's disk is untouched) and ping its namespace while the others do. Runs under busybox sh inside the KVM test host (one CPU, as every guest suite), or with hardware KVM.
#
# env: KILN, GUEST, IP (iproute2's ip), KILN_TEST_TIMEOUT (see virtio.sh)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed. Every tap and address lives in a network namespace this suite makes and deletes.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz-generic and initrd.img}"
IP=${IP:-ip}
CLONES="0 1 2 3"
. "$(dirname "$0")/lib.sh"
sock=$w/api.sock
pid=
stop_all() {
	[ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null
	for i in boot $CLONES; do
		for p in $("$IP" netns pids "kc$$-$i" 2> /dev/null); do kill -9 "$p" 2> /dev/null; done
		"$IP" netns del "kc$$-$i" 2> /dev/null
	done
}
cleanup_hook=stop_all

[ -c /dev/net/tun ] || fatal "/dev/net/tun (missing: these tests need tun; see tests/host/README.md)"
require_kvm "$KILN" "$GUEST/vmlinuz-generic" "$GUEST/initrd.img"
# namespace NAME: a namespace with tap kt0 at 10.0.2.1/24, up.
namespace() {
	"$IP" netns add "$1" && "$IP" netns exec "$1" "$IP" link set lo up &&
		"$IP" netns exec "$1" "$IP" tuntap add kt0 mode tap &&
		"$IP" netns exec "$1" "$IP" addr add 10.0.2.1/24 dev kt0 &&
		"$IP" netns exec "$1" "$IP" link set kt0 up
}
for i in boot $CLONES; do
	namespace "kc$$-$i" 2> "$w/err" || fatal "network namespace kc$$-$i with tap kt0 ($(head -n 1 "$w/err"))"
done

# The guest (on a read-only disk, vdb): its NIC up; then it waits for the kernel's "crng reseeded due
# to virtual machine fork", a line every half second; then 32 bytes of /dev/urandom in hex, written
# to its disk (vda, no file system: the generic kernel's ext4 is a module the initrd lacks) at 1 MiB,
# and pings of its namespace.
cat > "$w/guest.sh" << 'EOF'
ip link set lo up && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up
i=0
while ! dmesg | grep -q "crng reseeded due to virtual machine fork"; do
	i=$((i + 1)); echo "waiting $i"; [ $i -lt 2400 ] || exit 3; sleep 0.5
done
r=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")
echo "urandom $r"
printf %s "$r" | dd of=/dev/vda bs=64 seek=16384 conv=fsync 2> /dev/null && echo disk=ok
ping -c 3 -W 10 10.0.2.1 > /dev/null && echo ping=ok
EOF
sector_image "$w/guest.sh" "$w/guest.img"
rm -f "$w/disk.img" && truncate -s 16M "$w/disk.img" || fatal "a disk for the guest"
# written: the 64 bytes a clone wrote at 1 MiB of FILE.
written() { dd if="$1" bs=64 skip=16384 count=1 2> /dev/null; }

field() { tr -d '\r' < "$2" | sed -n "s/^$1 \\(.*\\)\$/\\1/p" | tail -n 1; }

# --- 1. boot, snapshot while the guest waits, kill -------------------------------------------------
"$IP" netns exec "kc$$-boot" "$KILN" run --kernel "$GUEST/vmlinuz-generic" --initrd "$GUEST/initrd.img" \
	--mem 256M --rng --disk "$w/disk.img" --disk "$w/guest.img,ro" --net tap=kt0 --api-sock "$sock" \
	-- sh /dev/vdb < /dev/null > "$w/boot.out" 2> "$w/boot.err" &
pid=$!
if ! wait_for "$w/boot.out" '^waiting 4$'; then
	cp "$w/boot.out" "$w/out"; cp "$w/boot.err" "$w/err"
	fatal "the guest boots with its disk and NIC and waits for a VM fork (no 'waiting 4')"
fi
timeout -s KILL 120 "$KILN" snapshot --api-sock "$sock" "$w/snap" 2> "$w/snap.err"
src=$?
kill -KILL "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
pid=
[ "$src" = 0 ] && ok "kiln snapshot of the waiting guest (disk, NIC, rng)" ||
	fatal "kiln snapshot of the waiting guest (status $src: $(cat "$w/snap.err"))"
cp "$w/disk.img" "$w/disk.before"

# --- 2. four clones at once, each in its namespace, on its own disk file -----------------------------
pids=
for i in $CLONES; do
	cp "$w/disk.img" "$w/clone$i.img"
	"$IP" netns exec "kc$$-$i" timeout -s KILL "$tmo" "$KILN" restore --net-tap net0=kt0 \
		--disk-path "drive0=$w/clone$i.img" "$w/snap" < /dev/null > "$w/clone$i.out" 2> "$w/clone$i.err" &
	pids="$pids $!"
done
i=0
for p in $pids; do
	wait "$p"
	echo $? > "$w/clone$i.rc"
	i=$((i + 1))
done

randoms=
for i in $CLONES; do
	cp "$w/clone$i.out" "$w/out"; cp "$w/clone$i.err" "$w/err"
	shown=
	rc=$(cat "$w/clone$i.rc")
	r=$(field urandom "$w/clone$i.out")
	[ "$rc" = 0 ] && [ "${#r}" = 64 ] &&
		ok "clone $i: sees the VM fork (new generation ID), reads 32 bytes of /dev/urandom, ends with status 0" ||
		not_ok "clone $i: the VM fork and /dev/urandom" "status $rc, urandom '$r'"
	randoms="$randoms $r"
	tr -d '\r' < "$w/clone$i.out" | grep -qx 'disk=ok' && [ "$(written "$w/clone$i.img")" = "$r" ] &&
		ok "clone $i: the bytes it wrote are in its own disk file" ||
		not_ok "clone $i: its own disk file" "$(tr -d '\r' < "$w/clone$i.out" | grep disk=), its file holds '$(written "$w/clone$i.img")'"
	tr -d '\r' < "$w/clone$i.out" | grep -qx 'ping=ok' && ok "clone $i: pings 10.0.2.1 on the tap of its own namespace" ||
		not_ok "clone $i: pings its namespace" "no ping=ok"
done
distinct=$(echo "$randoms" | tr ' ' '\n' | grep . | sort -u | wc -l)
[ "$distinct" = 4 ] && ok "the four clones read four different 32-byte values from /dev/urandom" ||
	not_ok "the four clones' /dev/urandom bytes differ" "$distinct distinct:$randoms"
cmp -s "$w/disk.img" "$w/disk.before" && ok "the snapshot's own disk is untouched by the clones" ||
	not_ok "the snapshot's own disk is untouched" "it changed"
finish
