#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest/count.sh — the snapshot rows' Linux guest (/bench/count.sh in the bench initramfs), the
# same under kiln and QEMU: prints its kernel command line (bench/snapshot.sh gives QEMU kiln's), then
# "count 1", "count 2", ... for ever, one line after the other with nothing in between, so that a
# guest restored from a snapshot prints a whole line as soon as it runs again.
echo "CMDLINE $(cat /proc/cmdline)"
i=0
while :; do
	i=$((i + 1))
	echo "count $i"
done
