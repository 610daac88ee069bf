# Debian packages: what building kiln needs, and what the tests need on top.
BUILD_PKGS := gcc make libc6-dev linux-libc-dev libseccomp-dev libfdt-dev pkg-config \
	libjson-c-dev
TEST_PKGS := libcmocka-dev busybox-static cpio acpica-tools qemu-system-x86 lz4 xz-utils \
	zstd e2fsprogs file binutils ca-certificates clang libclang-rt-14-dev curl iproute2 \
	groff-base abigail-tools device-tree-compiler procps

# The cross build (make ARCH=arm64 on an x86 host): Debian's cross compiler and kernel headers, the
# libraries kiln links as arm64 -dev packages through multiarch, and qemu-user-static to run the
# arm64 seccomp compiler (mk/seccomp.mk) and `build/arm64/kiln --help` here. Not libfdt-dev:arm64:
# Debian 12's libfdt-dev is not co-installable across architectures (installing it removes the
# host's, which the unit tests link); the arm64 build takes libfdt1:arm64, co-installable, and the
# host libfdt-dev's headers, which are the same (Makefile: ARCH_LIBS).
ARM64_PKGS := gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross qemu-user-static \
	libseccomp-dev:arm64 libfdt1:arm64 libjson-c-dev:arm64

deps-build:
	$(Q)scripts/install-deps.sh $(BUILD_PKGS)

deps-arm64: deps-build
	$(Q)scripts/install-deps.sh $(ARM64_PKGS)

deps-test: deps-build
	$(Q)scripts/install-deps.sh $(TEST_PKGS)

.PHONY: deps-build deps-test deps-arm64
