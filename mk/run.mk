# make run: build kiln and the test guest, then boot the guest with a shell on this terminal.
# With hardware KVM it boots here; elsewhere (PVM, or no /dev/kvm) inside the KVM test host, whose
# console is this terminal (tests/host/README.md). Leave the guest shell with `exit` or `poweroff`.
RUN_ARGS ?= --cpus 2 --mem 512M --rng

run: deps-build $(BUILD)/kiln guest
	$(Q)if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then \
		$(BUILD)/kiln run --kernel $(BUILD)/guest/vmlinuz --initrd $(BUILD)/guest/initrd.img $(RUN_ARGS); \
	else \
		echo "make run: this machine has no hardware KVM: booting inside the KVM test host"; \
		tests/host/run.sh -i -f $(BUILD)/kiln -f $(BUILD)/guest/vmlinuz -f $(BUILD)/guest/initrd.img \
			-- './kiln run --kernel vmlinuz --initrd initrd.img $(RUN_ARGS)'; \
	fi

.PHONY: run
