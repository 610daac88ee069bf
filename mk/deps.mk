# Debian packages: what building kiln needs, and what the tests need on top.
BUILD_PKGS := gcc make libc6-dev linux-libc-dev libseccomp-dev libfdt-dev pkg-config \
	libjson-c-dev
TEST_PKGS := libcmocka-dev busybox-static cpio acpica-tools qemu-system-x86 lz4 xz-utils \
	zstd e2fsprogs file binutils ca-certificates clang libclang-rt-14-dev curl iproute2 \
	groff-base abigail-tools device-tree-compiler

deps-build:
	$(Q)scripts/install-deps.sh $(BUILD_PKGS)

deps-test: deps-build
	$(Q)scripts/install-deps.sh $(TEST_PKGS)

.PHONY: deps-build deps-test
