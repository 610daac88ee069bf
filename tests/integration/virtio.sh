#!/bin/sh
# shellcheck disable=SC2016 # guest commands are single-quoted: the guest shell expands them
# tests/integration/virtio.sh — kiln's virtio-blk, virtio-console and virtio-rng seen from a Linux
# guest (tests/guest). Runs under busybox sh inside the KVM test host (tests/host/run.sh), or directly
# on a machine with hardware KVM. Every check is made here, on the host side, after kiln has exited:
# on the disk image files and on what the guest printed.
#
# env: KILN              the kiln binary
#      GUEST             directory with vmlinuz and initrd.img
#      MKFS_EXT4         mkfs.ext4 (e2fsprogs: the test host has busybox only, so it is copied in)
#      E2FSCK            e2fsck
#      DEBUGFS           debugfs (optional: reads a file back out of an ext4 image on the host side)
#      KILN_TEST_TIMEOUT seconds one boot may take (default 300)
# Prints `ok - NAME` or `not ok - NAME (detail)` per test, `# measure: ...` lines for the disk
# figures, then `N passed, M failed`; exits 1 if any test failed.
# SPDX-License-Identifier: Apache-2.0

: "${KILN:?KILN=path/to/kiln}" "${GUEST:?GUEST=dir with vmlinuz and initrd.img}"
: "${MKFS_EXT4:?MKFS_EXT4=path/to/mkfs.ext4}" "${E2FSCK:?E2FSCK=path/to/e2fsck}"
. "$(dirname "$0")/lib.sh"
MiB=1048576

blocks() { stat -c %b "$1"; }				# allocated 512-byte blocks of a file
# mkfs IMAGE SIZE_MIB [DIR]: a fresh ext4 image, populated from DIR if given.
mkfs() {
	rm -f "$1" && truncate -s $(($2 * MiB)) "$1" || return 1
	"$MKFS_EXT4" -q -F -t ext4 ${3:+-d "$3"} "$1" > "$w/mkfs.log" 2>&1 && return 0
	sed 's/^/#   mkfs.ext4: /' "$w/mkfs.log"
	return 1
}
# fsck NAME IMAGE: e2fsck -fn; 0 when clean, else prints its report under NAME's failure.
fsck_clean() {
	"$E2FSCK" -fn "$1" > "$w/fsck.log" 2>&1 && return 0
	sed 's/^/#   e2fsck: /' "$w/fsck.log" | tail -n 20
	return 1
}

require_kvm "$KILN" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$MKFS_EXT4" "$E2FSCK"
MNT='mkdir -p /mnt && mount -t ext4'	# the guest's initramfs has no /mnt

# --- 1. the guest reads a file out of an ext4 image made here ------------------------------------
# An odd size: the last block is partial, and the file spans many multi-segment requests.
mkdir "$w/tree" && head -c 3000017 /dev/urandom > "$w/tree/rand.bin"
want=$(sha "$w/tree/rand.bin")
if ! mkfs "$w/t1.img" 64 "$w/tree"; then
	not_ok "ext4 image: the guest reads a file's sha256" "mkfs.ext4 -d failed"
else
	boot --disk "$w/t1.img" -- sh -c "$MNT /dev/vda /mnt && sha256sum /mnt/rand.bin"
	got=$(guest_sha /mnt/rand.bin)
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "ext4 image: the guest reads rand.bin (3000017 bytes), sha256 matches"
	else not_ok "ext4 image: the guest reads a file's sha256" "status $rc, guest ${got:-printed none}, host $want"; fi
fi
rm -rf "$w/t1.img" "$w/tree"

# --- 2. the guest writes 64 MiB ------------------------------------------------------------------
# Source: 64 MiB of random bytes made here, given as a read-only raw disk (/dev/vda).
head -c $((64 * MiB)) /dev/urandom > "$w/src.raw"
src_sha=$(sha "$w/src.raw")

# 2a. raw: dd onto a 72 MiB raw disk with conv=fsync (a FLUSH); the 8 MiB tail must stay zero.
truncate -s $((72 * MiB)) "$w/dst.raw"
boot --disk "$w/src.raw,ro" --disk "$w/dst.raw" -- dd if=/dev/vda of=/dev/vdb bs=1M count=64 conv=fsync
got=$(head -c $((64 * MiB)) "$w/dst.raw" | sha_stdin)
tail_ok=no
[ "$(tail -c $((8 * MiB)) "$w/dst.raw" | sha_stdin)" = "$(zeros_sha $((8 * MiB)))" ] && tail_ok=yes
size=$(stat -c %s "$w/dst.raw")
if [ "$rc" = 0 ] && [ "$got" = "$src_sha" ] && [ $tail_ok = yes ] && [ "$size" = $((72 * MiB)) ]; then
	ok "raw write: 64 MiB written by the guest (dd conv=fsync) are on the host file, byte for byte"
else not_ok "raw write: 64 MiB written by the guest are on the host file" \
	"status $rc, sha256 matches: $([ "$got" = "$src_sha" ] && echo yes || echo no), tail still zero: $tail_ok, size $size"; fi
rm -f "$w/dst.raw"

# 2c. Two more exit paths, 4 MiB each: a write the guest never syncs itself (kiln's init syncs before
# it reports the status), and a flushed write followed by a guest kernel panic (status 124).
head -c $((4 * MiB)) "$w/src.raw" > "$w/src4.raw"
src4_sha=$(sha "$w/src4.raw")
for path in "no sync in the command, exit 0" "conv=fsync, then a kernel panic"; do
	truncate -s $((4 * MiB)) "$w/dst4.raw"
	case $path in
	no*) want_rc=0
		boot --disk "$w/src4.raw,ro" --disk "$w/dst4.raw" -- dd if=/dev/vda of=/dev/vdb bs=64k ;;
	*) want_rc=124
		boot --disk "$w/src4.raw,ro" --disk "$w/dst4.raw" -- \
			sh -c 'dd if=/dev/vda of=/dev/vdb bs=64k conv=fsync && echo c > /proc/sysrq-trigger' ;;
	esac
	got=$(sha "$w/dst4.raw")
	if [ "$rc" = $want_rc ] && [ "$got" = "$src4_sha" ]; then ok "raw write, $path: the 4 MiB are on the host file (status $rc)"
	else not_ok "raw write, $path" "status $rc (want $want_rc), bytes match: $([ "$got" = "$src4_sha" ] && echo yes || echo no)"; fi
done
rm -f "$w/src4.raw" "$w/dst4.raw"

# 2b. ext4: copy the same bytes into a file on a fresh ext4 image (which also holds keep.bin, used by
# test 5), umount; e2fsck -fn must find the image clean, and debugfs reads the bytes back.
mkdir "$w/tree" && head -c $MiB /dev/urandom > "$w/tree/keep.bin"
keep_sha=$(sha "$w/tree/keep.bin")
ext4_written=no
if ! mkfs "$w/fs.img" 128 "$w/tree"; then
	not_ok "ext4 write: 64 MiB file, e2fsck -fn clean" "mkfs.ext4 failed"
else
	boot --disk "$w/src.raw,ro" --disk "$w/fs.img" -- \
		sh -c "$MNT /dev/vdb /mnt && dd if=/dev/vda of=/mnt/big bs=1M count=64 && umount /mnt"
	detail="status $rc"
	good=no
	if [ "$rc" = 0 ] && fsck_clean "$w/fs.img"; then
		good=yes ext4_written=yes
		if [ -n "${DEBUGFS:-}" ]; then
			"$DEBUGFS" -R "dump /big $w/big.out" "$w/fs.img" > /dev/null 2>&1
			got=$(sha "$w/big.out" 2>/dev/null)
			rm -f "$w/big.out"
			[ "$got" = "$src_sha" ] || { good=no detail="/big read back by debugfs: sha256 ${got:-none}, want $src_sha"; }
		fi
	elif [ "$rc" = 0 ]; then detail="e2fsck -fn reports errors"; fi
	if [ $good = yes ]; then
		ok "ext4 write: the guest writes a 64 MiB file and umounts; e2fsck -fn clean$([ -n "${DEBUGFS:-}" ] && echo "; debugfs reads the same bytes back")"
		[ -z "${DEBUGFS:-}" ] && note "DEBUGFS not set: the file's bytes were not read back on the host side"
	else not_ok "ext4 write: 64 MiB file, e2fsck -fn clean" "$detail"; fi
fi
rm -rf "$w/tree"

# --- 3. a ro disk refuses writes ---------------------------------------------------------------
# The guest sees it read-only, a dd write fails, also after `blockdev --setrw` (which clears only
# the block device's own flag, not the disk's), and the host file is unchanged.
head -c $((4 * MiB)) /dev/urandom > "$w/ro.img"
before=$(sha "$w/ro.img")
boot --disk "$w/ro.img,ro" -- sh -c '
	echo "getro=$(blockdev --getro /dev/vda)"
	dd if=/dev/zero of=/dev/vda bs=4k count=1 conv=fsync 2>/dev/null && echo write1=done || echo write1=refused
	blockdev --setrw /dev/vda 2>/dev/null
	dd if=/dev/zero of=/dev/vda bs=4k count=1 conv=fsync 2>/dev/null && echo write2=done || echo write2=refused
	echo "read=$(head -c 4194304 /dev/vda | sha256sum | cut -d" " -f1)"'
after=$(sha "$w/ro.img")
getro=$(sed -n 's/^getro=//p' "$w/out")
w1=$(sed -n 's/^write1=//p' "$w/out") w2=$(sed -n 's/^write2=//p' "$w/out")
read_sha=$(sed -n 's/^read=//p' "$w/out")
if [ "$rc" = 0 ] && [ "$getro" = 1 ] && [ "$w1" = refused ] && [ "$w2" = refused ] &&
	[ "$after" = "$before" ] && [ "$read_sha" = "$before" ]; then
	ok "ro disk: blockdev --getro is 1, writes are refused (also after --setrw), the host file is unchanged"
else not_ok "ro disk refuses writes" \
	"status $rc, getro=$getro write1=$w1 write2=$w2, host file unchanged: $([ "$after" = "$before" ] && echo yes || echo no), guest reads it intact: $([ "$read_sha" = "$before" ] && echo yes || echo no)"; fi
rm -f "$w/ro.img"

# --- 4. several disks at once, with sizes and serials ----------------------------------------------
# vda 8 MiB serial ABC; vdb 24 MiB with a serial of exactly 20 bytes (GET_ID's size: no NUL);
# vdc 1 MiB + 512 bytes (2049 sectors), no serial.
serial20=kiln-serial-20bytes
truncate -s $((8 * MiB)) "$w/a.img"
truncate -s $((24 * MiB)) "$w/b.img"
truncate -s $((MiB + 512)) "$w/c.img"
boot --disk "$w/a.img,serial=ABC" --disk "$w/b.img,serial=$serial20" --disk "$w/c.img" -- sh -c '
	for d in /sys/block/vd*; do
		n=${d##*/}
		if [ -e $d/serial ]; then s="[$(cat $d/serial)]"; else s=none; fi
		echo "disk $n size=$(cat $d/size) serial=$s"
	done'
disks=$(grep '^disk ' "$w/out" | tr '\n' ';')
if grep -q '^disk vda .* serial=none$' "$w/out"; then
	want="disk vda size=16384;disk vdb size=49152;disk vdc size=2049;"
	got=$(grep '^disk ' "$w/out" | sed 's/ serial=.*//' | tr '\n' ';')
	serials="not checked: the guest kernel has no /sys/block/vd*/serial"
else
	want="disk vda size=16384 serial=[ABC];disk vdb size=49152 serial=[$serial20];disk vdc size=2049 serial=[];"
	got=$disks
	serials="serials ABC, $serial20 (20 bytes) and none"
fi
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	ok "three disks: vda, vdb, vdc in --disk order with sizes 16384, 49152, 2049 sectors; $serials"
else not_ok "three disks with sizes and serials" "status $rc, guest saw: ${disks:-no disks}"; fi
rm -f "$w/a.img" "$w/b.img" "$w/c.img"

# --- 5. fstrim punches holes in the host file --------------------------------------------------------
# The image of 2b holds /big (64 MiB) and /keep.bin: the guest deletes /big and runs fstrim; the host
# file's allocated blocks must drop by about 64 MiB, the image stay clean, keep.bin stay intact.
# The `sync` matters: ext4 gives deleted blocks back to its free-space map only when the journal
# commits, and FITRIM trims only what is free in that map.
if [ $ext4_written = no ]; then
	not_ok "fstrim punches holes" "not run: the ext4 write test failed"
else
	b1=$(blocks "$w/fs.img")
	boot --disk "$w/fs.img" -- sh -c "$MNT /dev/vda /mnt && rm /mnt/big && sync && fstrim -v /mnt && umount /mnt &&
		mount -t ext4 /dev/vda /mnt && sha256sum /mnt/keep.bin && umount /mnt"
	b2=$(blocks "$w/fs.img")
	trimmed=$(grep -o '[0-9]* bytes trimmed' "$w/out" | head -n 1)
	drop=$((b1 - b2))
	clean=no
	fsck_clean "$w/fs.img" && clean=yes
	got=$(guest_sha /mnt/keep.bin)
	# At least 60 of the 64 MiB freed come back to the host as holes.
	if [ "$rc" = 0 ] && [ "$drop" -ge $((60 * 2048)) ] && [ $clean = yes ] && [ "$got" = "$keep_sha" ]; then
		ok "fstrim: host file's allocated blocks $b1 -> $b2 (-$((drop / 2048)) MiB); e2fsck clean; keep.bin intact"
		note "guest fstrim -v: ${trimmed:-no count printed}"
	else not_ok "fstrim punches holes" \
		"status $rc, blocks $b1 -> $b2, fstrim: ${trimmed:-none}, e2fsck clean: $clean, keep.bin intact: $([ "$got" = "$keep_sha" ] && echo yes || echo no)"; fi
fi
rm -f "$w/fs.img" "$w/src.raw"

# --- 6. hvc0 console round trip ---------------------------------------------------------------
# --console virtio: the guest's console (stdin and stdout of its command) is hvc0, fed from kiln's
# stdin. The guest command prints a marker (computed, so that the kernel's echo of its command line
# cannot match it), reads two lines (each with a time limit) and prints them back.
printf 'the quick brown fox, 42 %%s\nsecond line\n' > "$w/in.txt"
want='got:the quick brown fox, 42 %s|second line'

# 6a. Interactive, as a person at a terminal: kiln's stdin is a FIFO; the lines go in only after the
# guest's marker has come out on kiln's stdout.
rm -f "$w/fifo" && mkfifo "$w/fifo"
start=$(date +%s)
timeout -s KILL "$tmo" "$KILN" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
	--console virtio -- sh -c "$(console_cmd 60)" < "$w/fifo" > "$w/raw" 2> "$w/err" &
kpid=$!
exec 3> "$w/fifo"	# opens when kiln's shell has opened the read end
seen=no
while [ $(($(date +%s) - start)) -lt "$tmo" ] && kill -0 $kpid 2> /dev/null; do
	if tr -d '\r' < "$w/raw" | grep -qx '42-ready'; then seen=yes; break; fi
	sleep 1
done
[ $seen = yes ] && (cat "$w/in.txt" >&3) 2> /dev/null	# a subshell: SIGPIPE, if kiln is gone, ends only it
exec 3>&-
wait $kpid
rc=$?
secs=$(($(date +%s) - start))
[ "$secs" -ge "$tmo" ] && rc=timeout
shown=
tr -d '\r' < "$w/raw" > "$w/out"
if [ "$rc" = 0 ] && grep -qxF "$want" "$w/out"; then
	ok "hvc0 round trip: two lines typed after the guest's prompt come back on kiln's stdout"
else not_ok "hvc0 round trip (input after the guest's prompt)" \
	"status $rc, marker seen: $seen, guest printed: $(got_line)"; fi

# 6b, 6c. Input that is waiting before the guest runs: in a pipe, and in a regular file. kiln offers
# MULTIPORT and sends input only after the guest's PORT_OPEN (Linux drops what reaches a port it has
# not opened), and reads a stdin that epoll refuses (a regular file) whenever the guest has buffers.
# (A FIFO rather than `cat | boot`: a pipeline would run boot in a subshell and lose $rc.)
rm -f "$w/fifo" && mkfifo "$w/fifo"
(cat "$w/in.txt" > "$w/fifo") 2> /dev/null &
stdin=$w/fifo boot --console virtio -- sh -c "$(console_cmd 20)"
wait
if [ "$rc" = 0 ] && grep -qxF "$want" "$w/out"; then ok "hvc0: input already waiting in a pipe reaches the guest"
else not_ok "hvc0: input already waiting in a pipe reaches the guest" "status $rc, guest printed: $(got_line)"; fi

stdin=$w/in.txt boot --console virtio -- sh -c "$(console_cmd 20)"
if [ "$rc" = 0 ] && grep -qxF "$want" "$w/out"; then ok "hvc0: input from a regular file reaches the guest"
else not_ok "hvc0: input from a regular file reaches the guest" "status $rc, guest printed: $(got_line)"; fi

# --- 7. 1 MiB from /dev/hwrng ------------------------------------------------------------------
# The count, not all zeros, and incompressible (gzip cannot shrink random bytes).
boot --rng -- sh -c 'head -c 1048576 /dev/hwrng > /tmp/r; echo "rng count=$(wc -c < /tmp/r)"
	echo "rng sha=$(sha256sum /tmp/r | cut -d" " -f1)"; echo "rng gz=$(gzip -c /tmp/r | wc -c)"
	echo "rng src=$(cat /sys/class/misc/hw_random/rng_current)"'
count=$(sed -n 's/^rng count=//p' "$w/out")
rsha=$(sed -n 's/^rng sha=//p' "$w/out")
gz=$(sed -n 's/^rng gz=//p' "$w/out")
src=$(sed -n 's/^rng src=//p' "$w/out")
if [ "$rc" = 0 ] && [ "$count" = 1048576 ] && [ -n "$rsha" ] && [ "$rsha" != "$(zeros_sha $MiB)" ] &&
	[ "${gz:-0}" -ge 1048576 ]; then
	ok "/dev/hwrng ($src): 1048576 bytes, not zeros, gzip cannot shrink them ($gz bytes)"
else not_ok "1 MiB from /dev/hwrng" "status $rc, source ${src:-?}, count ${count:-none}, gzip ${gz:-?} bytes, all zeros: $([ "$rsha" = "$(zeros_sha $MiB)" ] && echo yes || echo no)"; fi

# --- 8. measure: sequential MB/s and 4 KiB read IOPS, guest vs host ------------------------------
# Guest: O_DIRECT dd on /dev/vdb (a 128 MiB raw file here; vda is a small disk that takes the first
# name), timed with /proc/uptime (10 ms). "IOPS" is sequential 4 KiB O_DIRECT reads at queue depth 1,
# one request each: busybox has no fio, and a dd per random offset would time fork+exec, not I/O.
# Host: the same dd on the image file in this host. Only ratios mean anything (see tests/host/README).
sz=128 n4k=8192
truncate -s $MiB "$w/m0.img"
# Allocated up front, so that guest and host both overwrite existing pages (no first-touch cost).
dd if=/dev/zero of="$w/m1.img" bs=1M count=$sz 2> /dev/null
boot --disk "$w/m0.img" --disk "$w/m1.img" -- sh -c "u() { echo \"T\$1 \$(cut -d' ' -f1 /proc/uptime)\"; }
	u 0; dd if=/dev/zero of=/dev/vdb bs=1M count=$sz oflag=direct 2>/dev/null
	u 1; dd if=/dev/vdb of=/dev/null bs=1M count=$sz iflag=direct 2>/dev/null
	u 2; dd if=/dev/vdb of=/dev/null bs=4k count=$n4k iflag=direct 2>/dev/null; u 3"
t() { sed -n "s/^T$1 //p" "$w/out" | head -n 1; }
g0=$(t 0) g1=$(t 1) g2=$(t 2) g3=$(t 3)
# host_dd WHAT: times the host-side dd (WHAT = write, read or 4k) on $w/m1.img, repeated $reps times
# so that the 10 ms clock can see it; prints seconds per run. O_DIRECT where the filesystem takes it.
host_flag=direct
dd if="$w/m1.img" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || host_flag=
uptime_s() { cut -d' ' -f1 /proc/uptime; }
host_dd() {
	a=$(uptime_s)
	i=0
	while [ $i -lt $reps ]; do
		case $1 in
		write) dd if=/dev/zero of="$w/m1.img" bs=1M count=$sz conv=notrunc,fsync ${host_flag:+oflag=direct} 2>/dev/null ;;
		read) dd if="$w/m1.img" of=/dev/null bs=1M count=$sz ${host_flag:+iflag=direct} 2>/dev/null ;;
		4k) dd if="$w/m1.img" of=/dev/null bs=4k count=$n4k ${host_flag:+iflag=direct} 2>/dev/null ;;
		esac
		i=$((i + 1))
	done
	b=$(uptime_s)
	awk -v a="$a" -v b="$b" -v r="$reps" 'BEGIN { printf "%.4f", (b - a) / r }'
}
reps=10
h_w=$(host_dd write) h_r=$(host_dd read) h_4k=$(host_dd 4k)
if [ "$rc" = 0 ] && [ -n "$g0" ] && [ -n "$g3" ]; then
	awk -v g0="$g0" -v g1="$g1" -v g2="$g2" -v g3="$g3" -v hw="$h_w" -v hr="$h_r" -v h4="$h_4k" \
		-v sz="$sz" -v n="$n4k" -v flag="${host_flag:-buffered: this filesystem refuses O_DIRECT}" '
	function rate(x, s) { return s > 0 ? x / s : 0 }
	function ratio(g, h) { return h > 0 ? sprintf("%.3f", g / h) : "n/a" }
	BEGIN {
		gw = rate(sz * 1.048576, g1 - g0); gr = rate(sz * 1.048576, g2 - g1); gi = rate(n, g3 - g2)
		w = rate(sz * 1.048576, hw); r = rate(sz * 1.048576, hr); i = rate(n, h4)
		printf "# measure: guest /dev/vdb O_DIRECT: seq write %.1f MB/s, seq read %.1f MB/s, 4 KiB read %.0f IOPS (sequential, QD1)\n", gw, gr, gi
		printf "# measure: host file (%s): seq write %.1f MB/s, seq read %.1f MB/s, 4 KiB read %.0f IOPS\n", flag, w, r, i
		printf "# measure: guest/host ratios: write %s, read %s, 4 KiB IOPS %s\n", ratio(gw, w), ratio(gr, r), ratio(gi, i)
	}'
	ok "measure: guest and host disk figures printed above (${sz} MiB bs=1M, $n4k x 4 KiB)"
else not_ok "measure: guest dd on /dev/vdb" "status $rc, timestamps: ${g0:-?} ${g1:-?} ${g2:-?} ${g3:-?}"; fi
rm -f "$w/m0.img" "$w/m1.img"

finish
