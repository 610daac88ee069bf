#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/kernel.sh — `make bench-kernel`: the minimal guest kernel for `make bench`, built from Debian's
# linux-source-6.1 with Firecracker's microVM configuration (bench/microvm-kernel-x86_64-6.1.config,
# everything built in, virtio-mmio found through ACPI), `make olddefconfig`. Long: a whole kernel build.
#
# Output, outside the tree: ${KILN_CACHE:-$HOME/.cache/kiln}/bench-kernel/{vmlinux,bzImage,config,stamp}
# (vmlinux is the ELF with the PVH note; both monitors boot it through PVH). Rebuilt only when the
# source package or the configuration changed. Needs the packages mk/bench.mk installs first.
# BENCH_KERNEL_CONFIG_ONLY=1 stops after `make olddefconfig` and the option check (a quick test).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cfg=$here/microvm-kernel-x86_64-6.1.config
out=${KILN_CACHE:-$HOME/.cache/kiln}/bench-kernel
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
[ -n "$tarball" ] || { echo "bench/kernel.sh: /usr/src/linux-source-6.1.tar.xz is missing (apt-get install linux-source-6.1)" >&2; exit 1; }
[ -f "$cfg" ] || { echo "bench/kernel.sh: $cfg is missing" >&2; exit 1; }

stamp="$(dpkg-query -W -f='${Version}' linux-source-6.1) $(sha256sum < "$cfg" | cut -d' ' -f1)"
if [ -s "$out/vmlinux" ] && [ -s "$out/bzImage" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "bench/kernel.sh: $out is up to date ($stamp)"
	exit 0
fi

mkdir -p "$out"
src=$out/src
rm -rf "$src" && mkdir -p "$src"
echo "bench/kernel.sh: unpacking $tarball"
tar -xJf "$tarball" -C "$src" --strip-components=1
cp "$cfg" "$src/.config"
make -C "$src" -s olddefconfig
# What the bench guest needs of it: PVH entry, the initramfs, the serial console, ACPI-discovered
# virtio-mmio and virtio-blk, devtmpfs, and ioperm() for kiln's debug port.
for opt in PVH BLK_DEV_INITRD RD_LZ4 SERIAL_8250_CONSOLE ACPI VIRTIO_MMIO VIRTIO_BLK DEVTMPFS \
	X86_IOPL_IOPERM; do
	grep -q "^CONFIG_$opt=y" "$src/.config" || { echo "bench/kernel.sh: CONFIG_$opt is not =y after olddefconfig" >&2; exit 1; }
done
if [ -n "${BENCH_KERNEL_CONFIG_ONLY:-}" ]; then
	echo "bench/kernel.sh: configuration checked in $src/.config (BENCH_KERNEL_CONFIG_ONLY: not building)"
	exit 0
fi
echo "bench/kernel.sh: building (make -j$(nproc) vmlinux bzImage); this takes long"
make -C "$src" -s -j"$(nproc)" vmlinux bzImage
cp "$src/vmlinux" "$out/vmlinux.new" && mv "$out/vmlinux.new" "$out/vmlinux"
cp "$src/arch/x86/boot/bzImage" "$out/bzImage.new" && mv "$out/bzImage.new" "$out/bzImage"
cp "$src/.config" "$out/config"
echo "$stamp" > "$out/stamp"
rm -rf "$src"
echo "bench/kernel.sh: $out/vmlinux and $out/bzImage are ready"
