#!/bin/sh
# shellcheck disable=SC2016 # guest commands are single-quoted: the guest shell expands them
# tests/integration/arm64_vmm.sh — the rest of kiln on arm64 (issue 15, item 3), with the arm64 test
# guest in the arm64 KVM test host (make check-linux-arm64, after arm64.sh): the guest's power-off and
# reboot end the VM as on x86 (PSCI SYSTEM_OFF / SYSTEM_RESET: KVM_EXIT_SYSTEM_EVENT); every thread
# runs under its seccomp allowlist; the API (configure, InstanceStart, pause, metrics, resume) and a
# config file; virtio-net on a tap in a network namespace made here. Each check reads what the host
# side sees: kiln's status and stderr, /proc, the API's replies, the bytes that came over the network.
#
# env: KILN              the arm64 kiln
#      GUEST             directory with Image and initrd.img (arm64); GUEST_KERNEL=Image
#      HTTP_RAW          tests/api/http_raw.c built static for arm64: the test host has no curl
#      KILN_TEST_TIMEOUT seconds one boot may take (default 300)
# Only busybox here: `unshare --net=FILE` and `nsenter` stand in for iproute2's `ip netns`, busybox
# `tunctl` for `ip tuntap`. Prints `ok - NAME` or `not ok - NAME (detail)` per test, then
# `N passed, M failed`; exits 1 if any test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with Image and initrd.img}" "${HTTP_RAW:?HTTP_RAW=http-raw}"
GUEST_KERNEL=${GUEST_KERNEL:-Image}
. "$(dirname "$0")/lib.sh"
pid="" ncpid="" nsf=""
# The network test's namespace, made persistent by a bind mount on the file $nsf (what `ip netns add`
# does): gone once that is unmounted and nothing runs in it.
drop_namespace() {
	[ -n "$nsf" ] || return 0
	umount "$nsf" 2> /dev/null && rm -f "$nsf" && nsf=
}
nsx() { nsenter --net="$nsf" "$@"; }  # runs a command inside it
end_all() {
	[ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null
	[ -n "$ncpid" ] && kill -KILL "$ncpid" 2> /dev/null
	drop_namespace
}
cleanup_hook=end_all

require_kvm "$KILN" "$GUEST/$GUEST_KERNEL" "$GUEST/initrd.img" "$HTTP_RAW"
# The console's input for the background boots: a FIFO this shell holds open (fd 3), so that kiln's
# stdin sees no end of file until the test writes a line.
mkfifo "$w/in" || fatal "a FIFO for the console's input"
exec 3<> "$w/in"
NOSTATUS="kiln: the guest ended without reporting the command's status"

# reap: waits for kiln ($pid, in the background) to end, $tmo s at most, then kills it; $rc is its
# status ("timeout" if it had to be killed), its stdout less carriage returns in $w/out.
reap() {
	wait_for /dev/null '^never$' # lib.sh's: returns once kiln has ended or $tmo has passed
	killed=
	kill -KILL "$pid" 2> /dev/null && killed=timeout
	wait "$pid"
	rc=${killed:-$?} pid="" shown=""
	tr -d '\r' < "$w/raw" > "$w/out"
}

# threads_filtered: one `NAME:MODE` word per thread of kiln ($pid), MODE its /proc Seccomp field
# (2: a filter); `ok` when each thread has one (and there are at least MIN=$1).
threads_filtered() {
	list=$(for s in /proc/"$pid"/task/*/status; do
		awk '/^Name:/ { n = $2 } /^Seccomp:/ { printf "%s:%s ", n, $2 }' "$s"; done)
	n=$(echo "$list" | wc -w) unfiltered=$(echo "$list" | tr ' ' '\n' | grep -c ':[^2]$')
	list="$n threads, Seccomp: $(echo "$list" | tr ' ' '\n' | sed -n 's/.*://p' | sort -u | tr '\n' ' ')"
	[ "$n" -ge "$1" ] && [ "$unfiltered" = 0 ]
}

# --- 1. power-off and reboot end the VM as on x86 (README, "Exit status") -------------------------
# With a command: the guest ended without its status, 122 and one line. Its threads, meanwhile:
# main, vCPU, I/O and the block device's (--disk), each filtered.
head -c 65536 /dev/zero > "$w/disk"
"$KILN" run --kernel "$GUEST/$GUEST_KERNEL" --initrd "$GUEST/initrd.img" --disk "$w/disk" --rng \
	-- sh -c 'echo $((6 * 7))-ready; read -r a; poweroff -f' < "$w/in" > "$w/raw" 2> "$w/err" &
pid=$!
if wait_for "$w/raw" '^42-ready'; then
	if threads_filtered 4; then ok "seccomp, kiln run: every thread is filtered ($list)"
	else not_ok "seccomp, kiln run: every thread is filtered" "$list"; fi
else not_ok "seccomp, kiln run: the guest's command started" "no ready line"; fi
echo go >&3
reap
if [ "$rc" = 122 ] && grep -qxF "$NOSTATUS" "$w/err"; then ok "-- poweroff -f: PSCI SYSTEM_OFF ends the VM, 122 (no status)"
else not_ok "-- poweroff -f ends the VM with 122" "exit status $rc"; fi

boot -- reboot -f
if [ "$rc" = 122 ] && grep -qxF "$NOSTATUS" "$w/err"; then ok "-- reboot -f: PSCI SYSTEM_RESET ends the VM, 122 (no status)"
else not_ok "-- reboot -f ends the VM with 122" "exit status $rc"; fi

# Without a command (`--`), only a kernel command line whose kiln.run= powers off: kiln exits 0.
boot --cmdline "console=ttyS0 reboot=k panic=-1 pci=off quiet kiln.run=poweroff,-f"
if [ "$rc" = 0 ] && ! grep -qxF "$NOSTATUS" "$w/err"; then ok "poweroff -f, no -- CMD: PSCI SYSTEM_OFF, kiln exits 0"
else not_ok "poweroff -f, no -- CMD: kiln exits 0" "exit status $rc"; fi

# --- 2. the API: configure, InstanceStart, pause, metrics, resume; a config file -----------------
sock=$w/api.sock
# api METHOD PATH [BODY]: one request on its own connection; $code is the reply's status, $w/reply it all.
api() {
	printf '%s %s HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' \
		"$1" "$2" "${#3}" "$3" | "$HTTP_RAW" "$sock" > "$w/reply" 2>&1
	code=$(sed -n '1s|^HTTP/1\.1 \([0-9]*\).*|\1|p' "$w/reply")
	echo "#   $1 $2: ${code:-no reply}"
}
# call METHOD PATH [BODY]: api, and true if the reply's status is $want (else $why names the reply).
call() {
	api "$@"
	[ "$code" = "$want" ] || { why="$1 $2: ${code:-no reply} $(tr -d '\r' < "$w/reply" | tail -n 1 | head -c 200)"; false; }
}

# The guest's script comes on a read-only disk: it says it is ready, waits for a console line, echoes it.
printf 'echo $((6 * 7))-ready\nread -r a\necho "got:$a"\nexit 5\n' > "$w/api.sh"
sector_image "$w/api.sh" "$w/api.img"
boot_args="console=ttyS0 reboot=k panic=-1 pci=off quiet kiln.run=sh,/dev/vda"
: > "$w/metrics"
"$KILN" --api-sock "$sock" < "$w/in" > "$w/raw" 2> "$w/err" &
pid=$!
n=0
while [ ! -S "$sock" ] && [ $n -lt 100 ]; do sleep 0.2; n=$((n + 1)); done
why=
if want=204 && call PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}' &&
	call PUT /boot-source "{\"kernel_image_path\": \"$GUEST/$GUEST_KERNEL\", \"initrd_path\": \"$GUEST/initrd.img\", \"boot_args\": \"$boot_args\"}" &&
	call PUT /drives/script "{\"drive_id\": \"script\", \"path_on_host\": \"$w/api.img\", \"is_root_device\": false, \"is_read_only\": true}" &&
	call PUT /metrics "{\"metrics_path\": \"$w/metrics\"}" &&
	call PUT /actions '{"action_type": "InstanceStart"}' && wait_for "$w/raw" '^42-ready'; then
	ok "API: configured and started, the guest's command runs"
	if threads_filtered 4; then ok "seccomp, API process: every thread is filtered ($list)"
	else not_ok "seccomp, API process: every thread is filtered" "$list"; fi
	if call PATCH /vm '{"state": "Paused"}' && want=200 && call GET / && grep -q '"state":"Paused"' "$w/reply"; then
		ok "API: paused, GET / says Paused"
	else not_ok "API: pause" "${why:-GET / has no Paused}"; fi
	# A line for the guest while it is paused: it reads it once resumed.
	echo while-paused >&3
	want=204
	call PUT /actions '{"action_type": "FlushMetrics"}'
	exits=$(tail -n 1 "$w/metrics" | sed -n 's/.*"vcpu_exits":{\([^}]*\)}.*/\1/p')
	mmio=$(echo "$exits" | tr ',' '\n' | sed -n 's/^"mmio":\([0-9]*\)$/\1/p')
	if [ "${mmio:-0}" -gt 0 ] && [ "$(grep -c '^got:' "$w/raw")" = 0 ]; then
		ok "API: FlushMetrics while paused: vCPU exits $exits; the paused guest read nothing"
	else not_ok "API: metrics while paused" "${why:-vcpu_exits: $exits; guest output: $(got_line)}"; fi
	if call PATCH /vm '{"state": "Resumed"}'; then ok "API: resumed"; else not_ok "API: resume" "$why"; fi
	reap
	if [ "$rc" = 5 ] && grep -qx 'got:while-paused' "$w/out"; then
		ok "API: the resumed guest reads the line and finishes, kiln exits with its status (5)"
	else not_ok "API: the resumed guest finishes its command" "exit status $rc, guest printed: $(got_line)"; fi
else
	not_ok "API: configure and InstanceStart" "${why:-the command did not start}"
	kill -KILL "$pid" 2> /dev/null
	reap
fi

# A config file: two vCPUs, a drive whose id is its virtio-blk serial, kiln's status the command's.
cat > "$w/vm.json" << EOF
{
  "boot-source": { "kernel_image_path": "$GUEST/$GUEST_KERNEL", "initrd_path": "$GUEST/initrd.img",
                   "boot_args": "console=ttyS0 reboot=k panic=-1 pci=off quiet kiln.run=sh,-c,nproc%3Bcat%20/sys/block/vda/serial%3Becho%3Bexit%203" },
  "drives": [ { "drive_id": "cfgdisk", "path_on_host": "$w/disk", "is_root_device": false, "is_read_only": true } ],
  "machine-config": { "vcpu_count": 2, "mem_size_mib": 256 }
}
EOF
timeout -s KILL "$tmo" "$KILN" --config-file "$w/vm.json" < /dev/null > "$w/raw" 2> "$w/err"
rc=$?
tr -d '\r' < "$w/raw" > "$w/out"
if [ "$rc" = 3 ] && grep -qx 2 "$w/out" && grep -qx cfgdisk "$w/out"; then
	ok "config file: 2 vCPUs, the drive's id as its serial, kiln exits with the command's status (3)"
else not_ok "config file boot" "exit status $rc, printed: $(grep -v '^\[' "$w/out" | head -n 3 | tr '\n' ' ')"; fi

# --- 3. virtio-net: a tap in a network namespace made here ----------------------------------------
#   namespace (the file $w/netns)   kn0 10.0.2.1/24  <-- tap -->  guest eth0 10.0.2.15/24
# kiln and the namespace's nc run inside it.
nsf=$w/netns
: > "$nsf"
if ! unshare --net="$nsf" true 2> "$w/err" || ! nsx tunctl -t kn0 > /dev/null 2>> "$w/err" ||
	! nsx ip link set lo up || ! nsx ip addr add 10.0.2.1/24 dev kn0 || ! nsx ip link set kn0 up; then
	not_ok "a network namespace with the tap kn0" "$(head -n 1 "$w/err")"
else
	SIZE=1048576
	cat > "$w/net.sh" << EOF
ip link set lo up && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up
ping -c 3 -W 10 10.0.2.1 > /dev/null && echo gping=ok
head -c $SIZE /dev/urandom > /tmp/out
echo "out_sha=\$(sha256sum /tmp/out | cut -d' ' -f1)"
nc 10.0.2.1 5001 < /tmp/out
echo "send_rc=\$?"
EOF
	sector_image "$w/net.sh" "$w/net.img"
	nsx nc -l -p 5001 -e sh -c "cat > $w/fromguest" &
	ncpid=$!
	run_in="nsenter --net=$nsf" boot --disk "$w/net.img,ro" --net tap=kn0 -- sh /dev/vda
	run_in=
	kill "$ncpid" 2> /dev/null
	ncpid=
	if [ "$rc" = 0 ] && [ "$(value gping)" = ok ]; then ok "virtio-net: the guest pings the namespace's side of the tap"
	else not_ok "virtio-net: the guest pings the tap" "status $rc, $(grep -E '^(gping|send_rc)' "$w/out" | tr '\n' ' ')"; fi
	got=$(sha "$w/fromguest" 2> /dev/null)
	if [ "$(value send_rc)" = 0 ] && [ "$got" = "$(value out_sha)" ] && [ "$(wc -c < "$w/fromguest")" = $SIZE ]; then
		ok "virtio-net: 1 MiB from the guest over TCP arrives whole, sha256 matches"
	else not_ok "virtio-net: 1 MiB from the guest over TCP" "send_rc $(value send_rc), $(wc -c < "$w/fromguest" 2> /dev/null) bytes"; fi
fi
if drop_namespace && [ -z "$nsf" ]; then ok "the network namespace is deleted"
else not_ok "the network namespace is deleted" "umount $nsf failed"; fi

finish
