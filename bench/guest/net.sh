#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest/net.sh — the network figures' guest side (/bench/net.sh in the network boots'
# initramfs), the same under kiln and QEMU: eth0 gets 10.0.2.15/24, then it pings the namespace's tap
# (10.0.2.1) and runs iperf3's client for SECS each way against the server bench/linux_net.sh runs
# in the namespace (port 5201).
#
# usage: sh /bench/net.sh PINGS SECS
# Prints, for bench/linux_net.sh to parse:
#   NET-FEATURES <bits>        the virtio features the driver accepted (bit 0 first)
#   NET-PING <ms>              one line per reply (busybox ping, 0.2 s apart, after one warm-up)
#   NET-IPERF-G2H <bytes> <s> <retransmits>  iperf3, guest -> namespace: what the receiver got, over
#                                            its interval, and the sender's TCP retransmissions
#   NET-IPERF-H2G <bytes> <s> <retransmits>  iperf3 -R, namespace -> guest: the same
set -u
pings=$1 secs=$2
host=10.0.2.1
# iperf3 and its libraries are in /bench/iperf3/ (bench/network.sh), run through the loader there as
# fio is (bench/guest/fio.sh): the initramfs has no /lib of its own.
i3=/bench/iperf3
iperf3() { "$i3/lib64/ld-linux-x86-64.so.2" --library-path "$i3/lib" "$i3/iperf3" "$@"; }
# iperf_run TAG IPERF3-ARGS...: one test, JSON out; prints "NET-IPERF-TAG <bytes> <seconds>
# <retransmits>" from the end's sum_received (the receiver's side, whichever end that is) and
# sum_sent (the sender's retransmissions).
iperf_run() {
	tag=$1
	shift
	iperf3 -c $host -p 5201 -t "$secs" -J "$@" > /tmp/iperf3.json 2>&1
	r=$(awk '/"sum_sent"/ { sent = 1 }
		sent && $1 == "\"retransmits\":" { rt = $2 }
		sent && /}/ { sent = 0 }
		/"sum_received"/ { on = 1 }
		on && $1 == "\"seconds\":" { s = $2 }
		on && $1 == "\"bytes\":" { b = $2 }
		on && /}/ { gsub(/,/, "", s); gsub(/,/, "", b); gsub(/,/, "", rt); print b, s, rt; exit }' /tmp/iperf3.json)
	if [ -n "$r" ]; then
		echo "NET-IPERF-$tag $r"
	else
		echo "net.sh: iperf3 $* failed: $(grep '"error"' /tmp/iperf3.json || tail -n 3 /tmp/iperf3.json)"
	fi
}

ip link set lo up
if ! { ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up; }; then
	echo "net.sh: cannot configure eth0"; exit 1
fi
echo "NET-FEATURES $(cat /sys/class/net/eth0/device/features)"

# The warm-up ping also waits for the link and resolves the tap's MAC (ARP): not counted.
ping -c 1 -W 10 $host > /dev/null || { echo "net.sh: no reply from $host"; exit 1; }
ping -c "$pings" -i 0.2 -W 10 $host | sed -n 's/.* time=\([0-9.]*\) ms$/NET-PING \1/p'

iperf_run G2H
iperf_run H2G -R
