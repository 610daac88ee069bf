#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# slow_disk.sh KILN_TEST_BUILD TINY_DIR — a slow disk holds up its own requests only: while a disk
# request waits, virtio-rng (served by the I/O thread, like the console, the network and vsock) goes
# on. KILN_TEST_BUILD is a kiln built with KILN_TEST_HOOKS (the sanitizer build): with
# KILN_TEST_BLK_GATE_FD=3 each disk request waits until fd 3, a FIFO, is readable. The guest
# (tests/tiny/slowdisk) reads from the disk, asks virtio-rng for bytes meanwhile, then says the disk
# request waits; only then does this script open the gate, so no timing decides the outcome: when the
# disk's requests were served on the I/O thread, the rng request waited behind the gate and the
# guest's check failed. Every kiln here is killed after 60 s: a hung kiln fails its test.
set -u
kiln=$1 tiny=$2
pass=0 failed=0
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "slow_disk.sh: SKIP: /dev/kvm is not usable here" >&2
	exit 77
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

check() { # NAME WANT GOT
	if [ "$3" = "$2" ]; then echo "ok - $1"; pass=$((pass + 1))
	else echo "not ok - $1 (got $3, expected $2)"; failed=$((failed + 1)); fi
}

# The disk: the hostile guest's magic at sector 0 (tests/tiny/hostile/requests.h: DISK_MAGIC).
printf 'kiln hostile disk' >"$tmp/disk"
truncate -s 64K "$tmp/disk"
mkfifo "$tmp/gate"
# kiln holds the FIFO as fd 3 and this script as fd 4, both opened read-write: no open and no write
# blocks, also once kiln has ended.
exec 4<>"$tmp/gate"
KILN_TEST_BLK_GATE_FD=3 timeout -s KILL 60 "$kiln" run --kernel "$tiny/slowdisk.elf" --mem 16M \
	--disk "$tmp/disk" --rng 3<>"$tmp/gate" </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
while kill -0 $pid 2>/dev/null && ! grep -q '^# slowdisk: the disk request waits for the gate' "$tmp/out"; do
	sleep 0.1
done
echo open >&4
wait $pid
status=$?

check "slow disk: the guest passes its checks (exit status 0)" 0 "$status"
check "slow disk: virtio-rng is served while a disk request waits" yes \
	"$(grep -q '^ok - slowdisk: virtio-rng serves a request while the disk' "$tmp/out" && echo yes || echo no)"
check "slow disk: the disk request completes once the disk goes on" yes \
	"$(grep -q '^ok - slowdisk: the disk request completes' "$tmp/out" && echo yes || echo no)"
if [ "$status" != 0 ]; then
	sed 's/^/# out: /' "$tmp/out"
	sed 's/^/# err: /' "$tmp/err" | head -n 20
fi
echo "$pass passed, $failed failed"
[ $failed = 0 ]
