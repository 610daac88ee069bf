#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/linux_net.sh — the network rows of `make bench`: virtio-net on a tap, kiln against QEMU's
# microvm, interleaved A B A B. Runs INSIDE a KVM test host of its own with ONE CPU (bench/bench.sh:
# tests/host/run.sh -c 1; tests/host/README.md, "One CPU": on two, the emulator's
# nested SVM crashes or hangs guests moving data over virtio-net), or directly on hardware KVM.
# Prints SAMPLE and NOTE lines as bench/linux.sh does; shares bench/linux_lib.sh with it.
#
#   namespace kilnbench<PID>:  kb0 10.0.2.1/24  <-- tap -->  eth0 10.0.2.15/24 (bench/guest/net.sh)
# Both monitors run inside the namespace on the same tap, one after the other, with the same MAC. No
# address or device exists outside it; it is deleted when this script ends, also when it fails.
# iperf3's server runs in it too, one per boot.
#
# Environment besides linux_lib.sh's (paths inside the test host):
#   INITRD                          includes /bench/net.sh and /bench/iperf3/ (bench/network.sh)
#   NET_RUNS NET_PINGS IPERF_SECS   network boots per side, pings per boot, seconds per iperf3 test
#                                   (one each way per boot)
#   IP                              iproute2's ip (busybox ip has no netns or tuntap)
#   IPERF3                          iperf3 (Debian's), the server in the namespace
# Command lines are built as words on purpose (paths here have no spaces): SC2046, SC2086.
# shellcheck disable=SC2046,SC2086,SC2153
set -u

: "${NET_RUNS:=1}" "${NET_PINGS:=10}" "${IPERF_SECS:=2}" "${IP:=ip}"
: "${IPERF3:=iperf3}"
# shellcheck source=bench/linux_lib.sh
. "$(dirname "$0")/linux_lib.sh"

NS=kilnbench$$ TAP=kb0 MAC=02:00:00:00:00:0f
IPERF_PORT=5201
net_pids="" net_noted=""
net_cleanup() {
	for p in $net_pids; do kill "$p" 2>/dev/null; done
	# Whatever still runs in the namespace (a monitor past its time limit) would keep the tap alive.
	for p in $("$IP" netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	"$IP" netns del "$NS" 2>/dev/null
}
trap net_cleanup EXIT
trap 'exit 130' INT TERM
nsip() { "$IP" -n "$NS" "$@"; }

net_setup() {
	if ! $QEMU -netdev help 2>/dev/null | grep -qx tap; then
		say "this QEMU has no tap backend"; return 1
	fi
	"$IPERF3" --version > /dev/null 2>&1 || { say "$IPERF3 does not run"; return 1; }
	"$IP" netns add "$NS" || { say "cannot make network namespace $NS ($IP must be iproute2's)"; return 1; }
	if ! { nsip link set lo up && nsip tuntap add $TAP mode tap &&
		nsip addr add 10.0.2.1/24 dev $TAP && nsip link set $TAP up; }; then
		say "cannot make tap $TAP in $NS"; return 1
	fi
}

# net_features BITS: the names of the virtio(-net) feature bits set in a /sys/.../features string
# (bit 0 first): virtio 1.2 §5.1.3 and §6, plus the legacy GSO, NOTIFY_ON_EMPTY and ANY_LAYOUT.
net_features() {
	echo "$1" | awk '
	BEGIN { split("CSUM GUEST_CSUM CTRL_GUEST_OFFLOADS MTU - MAC GSO GUEST_TSO4 GUEST_TSO6 GUEST_ECN " \
		"GUEST_UFO HOST_TSO4 HOST_TSO6 HOST_ECN HOST_UFO MRG_RXBUF STATUS CTRL_VQ CTRL_RX CTRL_VLAN " \
		"- GUEST_ANNOUNCE MQ CTRL_MAC_ADDR NOTIFY_ON_EMPTY - - ANY_LAYOUT INDIRECT_DESC EVENT_IDX - - " \
		"VERSION_1", name, " ") }
	{ for (i = 1; i <= length($0); i++) if (substr($0, i, 1) == "1") {
		s = s sep (name[i] != "" && name[i] != "-" ? name[i] : "bit" (i - 1)); sep = "," } }
	END { print s }'
}

# median: of the numbers on stdin, one a line.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# net_boot SIDE RUN: one boot running bench/guest/net.sh; prints its SAMPLE lines.
net_boot() {
	side=$1 run=$2
	# iperf3's server serves the guest's two tests one after the other, then waits for ever.
	"$IP" netns exec "$NS" "$IPERF3" -s -p $IPERF_PORT > "$w/iperf3-server.out" 2>&1 &
	iperf=$!
	net_pids=$iperf
	r=$(WITH_NET=1 boot $side "$KERNEL" "$w/out" -- sh /bench/net.sh "$NET_PINGS" "$IPERF_SECS")
	say "net $run $side: $r"
	kill $iperf 2>/dev/null
	wait $iperf 2>/dev/null
	net_pids=""
	tr -d '\r' < "$w/out" > "$w/net.out"
	if [ "$(field status "$r")" != "$(ok_status $side)" ]; then
		failed "net $run $side"
		return
	fi
	# Once per monitor, from its first boot that worked.
	case " $net_noted " in
	*" $side "*) ;;
	*)
		note "net: virtio features the guest accepted under $side:" \
			"$(net_features "$(sed -n 's/^NET-FEATURES //p' "$w/net.out")")"
		net_noted="$net_noted $side"
		;;
	esac

	n=$(sed -n 's/^NET-PING //p' "$w/net.out" | wc -l)
	say "net $run $side: ping ms: $(sed -n 's/^NET-PING //p' "$w/net.out" | tr '\n' ' ')"
	if [ "$n" = "$NET_PINGS" ]; then
		echo "SAMPLE net.ping $side $(sed -n 's/^NET-PING //p' "$w/net.out" | median)"
	else
		failed "net $run $side: ping ($n of $NET_PINGS replies)"
	fi
	# iperf3: the receiver's figure (bytes that arrived over its own interval), MB/s = 10^6 bytes/s.
	for dir in G2H H2G; do
		set -- $(sed -n "s/^NET-IPERF-$dir //p" "$w/net.out")
		say "net $run $side: iperf3 $dir: $* (bytes, seconds, the sender's retransmissions)"
		if [ $# -ge 2 ] && [ "$1" -gt 0 ] 2>/dev/null; then
			echo "SAMPLE net.iperf_$([ $dir = G2H ] && echo g2h || echo h2g) $side" \
				"$(awk -v n="$1" -v s="$2" 'BEGIN { printf "%.2f", n / 1e6 / s }')"
		else
			failed "net $run $side: iperf3 $dir ($(grep "iperf3" "$w/net.out" | tail -n 1))"
			say "iperf3's server said:"; tail -n 5 "$w/iperf3-server.out" >&2
		fi
	done
}

if net_setup; then
	note "net: iperf3 $("$IPERF3" --version 2>/dev/null | sed -n '1s/^iperf \([^ ]*\).*/\1/p') (Debian's), ${IPERF_SECS} s each way per boot, the server in the namespace"
	i=0
	while [ $i -lt "$NET_RUNS" ]; do
		i=$((i + 1))
		for side in kiln qemu; do net_boot $side $i; done
	done
else
	bad=$((bad + 1))
	note "net: not measured (see the log)"
fi
net_cleanup
finish
