#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/snapshot.sh — the snapshot rows of `make bench`: a guest that counts on its console is saved
# and brought back in a new process by kiln and by QEMU's microvm, in turn (kiln, QEMU, kiln, ...),
# for each guest RAM size:
#   kiln: `kiln run --api-sock S`; PATCH /vm Paused, then PUT /snapshot/create (state + memory file);
#         the process killed; `kiln restore DIR`.
#   QEMU: `-qmp unix:S`; stop, then migrate "exec:cat > FILE" (QEMU 7.2 has no file: URI); the process
#         killed; a new QEMU with `-incoming defer`: migrate-incoming "exec:cat FILE", then cont.
# Both are timed from outside by the same tools: bench/tools/sockchat (pause, create) and
# bench/tools/stopwatch (exec -> first whole "count" line of the restored guest). Runs on this machine
# for the tiny guest (bench/tiny/count.S) and in the KVM test host for the Linux guest
# (bench/guest/count.sh in the bench initramfs). Prints, as bench/linux.sh does,
#   SAMPLE <figure> <kiln|qemu> <value>     and     NOTE <text>
# Nothing here judges a figure.
#
# Environment (paths where it runs):
#   KILN STOPWATCH SOCKCHAT QEMU  the monitors and the tools
#   QEMU_MACHINE QEMU_FW          QEMU's -M value; its firmware directory (-L), or empty for its own
#   QEMU_CPU PROBE                QEMU's -cpu value; when empty, probed with PROBE (bench/tiny/ready.elf)
#   KERNEL INITRD                 a tiny ELF and no INITRD, or a Linux kernel and the bench initramfs
#   PREFIX SIZES RUNS             the figures' prefix (snap-tiny, snap-linux); guest RAM sizes, MiB;
#                                 snapshots per size and monitor (each restored once)
#   LIMIT_MS                      per boot, per snapshot and per restore
#   WORK                          a directory for the snapshots (absolute: the monitors get its paths)
# Command lines are built as words on purpose (paths here have no spaces): SC2046, SC2086.
# shellcheck disable=SC2046,SC2086
set -u

: "${QEMU_CPU:=}" "${QEMU_FW:=}" "${INITRD:=}" "${RUNS:=1}" "${LIMIT_MS:=180000}"
w=$WORK
mkdir -p "$w" || exit 1
AFTER=20	# the count the guest reaches before its snapshot: its loop runs
if [ -n "$INITRD" ]; then GUEST_CMD="sh /bench/count.sh"; else GUEST_CMD=""; fi
CMDLINE=""	# the Linux guest's under kiln, without kiln.run= (QEMU gets the same)

failed_runs=0
note() { echo "NOTE $*"; }
say() { echo "bench/snapshot.sh: $*" >&2; }
# failed WHAT FILE: a run went wrong; the end of FILE (its output) goes to the log.
failed() { failed_runs=$((failed_runs + 1)); say "$1 failed; its output:"; tail -n 20 "$2" >&2; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# mib_label MIB: "128 MiB", "4 GiB".
mib_label() { if [ $(($1 % 1024)) = 0 ]; then echo "$(($1 / 1024)) GiB"; else echo "$1 MiB"; fi; }

# --- the monitors' command lines ------------------------------------------------------------------
# run_kiln MIB ARGS... and run_qemu MIB ARGS...: the guest under each monitor with MIB of RAM, one
# vCPU, ARGS added; the command is prefixed with $RUNNER (exec, or a stopwatch). QEMU's machine and
# devices are the boot rows' (bench/linux.sh); the Linux guest gets kiln's command line.
run_kiln() {
	mib=$1
	shift
	if [ -n "$INITRD" ]; then
		$RUNNER "$KILN" run --kernel "$KERNEL" --initrd "$INITRD" --cpus 1 --mem ${mib}M "$@" -- $GUEST_CMD
	else
		$RUNNER "$KILN" run --kernel "$KERNEL" --cpus 1 --mem ${mib}M "$@"
	fi
}
qemu_base() {
	echo "$QEMU ${QEMU_FW:+-L $QEMU_FW} -M $QEMU_MACHINE -enable-kvm -cpu $QEMU_CPU -smp 1 -m $1" \
		"-nodefaults -no-user-config -nographic -no-reboot -serial stdio" \
		"-device isa-debug-exit,iobase=0xf4,iosize=1"
}
run_qemu() {
	mib=$1
	shift
	if [ -n "$INITRD" ]; then
		$RUNNER $(qemu_base $mib) -kernel "$KERNEL" -initrd "$INITRD" \
			-append "$CMDLINE kiln.run=$(echo $GUEST_CMD | tr ' ' ',')" "$@"
	else
		$RUNNER $(qemu_base $mib) -kernel "$KERNEL" "$@"
	fi
}

if [ -z "$QEMU_CPU" ]; then
	# `host`, unless this KVM refuses it (PVM refuses MSR 0x10a, ARCH_CAPABILITIES).
	for QEMU_CPU in host host,-arch-capabilities; do
		r=$($STOPWATCH -m READY -t 60000 -- $(qemu_base 128) -kernel "$PROBE")
		[ "$(field status "$r")" = 1 ] && [ "$(field m1_ms "$r")" != NA ] && break
	done
	[ "$(field m1_ms "$r")" != NA ] || { say "QEMU does not boot the tiny guest here: $r"; exit 1; }
fi

# --- the control sockets' requests (sent by sockchat, which expands \r and \n) ---------------------
http() {
	printf '%s %s HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\n' "$1" "$2"
	printf 'Content-Length: %s\\r\\n\\r\\n%s' "${#3}" "$3"
}
qmp() { printf '{"execute": "%s"%s}' "$1" "${2:+, \"arguments\": $2}"; }
# QMP's greeting, then MIGRATION events on (they say when a migration completed).
QMP_OPEN='<"QMP"'
QMP_CAPS=$(qmp qmp_capabilities)
QMP_EVENTS=$(qmp migrate-set-capabilities '{"capabilities": [{"capability": "events", "state": true}]}')
# No bandwidth limit on the save, as libvirt's `virsh save` sets: QEMU's default (128 MiB/s) paces a
# migration meant for a network.
QMP_SPEED=$(qmp migrate-set-parameters '{"max-bandwidth": 1099511627776}')

# counts FILE: the numbers of the whole "count N" lines in FILE (END after it spoils a last line that
# has no newline: the monitor was killed in the middle of it).
counts() { { cat "$1"; echo END; } | tr -d '\r' | sed -n 's/^count \([0-9][0-9]*\)$/\1/p'; }

# wait_count PID FILE: until the guest's output in FILE shows count $AFTER (0), or PID ended or the
# time ran out (1).
wait_count() {
	end=$(($(date +%s) + LIMIT_MS / 1000))
	while ! grep -q "^count $AFTER" "$2"; do
		kill -0 "$1" 2>/dev/null && [ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# snapshot SIDE MIB DIR: boots the guest, snapshots it into DIR once it counts, kills the monitor;
# sets pause_ms and create_ms; 1 when it failed.
snapshot() {
	side=$1 mib=$2 dir=$3
	rm -f "$w/api" "$w/qmp"
	if [ $side = kiln ]; then
		RUNNER='exec' run_kiln $mib --api-sock "$w/api" < /dev/null > "$w/boot.out" 2>&1 &
	else
		RUNNER='exec' run_qemu $mib -qmp unix:$w/qmp,server=on,wait=off < /dev/null > "$w/boot.out" 2>&1 &
	fi
	pid=$!
	if ! wait_count $pid "$w/boot.out"; then
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		failed "$PREFIX $mib MiB $side: boot to count $AFTER" "$w/boot.out"
		return 1
	fi
	if [ $side = kiln ]; then
		body="{\"snapshot_type\": \"Full\", \"snapshot_path\": \"$dir/state\", \"mem_file_path\": \"$dir/mem\"}"
		r=$($SOCKCHAT -u "$w/api" -t $LIMIT_MS -f 'HTTP/1.1 4' -f 'HTTP/1.1 5' -o "$w/chat.out" -- \
			">$(http PATCH /vm '{"state": "Paused"}')" '<HTTP/1.1 204' \
			">$(http PUT /snapshot/create "$body")" '<HTTP/1.1 204')
		pause_ms=$(field w1_ms "$r") create_ms=$(field w2_ms "$r")
	else
		r=$($SOCKCHAT -u "$w/qmp" -t $LIMIT_MS -f '"error"' -f '"failed"' -o "$w/chat.out" -- \
			"$QMP_OPEN" ">$QMP_CAPS" '<"return"' ">$QMP_EVENTS" '<"return"' ">$QMP_SPEED" '<"return"' \
			">$(qmp stop)" '<"return"' \
			">$(qmp migrate "{\"uri\": \"exec:cat > $dir/vm\"}")" '<"completed"')
		pause_ms=$(field w5_ms "$r") create_ms=$(field w6_ms "$r")
	fi
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	say "$PREFIX $mib MiB $side: snapshot: $r"
	if [ "$(field status "$r")" != ok ]; then
		cat "$w/chat.out" >> "$w/boot.out"
		failed "$PREFIX $mib MiB $side: snapshot" "$w/boot.out"
		return 1
	fi
}

# restore SIDE MIB DIR: the stopwatch line of a restore from DIR, killed at its first count line.
restore() {
	side=$1 mib=$2 dir=$3
	sw="$STOPWATCH -m count -s -k -t $LIMIT_MS -o $w/restore.out --"
	if [ $side = kiln ]; then
		$sw "$KILN" restore "$dir"
		return
	fi
	rm -f "$w/qmp" "$w/qemu.pid"
	RUNNER=$sw run_qemu $mib -qmp unix:$w/qmp,server=on,wait=off -pidfile "$w/qemu.pid" \
		-incoming defer > "$w/restore.line" &
	swpid=$!
	# The client QEMU's restore needs, started with it (connects as soon as the socket exists). It
	# waits for cont's answer (a client that leaves at once may have its cont dropped); the stopwatch
	# may kill QEMU at the first count line before that answer arrives (status=closed).
	r=$($SOCKCHAT -u "$w/qmp" -t $LIMIT_MS -f '"error"' -f '"failed"' -o "$w/chat.out" -- \
		"$QMP_OPEN" ">$QMP_CAPS" '<"return"' ">$QMP_EVENTS" '<"return"' \
		">$(qmp migrate-incoming "{\"uri\": \"exec:cat $dir/vm\"}")" '<"completed"' \
		">$(qmp cont)" '<"return"')
	say "$PREFIX $mib MiB qemu: restore's QMP: $r"
	case $(field status "$r") in
	ok | closed) ;;
	*) kill -9 "$(cat "$w/qemu.pid" 2>/dev/null)" 2>/dev/null ;;
	esac
	wait $swpid
	cat "$w/restore.line"
}

# one SIDE MIB RUN: one snapshot and its restore; prints its SAMPLE lines.
one() {
	side=$1 mib=$2 run=$3 dir=$w/snap
	rm -rf "$dir" && mkdir -p "$dir" || return
	if [ -n "$INITRD" ] && [ $side = qemu ] && [ -z "$CMDLINE" ]; then
		failed_runs=$((failed_runs + 1))
		say "$PREFIX $mib MiB qemu: not run: no kiln boot has shown the guest's command line yet"
		return
	fi
	snapshot $side $mib "$dir"
	ok=$?
	[ -n "$INITRD" ] && [ -z "$CMDLINE" ] && [ $side = kiln ] &&
		CMDLINE=$(tr -d '\r' < "$w/boot.out" | sed -n 's/^CMDLINE \(.*\) kiln\.run=.*$/\1/p' | head -n 1)
	[ $ok = 0 ] || return
	last=$(counts "$w/boot.out" | tail -n 1)
	echo "SAMPLE $PREFIX.pause_ms $side $pause_ms"
	echo "SAMPLE $PREFIX.$mib.create_ms $side $create_ms"
	if [ $side = kiln ]; then
		echo "SAMPLE $PREFIX.state_kib $side $(awk -v b="$(wc -c < "$dir/state")" 'BEGIN { printf "%.2f", b / 1024 }')"
		files="$dir/state $dir/mem"
	else
		files=$dir/vm
	fi
	kib=$(du -k $files | awk '{ s += $1 } END { print s }')
	say "$PREFIX $mib MiB $side $run: KiB on disk (du): $(du -k $files | tr '\t\n' '= ')bytes:" \
		"$(stat -c '%n=%s' $files | tr '\n' ' ')"
	echo "SAMPLE $PREFIX.$mib.disk_mib $side $(awk -v k="$kib" 'BEGIN { printf "%.3f", k / 1024 }')"

	r=$(restore $side $mib "$dir")
	say "$PREFIX $mib MiB $side $run: restore: $r"
	# The restored guest goes on from its snapshot: its first whole line is the next count, or the one
	# after it when the snapshot caught a line half-written.
	first=$(counts "$w/restore.out" | head -n 1)
	if [ "$(field m1_ms "$r")" = NA ] || [ -z "$first" ] || [ "$first" -le "${last:-0}" ] ||
		[ "$first" -gt "$((${last:-0} + 2))" ]; then
		failed "$PREFIX $mib MiB $side: restore (count ${last:-none} before, ${first:-none} after)" "$w/restore.out"
	else
		echo "SAMPLE $PREFIX.$mib.restore_ms $side $(field m1_ms "$r")"
		echo "SAMPLE $PREFIX.$mib.restore_rss_mib $side $(awk -v k="$(field rss_kb "$r")" 'BEGIN { printf "%.2f", k / 1024 }')"
	fi
	rm -rf "$dir"
}

for mib in $SIZES; do
	i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		for side in kiln qemu; do one $side $mib $i; done
	done
done
note "$PREFIX: QEMU -cpu $QEMU_CPU; guest RAM $(for m in $SIZES; do printf '%s, ' "$(mib_label $m)"; done | sed 's/, $//');" \
	"QEMU saves with stop + migrate exec:cat (max-bandwidth unlimited), restores with -incoming defer," \
	"migrate-incoming exec:cat, cont (bench/README.md)"
rm -rf "$w"
if [ $failed_runs != 0 ]; then
	note "FAILED RUNS ($PREFIX): $failed_runs snapshot(s) or restore(s) failed (their rows have fewer samples; the log has their output)"
	exit 3
fi
exit 0
