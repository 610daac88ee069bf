# The Linux test guest: Debian's cloud kernel + an initramfs with kiln's init, busybox and the virtio
# modules (tests/guest/build.sh; it rebuilds only when an input changed, so it runs every time).
# It also leaves the kernel's kvm modules and busybox for the KVM test host (tests/host/run.sh).
GUEST_DIR := $(BUILD)/guest

guest: deps-test
	$(Q)tests/guest/build.sh $(GUEST_DIR)

$(GUEST_DIR)/vmlinuz $(GUEST_DIR)/initrd.img: guest ;

.PHONY: guest
