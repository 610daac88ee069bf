# The Linux test guest: Debian's cloud kernel + an initramfs with kiln's init, busybox and the virtio
# modules (tests/guest/build.sh; it rebuilds only when an input changed, so it runs every time).
# It also leaves the kernel's kvm modules and busybox for the KVM test host (tests/host/run.sh).
# `make ARCH=arm64 guest` builds the arm64 guest instead, in $(ARM64_GUEST_DIR) (these paths are
# what other tools look for: Image, initrd.img); `make guest-arm64` does too, whatever ARCH is.
GUEST_DIR := $(BUILD)/guest
ARM64_GUEST_DIR := build/arm64/guest

ifeq ($(ARCH),arm64)
guest: guest-arm64
else
guest: deps-test
	$(Q)tests/guest/build.sh $(GUEST_DIR)
endif

guest-arm64: deps-test
	$(Q)tests/guest/build.sh --arch arm64 $(ARM64_GUEST_DIR)

$(GUEST_DIR)/vmlinuz $(GUEST_DIR)/initrd.img: guest ;

.PHONY: guest guest-arm64
