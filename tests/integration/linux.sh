#!/bin/sh
# tests/integration/linux.sh — boots kiln's Linux test guest (tests/guest) under kiln and checks what
# the guest did. Runs under busybox sh inside the KVM test host (tests/host/run.sh), or directly on a
# machine with hardware KVM (make check-linux decides).
#
# env: KILN             the kiln binary
#      GUEST            directory with vmlinuz and initrd.img
#      KILN_TEST_TIMEOUT seconds one boot may take (default 300; 1200 for the 1 MiB of output, which
#                       takes ~4 min in the KVM test host: every byte is a UART port write, a VM exit)
#      KILN_BOOT_TIMES  file that receives the boot-time lines of 10 boots (default ./boot-times.txt)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, then `N passed, M failed`; exits 1 if any
# test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
. "$(dirname "$0")/lib.sh"
long_tmo=$((tmo * 4))
times=${KILN_BOOT_TIMES:-boot-times.txt}

require_kvm "$KILN" "$GUEST/vmlinuz" "$GUEST/initrd.img"

expect_status "true exits 0" 0 -- true
expect_status "exit status 7 comes back" 7 -- sh -c 'exit 7'
expect_status "a missing command exits 127" 127 -- no-such-command

# Arguments with spaces, commas, percent signs, quotes and UTF-8 survive kiln.run's encoding.
boot -- printf '<%s>\n' 'a b' 'c,d' '100%' "it's" 'é=+@^' ''
want=$(printf '<%s>\n' 'a b' 'c,d' '100%' "it's" 'é=+@^' '')
got=$(grep '^<' "$w/out")
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "arguments arrive intact"
else not_ok "arguments arrive intact" "status $rc, got: $(echo "$got" | tr '\n' ' ')"; fi

expect_nproc 4

# The command's last output is still in the guest's 8250 driver (its 4 KiB transmit buffer) when the
# command exits: all of it reaches the host. The UART's interrupt, which empties that buffer, goes to
# CPU 0 and the command runs on CPU 1, so the two run at once, every time: how an SMP guest's `nproc`
# lost its line now and then (tests/guest/init.c, run(): the command must not lead its session).
name="--cpus 2: a 4000-byte line printed just before the command exits arrives whole"
boot --cpus 2 -- sh -c 'irq=$(awk "/ttyS0/ { print \$1 + 0 }" /proc/interrupts) &&
	echo 0 > /proc/irq/$irq/smp_affinity_list && exec taskset -c 1 printf "%04000d\n" 7'
if [ "$rc" = 0 ] && grep -qx "$(printf '%04000d' 7)" "$w/out"; then ok "$name"
else not_ok "$name" "status $rc, $(grep -o '000*7*' "$w/out" | awk '{ if (length > m) m = length } END { print m + 0 }') bytes of it"; fi

expect_memtotal_300m

boot --mem 5G -- cat /proc/meminfo
kb=$(meminfo_total)
if [ "$rc" = 0 ] && [ -n "$kb" ] && [ "$kb" -gt 4194304 ]; then ok "--mem 5G: MemTotal $kb kB"
else not_ok "--mem 5G: MemTotal above 4 GiB" "status $rc, MemTotal ${kb:-none} kB"; fi

# 1 MiB of console output arrives intact: the command's lines (digits only: kernel messages may
# share the console) hashed against the same text made here.
n=170000 btmo=$long_tmo
boot -- seq 1 $n
want=$(seq 1 $n | sha256sum | cut -d' ' -f1)
got=$(grep -x '[0-9][0-9]*' "$w/out" | sha256sum | cut -d' ' -f1)
size=$(seq 1 $n | wc -c)
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "$size bytes of guest output arrive intact"
else not_ok "$size bytes of guest output arrive intact" "status $rc, $(grep -cx '[0-9][0-9]*' "$w/out") of $n lines, sha256 differs: $([ "$got" != "$want" ] && echo yes || echo no)"; fi

boot --boot-time -- true
if [ "$rc" = 0 ] && grep -q '^kiln: boot-time:' "$w/err"; then ok "--boot-time prints its line"
else not_ok "--boot-time prints its line" "status $rc"; fi

# A guest kernel panic reaches kiln through pvpanic (QEMU0001 in the DSDT): status 124.
expect_status "a guest kernel panic exits 124" 124 -- sh -c 'echo c > /proc/sysrq-trigger'

# Boot times for the figures: 10 boots, the lines kept in $times, the medians printed.
: > "$times"
bad=0 t0=$(date +%s)
for _ in 1 2 3 4 5 6 7 8 9 10; do
	boot --boot-time -- true
	line=$(grep '^kiln: boot-time:' "$w/err")
	if [ "$rc" != 0 ] || [ -z "$line" ]; then bad=$((bad + 1)); continue; fi
	echo "$line" >> "$times"
	echo "# $line"
done
secs=$(($(date +%s) - t0))
median() {  # FIELD: the median of "FIELD=<ms>" over the lines of $times
	sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$times" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
if [ $bad = 0 ]; then ok "10 boots: median ready=$(median ready) ms exit=$(median exit) ms"
else not_ok "10 boots with --boot-time" "$bad of 10 failed or printed no boot-time line, last status $rc"; fi

finish
