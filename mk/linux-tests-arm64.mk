# The arm64 Linux guest tests, inside the arm64 KVM test host (tests/host/run.sh --arch arm64: QEMU-TCG
# -M virt with EL2 and a GICv3 booting Debian's cloud-arm64 kernel, KVM built in), in `make check`.
# One boot of the test host runs:
#   tests/integration/arm64_host.sh  the test host's KVM (dmesg, kvm-probe: a VM, a vCPU with PSCI 0.2,
#                                    a GICv3) and QEMU's own KVM boot of the guest, the reference figure
#   tests/integration/arm64.sh       build/arm64/kiln boots the arm64 test guest (ARM64_SUITES)
#   tests/integration/arm64_vmm.sh   and ends, serves its API, reads a config file, networks, sandboxed
#   tests/integration/arm64_hostile.sh  the tiny arm64 guests (mk/arm64-tiny.mk): hostile MMIO, PSCI,
#                                    signals, the counter across a pause
#   tests/integration/arm64_snapshot.sh  a Linux guest snapshotted, kiln killed, restored by a new one;
#                                    damaged state files refused (made by snap-edit)
# `make check-host-arm64` runs the first alone (it needs no arm64 kiln). Logs: build/arm64/check-linux.log.
ARM64_DIR := build/arm64
ARM64_KILN := $(ARM64_DIR)/kiln
ARM64_KVM_PROBE := $(ARM64_DIR)/kvm-probe
ARM64_HTTP_RAW := $(ARM64_DIR)/http-raw
ARM64_REF_QEMU_DIR := $(ARM64_DIR)/qemu
ARM64_SUITES := tests/integration/arm64_host.sh tests/integration/arm64.sh tests/integration/arm64_vmm.sh \
	tests/integration/arm64_hostile.sh tests/integration/arm64_snapshot.sh
ARM64_SNAP_EDIT := $(ARM64_DIR)/snap-edit
ARM64_CC := aarch64-linux-gnu-gcc

# Static arm64 test programs: the KVM probe, and the API's raw HTTP client (the test host has no curl).
$(ARM64_KVM_PROBE): tests/host/kvm_probe_arm64.c
$(ARM64_HTTP_RAW): tests/api/http_raw.c
$(ARM64_KVM_PROBE) $(ARM64_HTTP_RAW):
	$(Q)scripts/install-deps.sh gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(ARM64_CC) -std=gnu11 $(WARNINGS) -static -Os -s -o $@ $<

# The state file editor of arm64_snapshot.sh, with kiln's own reader and writer.
$(ARM64_SNAP_EDIT): tests/integration/snap_edit.c src/snapshot/snap_file.c src/snapshot/crc64.c src/util.c
	$(Q)scripts/install-deps.sh gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(ARM64_CC) -std=gnu11 $(WARNINGS) -Isrc -static -Os -s -o $@ $^

# Debian's arm64 QEMU, extracted (arm64-qemu.sh redoes nothing while apt offers the same version).
arm64-ref-qemu: guest-arm64
	$(Q)tests/host/arm64-qemu.sh $(ARM64_REF_QEMU_DIR)

# The arm64 kiln: armsplit's cross build (`make ARCH=arm64`), made by a make of its own.
arm64-kiln:
	$(Q)$(MAKE) --no-print-directory ARCH=arm64

# One boot of the arm64 test host running the suites $(1), output in $(ARM64_DIR)/$(2).log.
ARM64_TEST_HOST_BATCH = tests/host/run.sh --arch arm64 \
	-f $(ARM64_GUEST_DIR)/Image:/payload/guest/Image -f $(ARM64_GUEST_DIR)/initrd.img:/payload/guest/initrd.img \
	-f $(ARM64_GUEST_DIR)/vsock-tool:/payload/guest/vsock-tool -f $(ARM64_KVM_PROBE) \
	-f $(ARM64_REF_QEMU_DIR):/payload/ref-qemu \
	$(if $(filter-out tests/integration/arm64_host.sh,$(1)),-f $(ARM64_KILN):/payload/kiln -f $(ARM64_HTTP_RAW) -f $(ARM64_SNAP_EDIT) \
		$(foreach i,$(ARM64_TINY_IMAGES),-f $(i):/payload/tiny/$(notdir $(i)))) \
	-f tests/integration/guest_batch.sh -f tests/integration/lib.sh $(foreach f,$(1),-f $(f)) \
	-- 'KILN_TEST_TIMEOUT=$(or $(KILN_TEST_TIMEOUT),300) KILN=/payload/kiln GUEST=/payload/guest \
	    GUEST_KERNEL=Image TINY=/payload/tiny KVM_PROBE=/payload/kvm-probe HTTP_RAW=/payload/http-raw SNAP_EDIT=/payload/snap-edit REF_QEMU=/payload/ref-qemu/qemu \
	    sh /payload/guest_batch.sh $(foreach s,$(1),/payload/$(notdir $(s)))' 2>&1 | tee $(ARM64_DIR)/$(2).log; \
	exit $${PIPESTATUS[0]}

check-host-arm64: SHELL := /bin/bash
check-host-arm64: guest-arm64 arm64-ref-qemu $(ARM64_KVM_PROBE)
	$(Q)$(call ARM64_TEST_HOST_BATCH,tests/integration/arm64_host.sh,check-host)

check-linux-arm64: SHELL := /bin/bash
check-linux-arm64: guest-arm64 arm64-ref-qemu $(ARM64_KVM_PROBE) $(ARM64_HTTP_RAW) $(ARM64_SNAP_EDIT) arm64-kiln tiny-arm64
	$(Q)$(call ARM64_TEST_HOST_BATCH,$(ARM64_SUITES),check-linux)

.PHONY: arm64-ref-qemu arm64-kiln check-host-arm64 check-linux-arm64
