#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest/fio.sh SECONDS — the block figures, run inside the bench guest (busybox sh; bench/bench.sh
# adds this file to the guest's initramfs as /bench/fio.sh). bench/linux.sh boots the guest with two
# virtio-blk disks: the disk under test, and a read-only ext4 disk with serial "kiln-fio" that holds
# Debian's fio, its shared libraries (lib/) and the dynamic loader (lib64/), made by bench/bench.sh.
# The disks are told apart by serial, not by name, so the order a monitor gives them does not matter.
#
# Three fio jobs one after the other (stonewall) on the disk under test, each for SECONDS, O_DIRECT,
# one synchronous request at a time (psync): 1 MiB sequential writes (then fsync), 1 MiB sequential
# reads, 4 KiB random reads. Prints "FIO-DEVICE ..." and fio's terse (v3) lines; bench/linux.sh parses
# them. Exits with fio's status.
secs=${1:?usage: fio.sh SECONDS}
tools="" dev=""
for b in /sys/block/vd*; do
	[ -e "$b" ] || continue
	if [ "$(cat "$b/serial" 2>/dev/null)" = kiln-fio ]; then tools=/dev/${b##*/}; else dev=/dev/${b##*/}; fi
done
if [ -z "$tools" ] || [ -z "$dev" ]; then
	echo "fio.sh: need the fio disk (serial kiln-fio) and a disk to test; have: $(ls /sys/block)" >&2
	exit 1
fi
mkdir -p /mnt && mount -t ext4 -o ro "$tools" /mnt || exit 1
# libceph-common (one of fio's libraries) has a ~130 MiB .bss, more than the guest's 128 MiB of RAM:
# the kernel's default heuristic refuses that mapping ("cannot map zero-fill pages"). fio never
# touches it; let the mapping through.
echo 1 > /proc/sys/vm/overcommit_memory || exit 1
echo "FIO-DEVICE $dev (fio from $tools)"
/mnt/lib64/ld-linux-x86-64.so.2 --library-path /mnt/lib /mnt/fio --output-format=terse \
	--filename="$dev" --direct=1 --ioengine=psync --time_based --runtime="$secs" \
	--name=seq_write --rw=write --bs=1M --end_fsync=1 \
	--name=seq_read --stonewall --rw=read --bs=1M \
	--name=randread --stonewall --rw=randread --bs=4k
rc=$?
umount /mnt
exit $rc
