# check-api: kiln's Firecracker-compatible API driven with curl against the tiny guests
# (tests/integration/api.sh), in the release and the sanitizer build. Every exchange is then checked
# against firecracker.yaml's schemas by the contract checker (tests/api/: schema.awk flattens the
# yaml, contract.c validates with json-c). Installs curl when missing.

API_DIR := $(BUILD)/api

$(API_DIR)/contract: tests/api/contract.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -std=gnu11 $(WARNINGS) -O1 -g -o $@ $< -ljson-c

$(API_DIR)/schema.tsv: tests/api/firecracker.yaml tests/api/schema.awk
	@mkdir -p $(@D)
	$(Q)awk -f tests/api/schema.awk $< >$@

check-api: $(BUILD)/kiln $(BUILD)/san/kiln tiny $(API_DIR)/contract $(API_DIR)/schema.tsv
	$(Q)scripts/install-deps.sh curl
	$(Q)tests/integration/api.sh $(BUILD)/kiln $(BUILD)/tiny $(API_DIR)/contract $(API_DIR)/schema.tsv
	$(Q)KILN_TEST_HOOKS=1 tests/integration/api.sh $(BUILD)/san/kiln $(BUILD)/tiny $(API_DIR)/contract \
		$(API_DIR)/schema.tsv

# check-api-guest: the Linux test guest booted through the API (tests/integration/api_guest.sh), run
# as check-linux runs linux.sh: here with hardware KVM, else inside the KVM test host with curl copied
# in (tests/host/run.sh brings its libraries).
check-api-guest: $(BUILD)/kiln guest
	$(Q)scripts/install-deps.sh curl
	$(Q)if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then \
		KILN=$(BUILD)/kiln GUEST=$(BUILD)/guest sh tests/integration/api_guest.sh; \
	else \
		tests/host/run.sh -f $(BUILD)/kiln -f $(BUILD)/guest/vmlinuz:/payload/guest/vmlinuz \
			-f $(BUILD)/guest/initrd.img:/payload/guest/initrd.img -f tests/integration/api_guest.sh \
			-f "$$(command -v curl)" \
			-- 'KILN=/payload/kiln GUEST=/payload/guest CURL=/payload/curl sh /payload/api_guest.sh'; \
	fi

.PHONY: check-api check-api-guest
