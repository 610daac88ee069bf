#!/bin/sh
# shellcheck disable=SC2016 # the guest's script is single-quoted: the guest shell expands it
# tests/integration/vmgenid_linux.sh — the VM Generation ID seen by Linux's vmgenid driver, on Debian's
# generic kernel ($GUEST/vmlinuz-generic: the cloud flavour has no CONFIG_VMGENID). First the generic
# kernel gets its devices from the test initramfs (its own modules there, tests/guest/build.sh): one
# boot with a disk, a tap, vsock, the rng and the virtio console reads the disk, pings the tap's
# host side, sends over vsock, reads /dev/hwrng. Then it boots under
# `kiln run --api-sock`; its vmgenid driver must bind to kiln's VMGENCTR device and the GED driver to
# ACPI0013. The guest waits until its kernel logs the reseed of a virtual machine fork, and is
# snapshotted while it waits; the snapshot is restored twice. Each restored guest must log the reseed
# (kiln's new ID reached the driver through the GED's interrupt and _EVT's Notify), read an ID other
# than the snapshot's at the address ADDR gives (/dev/mem), and print 32 bytes of /dev/urandom read
# after it: the two restores' bytes must differ. Runs under busybox sh inside the KVM test host
# (tests/host/run.sh), or directly with hardware KVM.
#
# env: KILN, GUEST, KILN_TEST_TIMEOUT (see virtio.sh); IP (iproute2's ip, default ip) and
#      VSOCK_TOOL (default $GUEST/vsock-tool) as for net.sh and vsock.sh. As root: the tap lives in a
#      network namespace made here (kilnvg<PID>) and deleted at the end.
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz-generic and initrd.img}"
. "$(dirname "$0")/lib.sh"
IP=${IP:-ip}
VT=${VSOCK_TOOL:-$GUEST/vsock-tool}
require_kvm "$KILN" "$GUEST/vmlinuz-generic" "$GUEST/initrd.img" "$VT"

sock=$w/api.sock
pid='' ns=''
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$ns" ] || return 0
	for p in $("$IP" netns pids "$ns" 2> /dev/null); do kill -KILL "$p" 2> /dev/null; done
	"$IP" netns del "$ns" 2> /dev/null
}
cleanup_hook=cleanup

# --- 1. the generic kernel's devices: its own modules from the same initramfs ----------------------
# The guest, on the virtio console (hvc0): the sha256 of its disk; the kernel's console; the hwrng
# and 32 bytes read from /dev/hwrng; eth0 up and a ping to the tap's host side; a line sent to the
# host over vsock (port 5100); the virtio devices and their drivers; pvpanic's and vmgenid's drivers
# (pvpanic-mmio is a platform driver: on the ACPI device's physical node; vmgenid an ACPI driver).
devices='drv() { basename "$(readlink "$1")"; }
echo "disk $(sha256sum /dev/vda | cut -d" " -f1)"
echo "console $(cat /sys/class/tty/console/active)"
echo "hwrng $(cat /sys/class/misc/hw_random/rng_current) $(head -c 32 /dev/hwrng | wc -c)"
ip link set eth0 up && ip addr add 10.0.5.15/24 dev eth0 && ping -c 3 -W 10 10.0.5.1 > /dev/null && echo "ping ok"
[ -c /dev/vsock ] && echo "vsock-node ok"
echo "from the generic kernel" | vsock-tool connect 2 5100 > /dev/null 2>&1 && echo "vsock-sent ok"
for d in /sys/bus/virtio/devices/*; do echo "virtio $(cat $d/device) $(drv $d/driver)"; done
echo "pvpanic $(drv /sys/bus/acpi/devices/QEMU0001:00/physical_node/driver)"
echo "vmgenid $(drv /sys/bus/acpi/devices/VMGENCTR:00/driver)"'
# has LINE: the guest printed LINE ($w/out).
has() { grep -qx "$1" "$w/out"; }

ns=kilnvg$$
head -c 1048576 /dev/urandom > "$w/disk.img"
if [ ! -c /dev/net/tun ] || ! "$IP" netns add "$ns" 2> "$w/err" ||
	! "$IP" netns exec "$ns" "$IP" tuntap add kv0 mode tap 2>> "$w/err" ||
	! "$IP" netns exec "$ns" "$IP" addr add 10.0.5.1/24 dev kv0 2>> "$w/err" ||
	! "$IP" netns exec "$ns" "$IP" link set kv0 up 2>> "$w/err"; then
	not_ok "the generic kernel's devices" "no tap kv0 in a namespace $ns ($(head -n 1 "$w/err"))"
else
	timeout -s KILL "$tmo" "$VT" host-listen "$w/v.sock_5100" < /dev/null > "$w/fromguest" 2> "$w/vt.err" &
	vt=$!
	i=0
	while [ ! -S "$w/v.sock_5100" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	start=$(date +%s)
	"$IP" netns exec "$ns" timeout -s KILL "$tmo" "$KILN" run --kernel "$GUEST/vmlinuz-generic" \
		--initrd "$GUEST/initrd.img" --mem 256M --console virtio --disk "$w/disk.img,ro" --net tap=kv0 \
		--vsock "cid=3,uds=$w/v.sock" --rng -- sh -c "$devices" < /dev/null > "$w/raw" 2> "$w/err"
	rc=$? secs=$(($(date +%s) - start))
	tr -d '\r' < "$w/raw" > "$w/out"
	kill -KILL "$vt" 2> /dev/null
	wait "$vt" 2> /dev/null
	[ "$rc" = 0 ] && ok "the generic kernel boots with a disk, a tap, vsock, the rng, the virtio console" ||
		not_ok "the generic kernel boots with its devices" "status $rc"
	has "console hvc0" && ok "its console is hvc0 (virtio_console)" ||
		not_ok "its console is hvc0" "$(grep '^console' "$w/out")"
	has "disk $(sha "$w/disk.img")" && ok "it reads its disk (virtio_blk): the sha256 matches" ||
		not_ok "it reads its disk" "$(grep '^disk' "$w/out"), host $(sha "$w/disk.img")"
	has "hwrng virtio_rng.0 32" && ok "it reads 32 bytes of /dev/hwrng from virtio_rng.0" ||
		not_ok "/dev/hwrng from virtio_rng.0" "$(grep '^hwrng' "$w/out")"
	has "ping ok" && ok "eth0 (virtio_net) pings the tap's host side" || not_ok "eth0 pings the tap's host side" "no 'ping ok'"
	has "vsock-node ok" && has "vsock-sent ok" && [ "$(cat "$w/fromguest")" = "from the generic kernel" ] &&
		ok "it has /dev/vsock and sends a line to the host over vsock (vmw_vsock_virtio_transport)" ||
		not_ok "/dev/vsock and a line to the host" "guest: $(grep '^vsock' "$w/out" | tr '\n' ' ')host got '$(cat "$w/fromguest")' $(cat "$w/vt.err")"
	# virtio 1.2 §5: device IDs 1 net, 2 block, 3 console, 4 entropy, 19 socket.
	missing=
	for dev in "0x0001 virtio_net" "0x0002 virtio_blk" "0x0003 virtio_console" "0x0004 virtio_rng" \
		"0x0013 vmw_vsock_virtio_transport"; do
		has "virtio $dev" || missing="$missing, $dev"
	done
	[ -z "$missing" ] && ok "its five virtio devices are bound to the drivers of its own modules" ||
		not_ok "five virtio devices bound" "missing ${missing#, }; guest: $(grep '^virtio' "$w/out" | tr '\n' ' ')"
	has "pvpanic pvpanic-mmio" && ok "pvpanic-mmio binds to QEMU0001" || not_ok "pvpanic-mmio binds to QEMU0001" "$(grep '^pvpanic' "$w/out")"
	has "vmgenid vmgenid" && ok "with its devices, vmgenid binds to VMGENCTR" || not_ok "vmgenid binds to VMGENCTR" "$(grep '^vmgenid' "$w/out")"
fi
cleanup
ns='' shown=''

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

# --- 2. boot, the devices, snapshot while waiting, kill ------------------------------------------
rm -f "$sock"
"$KILN" run --kernel "$GUEST/vmlinuz-generic" --initrd "$GUEST/initrd.img" --mem 256M --api-sock "$sock" \
	-- sh -c "$guest" < /dev/null > "$w/boot.out" 2> "$w/boot.err" &
pid=$!
if ! wait_for "$w/boot.out" '^waiting 4$'; then
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

# --- 3. two restores of the one snapshot ----------------------------------------------------------
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
