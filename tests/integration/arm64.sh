#!/bin/sh
# shellcheck disable=SC2016 # guest commands are single-quoted: the guest shell expands them
# tests/integration/arm64.sh — the arm64 kiln (build/arm64/kiln) boots the arm64 test guest
# (tests/guest/build.sh --arch arm64: Debian's cloud-arm64 Image, kiln's init) and passes the checks
# of linux.sh and of the block, console, rng and vsock parts of virtio.sh and vsock.sh, at a smaller
# scale (everything runs under TCG in the arm64 KVM test host: make check-linux-arm64).
#
# env: KILN              the arm64 kiln
#      GUEST             directory with Image, initrd.img and vsock-tool (arm64, static: the host
#                        side of the vsock test too); GUEST_KERNEL=Image
#      KILN_TEST_TIMEOUT seconds one boot may take (default 300)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test and `# measure: ...` lines, then
# `N passed, M failed`; exits 1 if any test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with Image and initrd.img}"
GUEST_KERNEL=${GUEST_KERNEL:-Image}
T=$GUEST/vsock-tool
MiB=1048576
. "$(dirname "$0")/lib.sh"
bg=
stop_bg() { [ -n "$bg" ] && kill "$bg" 2> /dev/null; }
cleanup_hook=stop_bg

require_kvm "$KILN" "$GUEST/$GUEST_KERNEL" "$GUEST/initrd.img" "$T"

# --- 1. the command's status, CPUs, memory, architecture (linux.sh) ------------------------------
expect_status "true exits 0" 0 -- true
expect_status "exit status 7 comes back" 7 -- sh -c 'exit 7'

expect_nproc 4	# the secondary CPUs start through PSCI CPU_ON
# QEMU -M virt with the same kernel: arm64_host.sh prints its MemTotal for 300 MiB.
expect_memtotal_300m

boot -- uname -m
if [ "$rc" = 0 ] && grep -qx aarch64 "$w/out"; then ok "uname -m prints aarch64"
else not_ok "uname -m prints aarch64" "status $rc, printed: $(grep -v '^\[' "$w/out" | head -n 3 | tr '\n' ' ')"; fi

# --- 2. virtio-blk: the guest reads a disk and copies it to another (virtio.sh) ------------------
# An odd size in whole sectors; the copy goes through the guest's page cache and conv=fsync.
head -c $((4 * MiB + 512 * 7)) /dev/urandom > "$w/src.raw"
truncate -s $((5 * MiB)) "$w/dst.raw"
want=$(sha "$w/src.raw")
boot --disk "$w/src.raw,ro" --disk "$w/dst.raw" -- sh -c 'sha256sum /dev/vda &&
	dd if=/dev/vda of=/dev/vdb bs=64k conv=fsync 2> /dev/null'
got=$(guest_sha /dev/vda)
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "virtio-blk: the guest reads a 4 MiB disk, sha256 matches"
else not_ok "virtio-blk: the guest reads a disk" "status $rc, guest ${got:-printed none}, host $want"; fi
got=$(head -c $((4 * MiB + 512 * 7)) "$w/dst.raw" | sha_stdin)
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "virtio-blk: the guest's copy is on the host file, byte for byte"
else not_ok "virtio-blk: the guest writes a disk" "status $rc, bytes match: no"; fi
rm -f "$w/src.raw" "$w/dst.raw"

# --- 3. virtio-console and virtio-rng (virtio.sh) -----------------------------------------------
printf 'the quick brown fox, 42 %%s\nsecond line\n' > "$w/in.txt"
stdin=$w/in.txt boot --console virtio -- sh -c "$(console_cmd 20)"
if [ "$rc" = 0 ] && grep -qxF 'got:the quick brown fox, 42 %s|second line' "$w/out"; then
	ok "hvc0: input from a regular file reaches the guest, its output comes back"
else not_ok "hvc0: input from a regular file reaches the guest" "status $rc, guest printed: $(got_line)"; fi

boot --rng -- sh -c 'head -c 1048576 /dev/hwrng > /tmp/r; echo "rng count=$(wc -c < /tmp/r)"
	echo "rng sha=$(sha256sum /tmp/r | cut -d" " -f1)"; echo "rng gz=$(gzip -c /tmp/r | wc -c)"'
count=$(value count) rsha=$(value sha) gz=$(value gz)
if [ "$rc" = 0 ] && [ "$count" = $MiB ] && [ "$rsha" != "$(zeros_sha $MiB)" ] && [ "${gz:-0}" -ge $MiB ]; then
	ok "/dev/hwrng: 1048576 bytes, not zeros, gzip cannot shrink them ($gz bytes)"
else not_ok "1 MiB from /dev/hwrng" "status $rc, count ${count:-none}, gzip ${gz:-?} bytes"; fi

# --- 4. vsock: 16 MiB each way (vsock.sh) --------------------------------------------------------
# The guest's script comes on a small read-only disk; the host side is the same static arm64 vsock-tool.
# Each side's wait is bounded, so that a transfer that stalls ends the boot with the test failed.
SIZE=$((16 * MiB)) uds=$w/v.sock
cat > "$w/guest.sh" << GUEST
echo "h2g_sha=\$(timeout $tmo vsock-tool listen 5000 < /dev/null 2> /dev/null | sha256sum | cut -d' ' -f1)"
head -c $SIZE /dev/urandom > /tmp/d
echo "g2h_sha=\$(sha256sum /tmp/d | cut -d' ' -f1)"
timeout $tmo vsock-tool connect 2 5002 < /tmp/d > /dev/null 2>&1
echo "g2h_rc=\$?"
GUEST
sector_image "$w/guest.sh" "$w/guest.img"
head -c $SIZE /dev/urandom > "$w/toguest"
# host-connect until the guest listens (a connection before that is refused): 150 tries, 1 s apart.
(n=0; until timeout "$tmo" "$T" host-connect "$uds" 5000 < "$w/toguest" > /dev/null 2> "$w/h2g.err"; do
	n=$((n + 1)); [ $n -ge 150 ] && exit 1; sleep 1; done; echo h2g_rc=0 > "$w/h2g.rc") &
bg=$!
timeout $((tmo * 4)) "$T" host-listen "${uds}_5002" < /dev/null > "$w/fromguest" 2> "$w/g2h.err" &
listener=$!
btmo=$((tmo * 4)); boot --mem 512M --disk "$w/guest.img,ro" --vsock "cid=3,uds=$uds" -- sh /dev/vda
kill "$bg" "$listener" 2> /dev/null
bg=
if [ "$(value h2g_rc "$w/h2g.rc" 2> /dev/null)" = 0 ] && [ "$(value h2g_sha)" = "$(sha "$w/toguest")" ]; then
	ok "vsock host -> guest: 16 MiB, sha256 matches"
else not_ok "vsock host -> guest, 16 MiB" "status $rc, $(cat "$w/h2g.err" 2> /dev/null); sha256 $(value h2g_sha)"; fi
if [ "$(value g2h_rc)" = 0 ] && [ "$(sha "$w/fromguest")" = "$(value g2h_sha)" ]; then
	ok "vsock guest -> host: 16 MiB, sha256 matches"
else not_ok "vsock guest -> host, 16 MiB" "guest's connect: $(value g2h_rc), $(wc -c < "$w/fromguest") bytes"; fi
rm -f "$w/toguest" "$w/fromguest"
rate() { awk -v s=$SIZE '/^vsock-tool: sent/ { t = $(NF - 1) } END { if (t > 0) printf "%.1f MB/s (%.2f s)", s / 1e6 / t, t; else print "n/a" }' "$1"; }
echo "# measure: vsock host -> guest (16 MiB): $(rate "$w/h2g.err")"
echo "# measure: vsock guest -> host (16 MiB): $(rate "$w/g2h.err")"

# --- 5. boot time, beside QEMU's in arm64_host.sh: 5 boots, 1 vCPU, 512 MiB (QEMU's settings); the
# guest kernel's uptime when the command runs, as there ------------------------------------------
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: > "$w/times"
bad=0
for _ in 1 2 3 4 5; do
	boot --cpus 1 --mem 512M --boot-time -- sh -c 'echo guest-uptime=$(cut -d" " -f1 /proc/uptime)'
	line=$(grep '^kiln: boot-time:' "$w/err") up=$(value guest-uptime)
	if [ "$rc" != 0 ] || [ -z "$line" ] || [ -z "$up" ]; then bad=$((bad + 1)); continue; fi
	echo "$line guest-uptime=$up" >> "$w/times"
	echo "# $line guest-uptime=$up s"
done
med=$(sed -n 's/.*ready=\([0-9.]*\).*/\1/p' "$w/times" | median)
medup=$(sed -n 's/.*guest-uptime=\([0-9.]*\).*/\1/p' "$w/times" | median)
if [ $bad = 0 ]; then
	ok "5 boots with --boot-time: median ready=$med ms, guest uptime $medup s"
	echo "# measure: kiln, arm64 test guest, 1 vCPU, 512 MiB: median ready $med ms, guest uptime at ready $medup s (5 boots)"
else not_ok "5 boots with --boot-time" "$bad of 5 failed or printed no boot-time line, last status $rc"; fi

finish
