#!/bin/bash
# tests/guest/build.sh [--arch x86|arm64] OUTDIR — builds kiln's Linux test guest from Debian
# packages only. x86 (the default):
#   OUTDIR/vmlinuz        the kernel of linux-image-cloud-amd64 (a bzImage)
#   OUTDIR/vmlinuz-generic the kernel of Debian's generic flavour of the same version, for what the
#                         cloud flavour leaves out: CONFIG_VMGENID (its CONFIG_VIRT_DRIVERS is off),
#                         built in there (vmgenid_linux.sh). It boots with the same initrd
#   OUTDIR/initrd.img     /init (tests/guest/init.c, static), busybox-static with its applet links,
#                         and for each of the two kernels the modules of tests/guest/modules.list
#                         and their dependencies in /lib/modules/RELEASE/ and their ordered load
#                         list /etc/kiln/modules-RELEASE (dependencies first): init loads the one
#                         of the release it runs on
#   OUTDIR/host-modules/  irqbypass, kvm, kvm-amd and tun of the same kernel, and
#   OUTDIR/busybox        the same busybox: what the KVM test host (tests/host/run.sh) boots with,
#   OUTDIR/busybox.applets and the paths of its applets (busybox --list-full)
#   OUTDIR/vsock-tool     tests/guest/vsock_tool.c, static: in the guest as /bin/vsock-tool, and for
#                         the host side of the vsock tests
#   OUTDIR/guest.txt      what was built: kernel version, modules loaded and built in
# arm64 (Debian's arm64 packages through multiarch, enabled here when missing; cross-built with
# gcc-aarch64-linux-gnu): OUTDIR/Image, linux-image-cloud-arm64's kernel as an uncompressed Image
# (what QEMU's and kiln's -kernel take), and OUTDIR/initrd.img, busybox, vsock-tool and guest.txt as
# above; no generic kernel (the VMGENID test is x86's); OUTDIR/host-modules/ holds only tun: the
# cloud-arm64 kernel has KVM built in (the arm64 KVM test host, tests/host/run.sh --arch arm64).
# init.c is linked with debug_port_x86.c or debug_port_arm64.c, the debug port of the architecture.
# The .debs are cached in ${KILN_CACHE:-$HOME/.cache/kiln}/debs. Nothing is rebuilt unless an input
# changed: the kernel or busybox version apt offers, init.c, modules.list or this script.
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail

die() { echo "guest/build.sh: $*" >&2; exit 1; }
arch=x86
if [ "${1:-}" = --arch ]; then arch=${2:-}; shift 2 || die "usage: build.sh [--arch x86|arm64] OUTDIR"; fi
[ $# -eq 1 ] || die "usage: build.sh [--arch x86|arm64] OUTDIR"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$1
debs=${KILN_CACHE:-$HOME/.cache/kiln}/debs
sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
# Per architecture: Debian's name for it, the compiler, the kernel file kiln boots, the test host's
# modules (what is not built into the cloud kernel) and whether a generic kernel comes along.
case $arch in
x86)
	deb_arch=amd64 gcc_pkgs="gcc libc6-dev" CC=${CC:-gcc} kfile=vmlinuz
	host_mods="irqbypass kvm kvm-amd tun" generic=1 ;;
arm64)
	deb_arch=arm64 gcc_pkgs="gcc-aarch64-linux-gnu libc6-dev-arm64-cross" CC=aarch64-linux-gnu-gcc
	kfile=Image host_mods="tun" generic=0
	# Multiarch: apt must know the architecture to download its packages (dpkg-architecture(1)).
	if [ "$(dpkg --print-architecture)" != arm64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
		$sudo dpkg --add-architecture arm64 || die "dpkg --add-architecture arm64 failed"
		$sudo apt-get update -qq || die "apt-get update failed"
	fi ;;
*) die "unknown architecture $arch (x86 or arm64)" ;;
esac
cloud_pkg=linux-image-cloud-$deb_arch
WARNINGS="-std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wformat=2 -Wvla -Wimplicit-fallthrough"

"$top/scripts/install-deps.sh" $gcc_pkgs cpio lz4
mkdir -p "$debs" "$out"

# --- 1. which versions: the candidates apt offers (apt-get update first if it knows none) ---------
# candidates: "PACKAGE VERSION" lines for the metapackage and busybox-static (one apt-cache run;
# PACKAGE without its ":ARCH").
candidates() {
	apt-cache policy "$cloud_pkg:$deb_arch" "busybox-static:$deb_arch" 2>/dev/null |
		awk '/^[^ ]/ { p = $1; sub(":.*", "", p) } /^ *Candidate:/ && $2 != "(none)" { print p, $2 }'
}
vers=$(candidates)
if [ "$(echo "$vers" | wc -w)" -ne 4 ]; then
	$sudo apt-get update -qq || die "apt-get update failed"
	vers=$(candidates)
fi
meta_ver=$(echo "$vers" | awk -v p="$cloud_pkg" '$1 == p { print $2 }')
bb_ver=$(echo "$vers" | awk '$1 == "busybox-static" { print $2 }')
[ -n "$meta_ver" ] && [ -n "$bb_ver" ] || die "apt offers no $cloud_pkg or busybox-static for $deb_arch"

# fetch PACKAGE VERSION [ARCH]: prints the path of the cached .deb (of $deb_arch by default),
# downloading it when missing.
fetch() {
	local a=${3:-$deb_arch} deb log
	deb=$debs/${1}_${2//:/%3a}_$a.deb
	if [ ! -s "$deb" ]; then
		log=$(cd "$debs" && apt-get download "$1:$a=$2" 2>&1) || { echo "$log" >&2; die "cannot download $1=$2"; }
	fi
	[ -s "$deb" ] || die "apt-get download gave no $deb"
	echo "$deb"
}
meta_deb=$(fetch "$cloud_pkg" "$meta_ver")
# The metapackage depends on exactly one versioned image: "linux-image-6.1.0-N-cloud-ARCH (= V)".
read -r kpkg kver < <(dpkg-deb -f "$meta_deb" Depends | tr ',' '\n' |
	sed -n 's/^ *\(linux-image-[0-9][^ ]*\) *(= *\([^)]*\)).*/\1 \2/p' | head -n 1) ||
	die "no versioned linux-image in the Depends of $meta_deb"
kernel_deb=$(fetch "$kpkg" "$kver")
generic_pkg=
if [ $generic = 1 ]; then
	generic_pkg=${kpkg%-cloud-amd64}-amd64
	[ "$generic_pkg" != "$kpkg" ] || die "$kpkg is not a cloud flavour: no generic kernel name from it"
	generic_deb=$(fetch "$generic_pkg" "$kver")
fi
bb_deb=$(fetch busybox-static "$bb_ver")
# busybox --list-full names its applets, but a foreign busybox does not run here: the amd64 build of
# the same Debian version (same configuration) lists them.
bb_list_deb=$bb_deb
[ $deb_arch = amd64 ] || bb_list_deb=$(fetch busybox-static "$bb_ver" amd64)

# --- 2. up to date? ---------------------------------------------------------------------------------
debug_port_c=debug_port_${arch}.c
inputs="$arch $kpkg $kver $generic_pkg busybox-static $bb_ver $CC
$(cd "$here" && sha256sum init.c debug_port.h "$debug_port_c" vsock_tool.c modules.list build.sh)"
if [ -f "$out/.inputs" ] && [ "$(cat "$out/.inputs")" = "$inputs" ] && [ -s "$out/$kfile" ] &&
	[ -s "$out/initrd.img" ] && [ -s "$out/busybox" ] && [ -s "$out/busybox.applets" ] &&
	[ -s "$out/host-modules/${host_mods##* }.ko" ] && { [ $generic = 0 ] || [ -s "$out/vmlinuz-generic" ]; }; then
	exit 0
fi
echo "  GUEST   $out ($kpkg $kver, busybox $bb_ver)"

w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
root=$w/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc/kiln,lib/modules}
dpkg-deb -x "$kernel_deb" "$w/k"
dpkg-deb -x "$bb_deb" "$w/bb"
dpkg-deb --fsys-tarfile "$bb_list_deb" | tar -xO ./bin/busybox > "$w/busybox-lister"
chmod +x "$w/busybox-lister"
"$w/busybox-lister" --list-full > "$w/busybox.applets" || die "busybox --list-full failed"
kdirs=("$w"/k/lib/modules/*)
[ ${#kdirs[@]} -eq 1 ] && [ -d "${kdirs[0]}" ] || die "$kpkg has no single lib/modules/VERSION"
kdir=${kdirs[0]}
uname_r=$(basename "$kdir")
vmlinuz=$w/k/boot/vmlinuz-$uname_r
[ -s "$vmlinuz" ] || die "$kpkg has no boot/vmlinuz-$uname_r"
if [ "$arch" = arm64 ]; then
	# The arm64 boot protocol loads an Image (Documentation/arch/arm64/booting.rst); Debian's vmlinuz
	# is one (with an EFI stub) or, in some releases, a gzip of one.
	if [ "$(head -c 2 "$vmlinuz" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
		gzip -dc "$vmlinuz" > "$w/Image" || die "cannot decompress $vmlinuz"
		vmlinuz=$w/Image
	fi
	[ "$(tail -c +57 "$vmlinuz" | head -c 4)" = "ARM"$'\x64' ] || die "$vmlinuz is not an arm64 Image"
fi
if [ $generic = 1 ]; then
	# The generic kernel: its bzImage, its configuration (checked for what it is here for), its modules.
	generic_r=${uname_r%-cloud-amd64}-amd64
	dpkg-deb -x "$generic_deb" "$w/g"
	[ -s "$w/g/boot/vmlinuz-$generic_r" ] && [ -d "$w/g/lib/modules/$generic_r" ] ||
		die "$generic_pkg has no boot/vmlinuz-$generic_r or lib/modules/$generic_r"
	grep -qx 'CONFIG_VMGENID=y' "$w/g/boot/config-$generic_r" || die "$generic_pkg lacks CONFIG_VMGENID=y"
fi

# --- 3. modules, per kernel: /lib/modules/RELEASE/ holds the modules of modules.list and their
# dependencies, /etc/kiln/modules-RELEASE their load order (dependencies first), for each of the two
# kernels; init loads the list of the kernel it runs on (uname's release). Name -> file, and the
# dependencies from each module's depends= (what modules.dep holds; Debian's package has no
# modules.dep: depmod writes it at install time) ---------------------------------------------------
norm() { echo "${1//-/_}"; }
declare -A modpath=() builtin=() state=()
# index_kernel KDIR: modpath and builtin of the kernel whose lib/modules/RELEASE is KDIR.
index_kernel() {
	local f b
	modpath=() builtin=() state=()
	while read -r f; do
		b=$(basename "$f"); b=${b%%.ko*}
		modpath[$(norm "$b")]=$f
	done < <(find "$1/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')
	while read -r f; do
		b=$(basename "$f"); builtin[$(norm "${b%%.ko*}")]=1
	done < "$1/modules.builtin"
}

# unpack_module NAME DESTDIR: the module's plain .ko in DESTDIR (decompressed if Debian compressed it).
unpack_module() {
	local src=${modpath[$(norm "$1")]} base
	base=$(basename "$src"); base=${base%%.ko*}.ko
	case $src in
	*.ko) cp "$src" "$2/$base" ;;
	*.ko.xz) "$top/scripts/install-deps.sh" xz-utils && xz -dc "$src" > "$2/$base" ;;
	*.ko.zst) "$top/scripts/install-deps.sh" zstd && zstd -qdc "$src" > "$2/$base" ;;
	*.ko.gz) gzip -dc "$src" > "$2/$base" ;;
	esac
	echo "$2/$base"
}

# add_module NAME: appends NAME after its dependencies to the load order of kernel $rel (package $pkg).
add_module() {
	local n ko dep
	n=$(norm "$1")
	case ${state[$n]:-} in done) return 0 ;; busy) die "module dependency loop at $1" ;; esac
	if [ -n "${builtin[$n]:-}" ]; then
		state[$n]="done"; inkernel+=("$1"); return 0
	fi
	[ -n "${modpath[$n]:-}" ] || return 1
	state[$n]=busy
	ko=$(unpack_module "$1" "$root/lib/modules/$rel")
	for dep in $(tr '\0' '\n' < "$ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$dep" || die "$1 needs $dep, which $pkg does not have"
	done
	state[$n]="done"
	order+=("/lib/modules/$rel/$(basename "$ko")"); loaded+=("$1")
}

# kernel_modules KDIR PACKAGE: the modules of modules.list for the kernel whose lib/modules/RELEASE
# is KDIR, their load list, and what was done in $w/modules.txt (for guest.txt).
kernel_modules() {
	local rel pkg=$2 name flag order=() loaded=() inkernel=() skipped=()
	rel=$(basename "$1")
	index_kernel "$1"
	mkdir -p "$root/lib/modules/$rel"
	while read -r name flag; do
		case $name in '' | '#'*) continue ;; esac
		if ! add_module "$name"; then
			[ "$flag" = "?" ] || die "module $name (modules.list) is not in $pkg"
			echo "guest/build.sh: warning: optional module $name is not in $pkg" >&2
			skipped+=("$name")
		fi
	done < "$here/modules.list"
	printf '%s\n' "${order[@]}" > "$root/etc/kiln/modules-$rel"
	{
		echo "modules loaded by init on $rel: ${loaded[*]}"
		echo "  built into the kernel: ${inkernel[*]:-}"
		echo "  optional modules missing: ${skipped[*]:-}"
	} >> "$w/modules.txt"
}
kernel_modules "$kdir" "$kpkg"
# The KVM test host boots the cloud kernel: its modules, while modpath is still the cloud kernel's.
[ "$arch" != arm64 ] || [ -n "${builtin[kvm]:-}" ] || die "$kpkg does not have KVM built in"
mkdir -p "$w/host-modules"
for m in $host_mods; do
	[ -n "${modpath[$(norm $m)]:-}" ] || die "$kpkg has no module $m for the KVM test host"
	unpack_module "$m" "$w/host-modules" > /dev/null
done
[ $generic = 0 ] || kernel_modules "$w/g/lib/modules/$generic_r" "$generic_pkg"

# --- 4. init and busybox ----------------------------------------------------------------------------
# shellcheck disable=SC2086
$CC -static -Os -s $WARNINGS -o "$root/init" "$here/init.c" "$here/$debug_port_c" || die "cannot compile init.c"
# shellcheck disable=SC2086
$CC -static -Os -s $WARNINGS -o "$w/vsock-tool" "$here/vsock_tool.c" || die "cannot compile vsock_tool.c"
cp "$w/vsock-tool" "$root/bin/vsock-tool"
cp "$w/bb/bin/busybox" "$root/bin/busybox"
# The applet links are made here, not at boot: one exec fewer on every boot.
while read -r applet; do
	case $applet in bin/busybox | linuxrc | '') continue ;; esac
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done < "$w/busybox.applets"
[ -e "$root/bin/sh" ] || die "busybox has no sh applet"
# The kernel opens /dev/console for init before anything is mounted; without the node (building as
# a user who cannot mknod) init opens it itself once devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# --- 5. the initramfs: newc cpio, owned by root, reproducible, lz4 (legacy framing, as the kernel
# wants): the kernel unpacks it faster than gzip ----------------------------------------------------
find "$root" -mindepth 1 -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio -o -0 -H newc -R 0:0 --reproducible --quiet) | lz4 -l -9 -q > "$w/initrd.img"

{
	echo "kernel: $kpkg $kver ($uname_r)"
	[ $generic = 0 ] || echo "kernel-generic: $generic_pkg $kver ($generic_r, CONFIG_VMGENID=y)"
	echo "busybox-static: $bb_ver"
	cat "$w/modules.txt"
} > "$w/guest.txt"

# --- 6. publish (the stamp last, so an interrupted build is redone) --------------------------------
rm -f "$out/.inputs"
rm -rf "$out/host-modules"
cp "$vmlinuz" "$out/$kfile"
[ $generic = 0 ] || cp "$w/g/boot/vmlinuz-$generic_r" "$out/vmlinuz-generic"
cp "$w/initrd.img" "$out/initrd.img"
cp "$w/bb/bin/busybox" "$out/busybox"
cp "$w/busybox.applets" "$out/busybox.applets"
cp "$w/vsock-tool" "$out/vsock-tool"
cp -r "$w/host-modules" "$out/host-modules"
cp "$w/guest.txt" "$out/guest.txt"
echo "$inputs" > "$out/.inputs"
sed 's/^/          /' "$out/guest.txt"
