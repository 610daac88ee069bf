# check-snapshot: snapshot and restore of tiny guests on this machine's KVM (PVM included), in the
# release and the sanitizer build: through libkiln (tests/integration/test_snapshot.c, kiln.h
# only), then through the command line and Firecracker's API (tests/integration/snapshot.sh: kiln
# run --api-sock, kiln snapshot, kiln restore, PUT /snapshot/create and /snapshot/load with curl,
# the exchanges held against firecracker.yaml by the contract checker of mk/api.mk; virtio-console and
# virtio-vsock with the guest tests/tiny/snapguest/); the VM generation ID of two boots and two
# restores of one snapshot (tests/integration/vmgenid.sh); and clones: 8 guests from one snapshot,
# as 8 `kiln restore` processes and as one `kiln restore --clones 8` (tests/integration/clones.sh:
# their memory shared, each with its own disk, console and status).
$(BUILD)/%/tests/integration/test_snapshot: $(BUILD)/%/tests/integration/test_snapshot.o $(BUILD)/%/libkiln.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(if $(findstring /san/,$@),$(SAN_LDFLAGS),$(RELEASE_LDFLAGS)) -o $@ $^ $(LIBS)

SNAPSHOT_TESTS := $(BUILD)/rel/tests/integration/test_snapshot $(BUILD)/san/tests/integration/test_snapshot

# The guest of the virtio-console and virtio-vsock snapshots (tests/tiny/snapguest/; mk/tiny.mk).
SNAPGUEST := $(BUILD)/tiny/snapguest.elf
$(eval $(call hostile_lib_guest,snapguest))

# The host side of the vsock snapshot: tests/guest/vsock_tool.c (the Linux guest's) built for this host.
SNAPSHOT_VSOCK_TOOL := $(BUILD)/rel/tests/guest/vsock-tool
$(SNAPSHOT_VSOCK_TOOL): tests/guest/vsock_tool.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -std=gnu11 $(WARNINGS) -O2 -o $@ $<

# In the KVM test host snapshot.sh's background kilns run at nice 19 (the suite's KILN_TEST_NICE).
SNAPSHOT_NICE := $(if $(KVM_HERE),,KILN_TEST_NICE=19)

check-snapshot: $(SNAPSHOT_TESTS) tiny $(SNAPGUEST) $(SNAPSHOT_VSOCK_TOOL) $(BUILD)/kiln $(BUILD)/san/kiln \
		$(API_DIR)/contract $(API_DIR)/schema.tsv
	$(Q)scripts/install-deps.sh curl
	$(Q)$(call on_kvm,check-snapshot,$(SNAPSHOT_TESTS) $(BUILD)/tiny $(SNAPSHOT_VSOCK_TOOL) $(BUILD)/kiln \
		$(BUILD)/san/kiln $(API_DIR)/contract $(API_DIR)/schema.tsv \
		$(addprefix tests/integration/,snapshot.sh vmgenid.sh clones.sh tiny_lib.sh), \
	for t in $(SNAPSHOT_TESTS); do \
		dir=$$(mktemp -d) && $$t $(BUILD)/tiny/count.elf $$dir; rc=$$?; rm -rf $$dir; \
		[ $$rc = 0 ] || exit 1; \
	done && \
	$(SNAPSHOT_NICE) tests/integration/snapshot.sh $(BUILD)/kiln $(BUILD)/tiny \
		$(API_DIR)/contract $(API_DIR)/schema.tsv $(SNAPSHOT_VSOCK_TOOL) && \
	$(SNAPSHOT_NICE) tests/integration/snapshot.sh $(BUILD)/san/kiln $(BUILD)/tiny \
		$(API_DIR)/contract $(API_DIR)/schema.tsv $(SNAPSHOT_VSOCK_TOOL) && \
	tests/integration/vmgenid.sh $(BUILD)/kiln $(BUILD)/tiny && \
	tests/integration/vmgenid.sh $(BUILD)/san/kiln $(BUILD)/tiny && \
	tests/integration/clones.sh $(BUILD)/kiln $(BUILD)/tiny && \
	tests/integration/clones.sh $(BUILD)/san/kiln $(BUILD)/tiny)

.PHONY: check-snapshot
