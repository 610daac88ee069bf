#!/bin/sh
# tests/integration/snapshot_devices.sh — kiln's Linux test guest with every kind of device (an ext4
# disk, a NIC on a tap, vsock, virtio-rng) snapshotted while it counts, and restored in a new kiln
# process onto another tap and another vsock socket (`kiln restore --net-tap net0=TAP --vsock-uds`).
# The restored guest counts on with no gap and no repeat, then uses every device: it writes a file on
# its disk (read back here, e2fsck -fn clean), pings the namespace and is pinged from it, takes a new
# vsock connection from the host and opens one to it (the data checked on both sides), and reads
# /dev/hwrng. Restores onto a missing tap or an unknown NIC are refused, named. Runs under busybox sh
# inside the KVM test host (one CPU, as every guest suite: tests/host/README.md), or with hardware KVM.
#
# env: KILN, GUEST, IP (iproute2's ip), MKFS_EXT4, E2FSCK, DEBUGFS (optional), VSOCK_TOOL (default
# $GUEST/vsock-tool), KILN_TEST_TIMEOUT (see virtio.sh)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed. Every tap and address lives in a network namespace this suite makes and deletes.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
: "${MKFS_EXT4:?MKFS_EXT4=path/to/mkfs.ext4}" "${E2FSCK:?E2FSCK=path/to/e2fsck}"
IP=${IP:-ip}
T=${VSOCK_TOOL:-$GUEST/vsock-tool}
ns=kilnsnap$$
COUNT=40
. "$(dirname "$0")/lib.sh"
sock=$w/api.sock
pid= bg=
stop_all() {
	[ -n "$bg" ] && kill "$bg" 2> /dev/null
	for p in $("$IP" netns pids "$ns" 2> /dev/null); do kill -9 "$p" 2> /dev/null; done
	"$IP" netns del "$ns" 2> /dev/null
}
cleanup_hook=stop_all
nsx() { "$IP" netns exec "$ns" "$@"; }

[ -c /dev/net/tun ] || fatal "/dev/net/tun (missing: these tests need tun; see tests/host/README.md)"
require_kvm "$KILN" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$MKFS_EXT4" "$E2FSCK" "$T"
if ! "$IP" netns add "$ns" 2> "$w/err" || ! nsx true 2>> "$w/err"; then
	fatal "network namespace $ns ($IP netns: $(head -n 1 "$w/err"); IP must be iproute2's ip)"
fi
# The guest boots on tap ks0 and is restored on ks1; the namespace's address moves with it.
nsx "$IP" link set lo up && nsx "$IP" tuntap add ks0 mode tap && nsx "$IP" tuntap add ks1 mode tap &&
	nsx "$IP" addr add 10.0.2.1/24 dev ks0 && nsx "$IP" link set ks0 up && nsx "$IP" link set ks1 up ||
	fatal "taps ks0 and ks1 in $ns"

# The guest's script (on a read-only disk, vdb): network up, count to COUNT (the snapshot is taken at
# 10), then, restored, use every device. The host's vsock side waits for `vsock-listen`.
cat > "$w/guest.sh" << EOF
ip link set lo up && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up
i=0; while [ \$i -lt $COUNT ]; do i=\$((i+1)); echo "count \$i"; sleep 0.25; done
mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && echo restored > /mnt/f && umount /mnt && echo disk=ok
ping -c 3 -W 10 10.0.2.1 > /dev/null && echo gping=ok
echo vsock-listen
echo "h2g_sha=\$(vsock-tool listen 5000 < /dev/null 2> /dev/null | sha256sum | cut -d' ' -f1)"
head -c 1048576 /dev/urandom > /tmp/d
echo "g2h_sha=\$(sha256sum /tmp/d | cut -d' ' -f1)"
vsock-tool connect 2 5002 < /tmp/d > /dev/null 2>&1
echo "g2h_rc=\$?"
echo "hwrng=\$(head -c 32 /dev/hwrng | wc -c)"
EOF
sector_image "$w/guest.sh" "$w/guest.img"
rm -f "$w/disk.img" && truncate -s 64M "$w/disk.img" && "$MKFS_EXT4" -q -F -t ext4 "$w/disk.img" ||
	fatal "an ext4 disk for the guest"
head -c 1048576 /dev/urandom > "$w/toguest"

# --- 1. boot on ks0 with every device, snapshot at count 10, kill -----------------------------------
nsx "$KILN" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" --mem 256M --rng \
	--disk "$w/disk.img" --disk "$w/guest.img,ro" --net tap=ks0 --vsock "cid=3,uds=$w/v0.sock" \
	--api-sock "$sock" -- sh /dev/vdb < /dev/null > "$w/out1" 2> "$w/err1" &
pid=$!
wait_for "$w/out1" '^count 10$' || { cp "$w/out1" "$w/out"; cp "$w/err1" "$w/err"; fatal "the guest counts to 10 with every device"; }
timeout -s KILL 120 "$KILN" snapshot --api-sock "$sock" "$w/snap" 2> "$w/snap.err"
src=$?
kill -KILL "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
pid=
[ "$src" = 0 ] && ok "kiln snapshot of a guest with a disk, a NIC, vsock and rng" ||
	fatal "kiln snapshot of the guest with every device (status $src: $(cat "$w/snap.err"))"

# --- 2. refusals: a missing tap, an unknown NIC --------------------------------------------------
nsx "$KILN" restore --net-tap net0=nosuch0 "$w/snap" < /dev/null > /dev/null 2> "$w/e"
rc=$?
[ "$rc" = 125 ] && grep -q nosuch0 "$w/e" && ok "a restore onto a missing tap is refused (125): $(tail -n 1 "$w/e")" ||
	not_ok "a restore onto a missing tap is refused, named" "status $rc: $(cat "$w/e")"
nsx "$KILN" restore --net-tap eth9=ks1 "$w/snap" < /dev/null > /dev/null 2> "$w/e"
rc=$?
[ "$rc" = 125 ] && grep -q eth9 "$w/e" && ok "an override of a NIC the snapshot lacks is refused (125): $(tail -n 1 "$w/e")" ||
	not_ok "an override of an unknown NIC is refused, named" "status $rc: $(cat "$w/e")"

# --- 3. restore onto ks1 and another vsock socket; the guest uses every device --------------------
nsx "$IP" addr flush dev ks0 && nsx "$IP" addr add 10.0.2.1/24 dev ks1 || fatal "10.0.2.1 moved to ks1"
uds=$w/v1.sock
timeout -s KILL $((tmo * 2)) "$T" host-listen "${uds}_5002" < /dev/null > "$w/fromguest" 2> /dev/null &
bg=$!
nsx timeout -s KILL $((tmo * 2)) "$KILN" restore --net-tap net0=ks1 --vsock-uds "$uds" "$w/snap" \
	< /dev/null > "$w/out2" 2> "$w/err" &
pid=$!
if wait_for "$w/out2" '^vsock-listen$'; then
	nsx ping -c 3 -W 10 10.0.2.15 > /dev/null && hping=ok || hping=no
	n=0
	until timeout 120 "$T" host-connect "$uds" 5000 < "$w/toguest" > /dev/null 2> "$w/h2g.err"; do
		n=$((n + 1)); [ $n -ge 60 ] && break; sleep 1
	done
fi
wait "$pid"
rc=$?
pid=
kill "$bg" 2> /dev/null
bg=
tr -d '\r' < "$w/out2" > "$w/out"

last=$(consecutive "$w/out1" "$w/out2")
[ "$last" = "$COUNT" ] && ok "the restored guest counts on to $COUNT: no gap, no repeat across two processes" ||
	not_ok "the restored guest counts on" "last ${last:-none}: $(counts "$w/out2" | head -n 3 | tr '\n' ' ')"
[ "$rc" = 0 ] && ok "kiln restore exits with the guest's status 0" || not_ok "kiln restore's exit status" "status $rc"
[ "$(value disk)" = ok ] && ok "after the restore the guest mounts its disk and writes a file" ||
	not_ok "the guest writes on its disk after the restore" "no disk=ok"
if "$E2FSCK" -fn "$w/disk.img" > "$w/fsck.log" 2>&1; then ok "the disk the restored guest wrote is clean (e2fsck -fn)"
else not_ok "e2fsck -fn of the disk" "$(tail -n 3 "$w/fsck.log" | tr '\n' ' ')"; fi
if [ -n "${DEBUGFS:-}" ]; then
	got=$("$DEBUGFS" -R "cat /f" "$w/disk.img" 2> /dev/null)
	[ "$got" = restored ] && ok "the file the restored guest wrote reads back here (debugfs)" ||
		not_ok "the file the restored guest wrote" "debugfs read '$got'"
fi
[ "$(value gping)" = ok ] && [ "${hping:-}" = ok ] && ok "on the new tap the guest pings the namespace and the namespace pings the guest" ||
	not_ok "pings both ways after the restore" "guest->ns: $(value gping), ns->guest: ${hping:-not tried}"
[ "$(value h2g_sha)" = "$(sha "$w/toguest")" ] && ok "a new host -> guest vsock connection after the restore: 1 MiB, sha256 matches" ||
	not_ok "host -> guest vsock after the restore" "$(cat "$w/h2g.err" 2> /dev/null | tail -n 1); guest's sha256 $(value h2g_sha)"
[ "$(value g2h_rc)" = 0 ] && [ "$(sha "$w/fromguest")" = "$(value g2h_sha)" ] &&
	ok "a new guest -> host vsock connection after the restore: 1 MiB to ${uds##*/}_5002, sha256 matches" ||
	not_ok "guest -> host vsock after the restore" "status $(value g2h_rc), $(wc -c < "$w/fromguest") bytes"
[ "$(value hwrng)" = 32 ] && ok "after the restore /dev/hwrng reads 32 bytes" || not_ok "/dev/hwrng after the restore" "$(value hwrng)"
finish
