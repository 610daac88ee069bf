# check-linux: boots the Linux test guest under kiln, running every guest suite below
# (tests/integration/guest_batch.sh). With hardware KVM (kvm_intel or kvm_amd loaded) they run here in
# one batch; otherwise (PVM, or no /dev/kvm) inside the KVM test host (tests/host/run.sh), in one boot
# with one CPU (tests/host/README.md, "One CPU": with two, QEMU 7.2's multi-threaded TCG now and then
# corrupts the nested guest's memory or state). It never skips: where neither works it fails. The whole
# output goes to $(BUILD)/check-linux.log, the boot-time lines of 10 boots to $(BUILD)/boot-times.txt.
# One suite alone:
#   make check-linux GUEST_SUITES=tests/integration/net.sh
GUEST_SUITES := tests/integration/linux.sh tests/integration/virtio.sh tests/integration/vsock.sh \
	tests/integration/net.sh tests/integration/api_guest.sh tests/integration/ctrl_alt_del.sh \
	tests/integration/snapshot_linux.sh tests/integration/vmgenid_linux.sh tests/integration/snapshot_devices.sh \
	tests/integration/clones_linux.sh
# Host-side tools the suites use (iproute2's ip: busybox's has no netns or tuntap), copied into the
# test host with the suites' shared helpers (run.sh brings the tools' libraries).
GUEST_SUITE_TOOLS := /sbin/mkfs.ext4 /sbin/e2fsck /sbin/debugfs /usr/sbin/ip /usr/bin/curl
GUEST_SUITE_FILES := tests/integration/guest_batch.sh tests/integration/lib.sh $(GUEST_SUITES) \
	$(GUEST_SUITE_TOOLS)
# $(1): where the sbin tools are, $(2): where curl is.
LINUX_TEST_ENV = KILN_TEST_TIMEOUT=$(or $(KILN_TEST_TIMEOUT),300) MKFS_EXT4=$(1)mkfs.ext4 E2FSCK=$(1)e2fsck \
	DEBUGFS=$(1)debugfs IP=$(1)ip CURL=$(2)curl

# One boot of the test host with one CPU running the suites $(1) in one batch.
TEST_HOST_BATCH = echo "check-linux: a test host with 1 CPU for: $(notdir $(1))"; \
	tests/host/run.sh -c 1 -f $(BUILD)/kiln -f $(BUILD)/guest/vmlinuz:/payload/guest/vmlinuz \
		-f $(BUILD)/guest/initrd.img:/payload/guest/initrd.img \
		-f $(BUILD)/guest/vmlinuz-generic:/payload/guest/vmlinuz-generic \
		-f $(BUILD)/guest/vsock-tool:/payload/guest/vsock-tool -f $(CAD_TEST) \
		$(foreach f,$(GUEST_SUITE_FILES),-f $(f)) \
		-- '$(call LINUX_TEST_ENV,/payload/,/payload/) KILN=/payload/kiln GUEST=/payload/guest \
		    sh /payload/guest_batch.sh $(foreach s,$(1),/payload/$(notdir $(s)))'

check-linux: $(BUILD)/kiln guest $(CAD_TEST)
	$(Q)rm -f $(BUILD)/boot-times.txt $(BUILD)/check-linux.status
	$(Q){ if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then \
		echo "check-linux: hardware KVM: running the guests here"; \
		KILN=$(BUILD)/kiln GUEST=$(BUILD)/guest KILN_BOOT_TIMES=$(BUILD)/boot-times.txt \
			$(call LINUX_TEST_ENV,/sbin/,/usr/bin/) sh tests/integration/guest_batch.sh $(GUEST_SUITES); \
	else \
		echo "check-linux: no hardware KVM here: running the guests inside the KVM test host"; \
		$(call TEST_HOST_BATCH,$(GUEST_SUITES)); \
	fi; echo $$? > $(BUILD)/check-linux.status; } 2>&1 | tee $(BUILD)/check-linux.log
	$(Q)[ -f $(BUILD)/boot-times.txt ] || sed -n 's/^# \(kiln: boot-time:.*\)/\1/p' \
		$(BUILD)/check-linux.log > $(BUILD)/boot-times.txt
	$(Q)rc=$$(cat $(BUILD)/check-linux.status); [ "$$rc" = 0 ] || \
		{ echo "check-linux: FAILED (status $$rc; log: $(BUILD)/check-linux.log)" >&2; exit 1; }

.PHONY: check-linux
