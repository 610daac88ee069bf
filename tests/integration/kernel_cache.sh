#!/bin/sh
# tests/integration/kernel_cache.sh — a bzImage with an LZ4 payload (the test guest's Debian cloud
# kernel) boots through the vmlinux kiln decompressed (its PVH entry), from kiln's cache when the
# cache has it, and as a bzImage when nothing else works. The guest tells which way it came in:
# /sys/kernel/boot_params/version is the bzImage's protocol (0x020f for 6.1), or 0x020c (2.12), which
# Linux writes itself when it starts at its PVH entry (arch/x86/platform/pvh/enlighten.c).
#
# env: KILN, GUEST (as linux.sh). Prints TAP-style lines, then `N passed, M failed`.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
. "$(dirname "$0")/lib.sh"

require_kvm "$KILN" "$GUEST/vmlinuz" "$GUEST/initrd.img"
export KILN_CACHE="$w/cache"
entry="$KILN_CACHE/vmlinux/$(sha "$GUEST/vmlinuz")"
protocol() { grep -x '0x0[0-9a-f]*' "$w/out" | head -n 1; }

boot -- cat /sys/kernel/boot_params/version
if [ "$rc" = 0 ] && [ "$(protocol)" = 0x020c ] && [ -s "$entry" ]; then
	ok "first boot: the decompressed kernel boots through its PVH entry and is cached"
else not_ok "first boot through the PVH entry" "status $rc, protocol $(protocol), entry: $(ls -l "$entry" 2>&1)"; fi

before=$(sha "$entry")
boot -- cat /sys/kernel/boot_params/version
if [ "$rc" = 0 ] && [ "$(protocol)" = 0x020c ] && [ "$(sha "$entry")" = "$before" ]; then
	ok "second boot: from the cache"
else not_ok "second boot from the cache" "status $rc, protocol $(protocol)"; fi

# An entry whose header names another digest (the digest starts at byte 8) is not used, and is
# replaced by a good one.
printf 'XXXX' | dd of="$entry" bs=1 seek=8 conv=notrunc 2> /dev/null
boot -- cat /sys/kernel/boot_params/version
if [ "$rc" = 0 ] && [ "$(protocol)" = 0x020c ] && grep -q 'ignoring a cached kernel' "$w/err" &&
	[ "$(sha "$entry")" = "$before" ]; then
	ok "a cached file that fails its checks is ignored and replaced"
else not_ok "a bad cached file is ignored" "status $rc, protocol $(protocol)"; fi

# A cached vmlinux that passes the header's checks but is no kernel: the bzImage boots as it is.
size=$(wc -c < "$entry")
dd if=/dev/zero of="$entry" bs=1 seek=48 count=64 conv=notrunc 2> /dev/null
boot -- cat /sys/kernel/boot_params/version
if [ "$rc" = 0 ] && [ "$(protocol)" = 0x020f ] && grep -q 'booting the bzImage' "$w/err" &&
	[ "$(wc -c < "$entry")" = "$size" ]; then
	ok "a cached file that is no kernel: the bzImage boots as it is"
else not_ok "a cached non-kernel falls back to the bzImage" "status $rc, protocol $(protocol)"; fi

# No cache directory to be had: decompressed all the same, nothing written.
rm -rf "$KILN_CACHE"
export KILN_CACHE=/proc/kiln-no-cache
boot -- cat /sys/kernel/boot_params/version
if [ "$rc" = 0 ] && [ "$(protocol)" = 0x020c ] && [ ! -e "$w/cache" ]; then
	ok "without a cache: decompressed, and nothing written"
else not_ok "without a cache" "status $rc, protocol $(protocol)"; fi

finish
