#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest/net.sh — the network figures' guest side (/bench/net.sh in the bench initramfs), the
# same under kiln and QEMU: eth0 gets 10.0.2.15/24, then it pings the namespace's tap (10.0.2.1) and
# moves BYTES over TCP each way with busybox nc. The namespace side (bench/linux.sh) listens on 5001
# (a sink that counts what it got) and on 5002 (a source of BYTES zeros).
#
# usage: sh /bench/net.sh BYTES PINGS
# Prints, for bench/linux.sh to parse:
#   NET-FEATURES <bits>        the virtio features the driver accepted (bit 0 first)
#   NET-PING <ms>              one line per reply (busybox ping, 0.2 s apart, after one warm-up)
#   NET-G2H <t0> <t1>          guest -> namespace: /proc/uptime before the connect, after the close
#   NET-H2G <t0> <t1> <bytes>  namespace -> guest, and the bytes received
# Both transfers are timed here, on the guest's clock (10 ms steps: sizes keep each transfer long).
# Each goes through one pipe in the guest (head | nc, nc | wc): the same work under both monitors.
set -u
n=$1 pings=$2
host=10.0.2.1
u() { cut -d' ' -f1 /proc/uptime; }

ip link set lo up
if ! { ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up; }; then
	echo "net.sh: cannot configure eth0"; exit 1
fi
echo "NET-FEATURES $(cat /sys/class/net/eth0/device/features)"

# The warm-up ping also waits for the link and resolves the tap's MAC (ARP): not counted.
ping -c 1 -W 10 $host > /dev/null || { echo "net.sh: no reply from $host"; exit 1; }
ping -c "$pings" -i 0.2 -W 10 $host | sed -n 's/.* time=\([0-9.]*\) ms$/NET-PING \1/p'

t0=$(u)
head -c "$n" /dev/zero | nc $host 5001 || { echo "net.sh: nc to $host:5001 failed"; exit 1; }
echo "NET-G2H $t0 $(u)"

# stdin /dev/null: the source on the other side does not read, the close it causes is harmless.
t0=$(u)
got=$(nc $host 5002 < /dev/null | wc -c)
echo "NET-H2G $t0 $(u) $got"
