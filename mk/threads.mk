# Two VMs in one process, from two threads at once (kiln.h: threads, signals and lifetimes), in the
# release and the ASan/UBSan build, on this machine's KVM with a tiny guest.

THREADS_ROUNDS ?= 200

$(BUILD)/%/tests/integration/test_threads: $(BUILD)/%/tests/integration/test_threads.o $(BUILD)/%/libkiln.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(if $(findstring /san/,$@),$(SAN_LDFLAGS),$(RELEASE_LDFLAGS)) -o $@ $^ $(LIBS)

check-threads: $(BUILD)/rel/tests/integration/test_threads $(BUILD)/san/tests/integration/test_threads \
		$(BUILD)/tiny/cmdline_status.elf
	$(Q)$(BUILD)/rel/tests/integration/test_threads $(BUILD)/tiny/cmdline_status.elf $(THREADS_ROUNDS)
	$(Q)$(BUILD)/san/tests/integration/test_threads $(BUILD)/tiny/cmdline_status.elf $(THREADS_ROUNDS)

.PHONY: check-threads
