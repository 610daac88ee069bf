#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest/debian-image.sh OUTDIR — the Debian row's guest (bench/debian.sh): a stock Debian 12
# made by Debian's mmdebstrap, written to a raw ext4 disk image with no partition table (root=/dev/vda):
#   OUTDIR/disk.img     the root file system: minbase + systemd (as init), udev, e2fsprogs,
#                       initramfs-tools and Debian's cloud kernel (virtio-blk and virtio-mmio built in),
#                       with their Recommends; /etc/fstab, a host name and kiln-bench.service
#                       (debian-marker.service: after multi-user.target, prints KILN-BENCH-MULTI-USER
#                       and the failed units on the console, then `systemctl poweroff`)
#   OUTDIR/vmlinuz      the kernel and the initramfs initramfs-tools made inside the image (its
#   OUTDIR/initrd.img   /boot), given to the monitors as --kernel / --initrd
#   OUTDIR/image.txt    what was built: kernel release, package count, sizes, build time
# Built once: OUTDIR/.key holds a hash of this script's code (its comment lines left out), the unit,
# the marker script and the package list; a matching key means there is nothing to do.
# Documentation, manual pages and translations are left out (dpkg path-exclude): the boot does not
# read them. Needs root (mmdebstrap's root mode: chroot and mounts) and the network (deb.debian.org).
set -euo pipefail

die() { echo "debian-image.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: debian-image.sh OUTDIR"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$1
SUITE=bookworm
PKGS=systemd-sysv,udev,e2fsprogs,initramfs-tools,linux-image-cloud-amd64
EXCLUDES=('/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' '/usr/share/locale/*')

key=$( { echo "$SUITE $PKGS +recommends ${EXCLUDES[*]}"
	cd "$here" && grep -v '^[[:space:]]*#' debian-image.sh && cat debian-marker.service debian-marker.sh; } |
	sha256sum | cut -c1-16)
done_already() {
	[ "$(cat "$out/.key" 2>/dev/null)" = "$key" ] && [ -s "$out/disk.img" ] && [ -s "$out/vmlinuz" ] &&
		[ -s "$out/initrd.img" ]
}
done_already && exit 0
"$top/scripts/install-deps.sh" mmdebstrap e2fsprogs
[ "$(id -u)" -eq 0 ] || die "mmdebstrap's root mode needs root (this builds a root file system)"
mkdir -p "$out"
# Two benches (two worktrees) may build at once: one builds, the other waits and finds it done.
exec 8> "$out/.lock"
flock 8
done_already && exit 0

started=$(date +%s)
root=$out/root.tmp
rm -rf "$root" "$out/disk.img" "$out/.key"
mkdir -p "$root"
trap 'rm -rf "$root"' EXIT
# No mirror given: mmdebstrap takes deb.debian.org with bookworm-updates and bookworm-security, as
# an installed Debian 12 has them.
echo "  DEBIAN  $out (Debian $SUITE by mmdebstrap: a few minutes, mostly downloads)" >&2
dpkgopts=()
for e in "${EXCLUDES[@]}"; do dpkgopts+=(--dpkgopt="path-exclude=$e"); done
# The included packages come with their Recommends, as `apt install` gives them (dbus, zstd for the
# initramfs, busybox, apparmor, systemd-timesyncd, ...).
# The hooks run on this machine with the root directory as $1: the essential hooks before the
# included packages are installed, so that initramfs-tools finds the root file system's type when
# the kernel's installation builds the initramfs (it probes the device, which a chroot lacks: its
# FSTYPE setting is for this case) and carries fsck.ext4, as on an installed system; the customize
# hooks once all is installed.
# shellcheck disable=SC2016 # $1 is the hook's argument, expanded by mmdebstrap's shell
mmdebstrap --mode=root --variant=minbase --include="$PKGS" --aptopt='APT::Install-Recommends "true"' \
	"${dpkgopts[@]}" \
	--essential-hook='echo "/dev/vda / ext4 errors=remount-ro 0 1" > "$1/etc/fstab"' \
	--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo FSTYPE=ext4 > "$1/etc/initramfs-tools/conf.d/fstype"' \
	--customize-hook='echo kiln-bench > "$1/etc/hostname"' \
	--customize-hook='printf "127.0.0.1\tlocalhost\n127.0.1.1\tkiln-bench\n" > "$1/etc/hosts"' \
	--customize-hook="install -m 0644 '$here/debian-marker.service' \"\$1/etc/systemd/system/kiln-bench.service\"" \
	--customize-hook="install -m 0755 '$here/debian-marker.sh' \"\$1/usr/local/sbin/kiln-bench-marker\"" \
	--customize-hook='chroot "$1" systemctl enable --quiet kiln-bench.service' \
	"$SUITE" "$root" > "$out/mmdebstrap.log" 2>&1 ||
	{ tail -n 30 "$out/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $out/mmdebstrap.log)"; }

# /boot/vmlinuz-RELEASE and /boot/initrd.img-RELEASE: exactly one kernel is installed.
kernels=("$root"/boot/vmlinuz-*)
{ [ ${#kernels[@]} = 1 ] && [ -f "${kernels[0]}" ]; } || die "expected one kernel in the image's /boot: ${kernels[*]}"
release=${kernels[0]##*/vmlinuz-}
cp "$root/boot/vmlinuz-$release" "$out/vmlinuz"
cp "$root/boot/initrd.img-$release" "$out/initrd.img"

# The file system: the files plus a fifth, and 32 MiB for ext4's own blocks (journal, inode tables).
# A tight image matters: the test host carries it (and one copy per boot) in RAM.
kib=$(du -sk "$root" | cut -f1)
mkfs.ext4 -q -F -L debian-root -d "$root" "$out/disk.img" "$((kib + kib / 5 + 32768))k" > /dev/null ||
	die "mkfs.ext4 of $out/disk.img failed"
# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
npkgs=$(chroot "$root" dpkg-query -W -f='${db:Status-Abbrev}\n' | grep -c '^ii')
# shellcheck disable=SC2016
cat > "$out/image.txt" <<EOF
Debian 12 ($SUITE) by mmdebstrap $(dpkg-query -W -f='${Version}' mmdebstrap), minbase + $PKGS: $npkgs packages
kernel $release, initramfs by initramfs-tools $(chroot "$root" dpkg-query -W -f='${Version}' initramfs-tools) ($(( $(stat -c %s "$out/initrd.img") >> 20 )) MiB)
disk.img: $(( $(stat -c %s "$out/disk.img") >> 20 )) MiB ext4, $((kib >> 10)) MiB of files
built in $(($(date +%s) - started)) s
EOF
echo "$key" > "$out/.key"
