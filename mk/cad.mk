# Ctrl-Alt-Del end to end (tests/integration/ctrl_alt_del.sh): test_cad embeds libkiln through kiln.h
# only (as test_embed does), boots the Linux test guest, presses Ctrl-Alt-Del with
# kiln_vm_send_ctrl_alt_del and expects the guest to reboot cleanly. With hardware KVM it runs here;
# otherwise (PVM, or no /dev/kvm) inside the KVM test host (tests/host/run.sh), like check-linux.
$(BUILD)/%/tests/integration/test_cad: $(BUILD)/%/tests/integration/test_cad.o $(BUILD)/%/libkiln.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(if $(findstring /san/,$@),$(SAN_LDFLAGS),$(RELEASE_LDFLAGS)) -o $@ $^ $(LIBS)

CAD_TEST := $(BUILD)/rel/tests/integration/test_cad
CAD_ENV = KILN_TEST_TIMEOUT=$(or $(KILN_TEST_TIMEOUT),300)

check-cad: $(CAD_TEST) $(BUILD)/kiln guest
	$(Q)if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then \
		$(CAD_ENV) TEST_CAD=$(CAD_TEST) KILN=$(BUILD)/kiln GUEST=$(GUEST_DIR) \
			sh tests/integration/ctrl_alt_del.sh; \
	else \
		tests/host/run.sh -f $(CAD_TEST) -f $(BUILD)/kiln -f $(GUEST_DIR)/vmlinuz:/payload/guest/vmlinuz \
			-f $(GUEST_DIR)/initrd.img:/payload/guest/initrd.img -f tests/integration/ctrl_alt_del.sh \
			-f tests/integration/lib.sh -f /usr/bin/curl \
			-- '$(CAD_ENV) TEST_CAD=/payload/test_cad KILN=/payload/kiln GUEST=/payload/guest \
			    sh /payload/ctrl_alt_del.sh'; \
	fi

.PHONY: check-cad
