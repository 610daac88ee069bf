# make check: every test. Installs what it needs first (scripts/install-deps.sh via deps-test).
# Unit tests run in the release and the ASan/UBSan build; so do the tiny-guest tests.

check-unit: $(UNIT_TESTS_REL) $(UNIT_TESTS_SAN)
	$(Q)scripts/run-unit-tests.sh $^

# The layer rule (DESIGN.md): devices and virtio never see the VM, KVM or vCPUs.
check-layers:
	$(Q)if grep -nE '#include "(vm|kvm/kvm|vcpu/vcpu)\.h"' src/devices/*.[ch] src/virtio/*.[ch]; then \
		echo "check-layers: devices/ and virtio/ must not include vm.h, kvm.h or vcpu.h" >&2; exit 1; \
	else echo "check-layers: ok"; fi

# Bad input on the command line: no guest needs to run (tiny kernels stand in).
check-cli: $(BUILD)/kiln tiny
	$(Q)$(call on_kvm,check-cli,$(BUILD)/kiln $(BUILD)/tiny tests/integration/cli_errors.sh \
		tests/integration/disk_errors.sh, \
	tests/integration/cli_errors.sh $(BUILD)/kiln $(BUILD)/tiny && \
	sh tests/integration/disk_errors.sh $(BUILD)/kiln $(BUILD)/tiny/hello.elf)
	$(Q)sh tests/integration/manpage.sh $(BUILD)/kiln docs/kiln.1

check: deps-test
	$(Q)$(MAKE) --no-print-directory check-layers check-unit check-cli check-tiny check-embed check-threads check-abi check-deb check-snapshot check-api check-fuzz check-linux \
		check-linux-arm64
	@echo "check: make bench QUICK=1 once, as a smoke test (it must complete; no figure is judged)"
	$(Q)$(MAKE) --no-print-directory bench QUICK=1

.PHONY: check check-unit check-layers check-cli
