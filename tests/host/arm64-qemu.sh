#!/bin/bash
# tests/host/arm64-qemu.sh OUTDIR — Debian's arm64 QEMU (qemu-system-arm:arm64), to run inside the arm64
# KVM test host as the reference monitor (`-accel kvm`): extracted from the .debs, not installed.
#   OUTDIR/root/          qemu-system-aarch64 and the shared libraries it needs, at their Debian paths
#   OUTDIR/qemu           a wrapper running it through its own loader and libraries
#   OUTDIR/qemu.txt       the packages it took
# The libraries are the binary's DT_NEEDED closure (readelf -d), each found by the package that
# holds the same soname on this (amd64) machine (dpkg -S: Debian names a library's package the same
# on every architecture), fetched for arm64; ld-linux-aarch64.so.1 is libc6's. The .debs are cached
# in ${KILN_CACHE:-$HOME/.cache/kiln}/debs; nothing is redone unless apt offers another QEMU.
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail

die() { echo "host/arm64-qemu.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: arm64-qemu.sh OUTDIR"
out=$1
debs=${KILN_CACHE:-$HOME/.cache/kiln}/debs
mkdir -p "$debs" "$out"
dpkg --print-foreign-architectures | grep -qx arm64 ||
	die "apt does not know arm64: tests/guest/build.sh --arch arm64 enables it"

# candidate PACKAGE...: "PACKAGE VERSION" lines for the arm64 candidates.
candidate() {
	apt-cache policy "${@/%/:arm64}" 2>/dev/null |
		awk '/^[^ ]/ { p = $1; sub(":.*", "", p) } /^ *Candidate:/ && $2 != "(none)" { print p, $2 }'
}
# fetch PACKAGE VERSION: the path of the cached arm64 .deb, downloaded when missing.
fetch() {
	local deb=$debs/${1}_${2//:/%3a}_arm64.deb log
	if [ ! -s "$deb" ]; then
		log=$(cd "$debs" && apt-get download "$1:arm64=$2" 2>&1) || { echo "$log" >&2; die "cannot download $1:arm64=$2"; }
	fi
	[ -s "$deb" ] || die "apt-get download gave no $deb"
	echo "$deb"
}
read -r _ qver < <(candidate qemu-system-arm) || die "apt offers no qemu-system-arm:arm64"
[ -f "$out/.inputs" ] && [ "$(cat "$out/.inputs")" = "$qver" ] && [ -x "$out/root/usr/bin/qemu-system-aarch64" ] && exit 0
echo "  QEMU    $out (qemu-system-arm:arm64 $qver)"

w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
root=$w/root
dpkg-deb -x "$(fetch qemu-system-arm "$qver")" "$root"
echo "qemu-system-arm $qver" > "$w/qemu.txt"
libdirs=("$root/lib/aarch64-linux-gnu" "$root/usr/lib/aarch64-linux-gnu")
mkdir -p "${libdirs[@]}"

# owners SONAME...: "SONAME PACKAGE" lines, the package from this machine's amd64 copy (one dpkg -S).
owners() {
	local so
	for so in "$@"; do [ "$so" != ld-linux-aarch64.so.1 ] || echo "$so libc6"; done
	{ dpkg -S "${@/#/x86_64-linux-gnu/}" 2>/dev/null || true; } |  # fails when one is not found
		awk '/^diversion/ { next } { n = $NF; sub(".*/", "", n); p = $1; sub(":.*", "", p); print n, p }' |
		sort -u -k1,1
}
# Rounds: the sonames the tree's ELFs need and it lacks, their packages, extracted; until none lack.
declare -A taken=()  # package -> the round that extracted it
round=0
while :; do
	round=$((round + 1))
	missing=$(find "$root/usr/bin/qemu-system-aarch64" "${libdirs[@]}" -maxdepth 1 \( -name 'qemu-system-*' -o \
		-name '*.so*' \) -type f -exec readelf -dW {} + 2>/dev/null |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort -u |
		while read -r so; do
			[ -e "${libdirs[0]}/$so" ] || [ -e "${libdirs[1]}/$so" ] || echo "$so"
		done)
	[ -n "$missing" ] || break
	pkgs=()
	# shellcheck disable=SC2086 # one soname a word
	own=$(owners $missing)
	for so in $missing; do
		p=$(echo "$own" | awk -v s="$so" '$1 == s { print $2 }')
		[ -n "$p" ] || die "no package on this machine holds $so (needed by the arm64 QEMU)"
		case ${taken[$p]:-} in
		"$round") ;;
		'') taken[$p]=$round pkgs+=("$p") ;;
		*) die "$p:arm64 did not provide $so" ;;
		esac
	done
	while read -r p v; do
		dpkg-deb -x "$(fetch "$p" "$v")" "$root"
		echo "$p $v" >> "$w/qemu.txt"
	done < <(candidate "${pkgs[@]}")
done
cat > "$w/qemu" <<'WRAP'
#!/bin/sh
# Debian's arm64 qemu-system-aarch64 with its own loader and libraries (tests/host/arm64-qemu.sh).
d=$(dirname "$0")/root
exec "$d/lib/ld-linux-aarch64.so.1" --library-path "$d/lib/aarch64-linux-gnu:$d/usr/lib/aarch64-linux-gnu" \
	"$d/usr/bin/qemu-system-aarch64" "$@"
WRAP
chmod +x "$w/qemu"
# Only what running it needs: the binary, the loader, the libraries (not gconv's modules and the like).
mkdir -p "$w/keep/usr/bin" "$w/keep/lib/aarch64-linux-gnu" "$w/keep/usr/lib/aarch64-linux-gnu"
cp -a "$root/usr/bin/qemu-system-aarch64" "$w/keep/usr/bin/"
cp -a "$root/lib/ld-linux-aarch64.so.1" "$w/keep/lib/"
for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do
	find "$root/$d" -maxdepth 1 -name '*.so*' -exec cp -a {} "$w/keep/$d/" \;
done
rm -f "$out/.inputs"
rm -rf "$out/root"
cp -a "$w/keep" "$out/root"
cp "$w/qemu" "$w/qemu.txt" "$out/"
echo "$qver" > "$out/.inputs"
