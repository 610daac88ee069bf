# check-snapshot: snapshot and restore of tiny guests on this machine's KVM (PVM included), through
# libkiln (tests/integration/test_snapshot.c, kiln.h only), in the release and the sanitizer build.
$(BUILD)/%/tests/integration/test_snapshot: $(BUILD)/%/tests/integration/test_snapshot.o $(BUILD)/%/libkiln.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(if $(findstring /san/,$@),$(SAN_LDFLAGS),$(RELEASE_LDFLAGS)) -o $@ $^ $(LIBS)

SNAPSHOT_TESTS := $(BUILD)/rel/tests/integration/test_snapshot $(BUILD)/san/tests/integration/test_snapshot

check-snapshot: $(SNAPSHOT_TESTS) tiny
	$(Q)for t in $(SNAPSHOT_TESTS); do \
		dir=$$(mktemp -d) && $$t $(BUILD)/tiny/count.elf $$dir; rc=$$?; rm -rf $$dir; \
		[ $$rc = 0 ] || exit 1; \
	done

.PHONY: check-snapshot
