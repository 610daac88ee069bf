# Tiny freestanding test guests: tests/tiny/*.S, each linked into an ELF64 with a PVH entry note
# (build/tiny/NAME.elf), booted through kiln's PVH loader by tests/integration/tiny.sh.

TINY_SRCS := $(sort $(wildcard tests/tiny/*.S))
TINY_ELFS := $(patsubst tests/tiny/%.S,$(BUILD)/tiny/%.elf,$(TINY_SRCS))
TINY_LDS := tests/tiny/tiny.ld
TINY_ASFLAGS := -m64 -nostdinc -MMD -MP
TINY_LDFLAGS := -nostdlib -static --build-id=none -z max-page-size=4096 -z noexecstack

$(BUILD)/tiny/%.o: tests/tiny/%.S
	@mkdir -p $(@D)
	$(if $(Q),@echo "  AS      $<")
	$(Q)$(CC) $(TINY_ASFLAGS) -c $< -o $@

$(BUILD)/tiny/%.elf: $(BUILD)/tiny/%.o $(TINY_LDS)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(LD) $(TINY_LDFLAGS) -T $(TINY_LDS) -o $@ $<

tiny: $(TINY_ELFS)

# Boots every tiny guest under build/kiln, then under the ASan/UBSan build of kiln.
check-tiny: $(BUILD)/kiln $(BUILD)/san/kiln tiny
	$(Q)tests/integration/tiny.sh $(BUILD)/kiln $(BUILD)/tiny
	$(Q)tests/integration/tiny.sh $(BUILD)/san/kiln $(BUILD)/tiny
	$(Q)tests/integration/seccomp.sh $(BUILD)/san/kiln $(BUILD)/tiny

.PRECIOUS: $(BUILD)/tiny/%.o
.PHONY: tiny check-tiny

# Programs that embed libkiln through kiln.h only, run against tiny guests.
$(BUILD)/%/tests/integration/test_embed: $(BUILD)/%/tests/integration/test_embed.o $(BUILD)/%/libkiln.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(if $(findstring /san/,$@),$(SAN_LDFLAGS),$(RELEASE_LDFLAGS)) -o $@ $^ $(LIBS)

# examples/embed.c, built as its comment says (kiln.h only: no -Isrc), so that it cannot rot.
$(BUILD)/rel/examples/embed: examples/embed.c $(BUILD)/rel/libkiln.a
	@mkdir -p $(@D)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) -std=gnu11 $(WARNINGS) -O2 -Iinclude -pthread -o $@ $^ $(LIBS)

check-embed: $(BUILD)/rel/tests/integration/test_embed $(BUILD)/san/tests/integration/test_embed tiny \
		$(BUILD)/rel/examples/embed
	$(Q)$(BUILD)/rel/tests/integration/test_embed $(BUILD)/tiny/counter.elf $(BUILD)/tiny/status.elf
	$(Q)$(BUILD)/san/tests/integration/test_embed $(BUILD)/tiny/counter.elf $(BUILD)/tiny/status.elf
	$(Q)out=$$($(BUILD)/rel/examples/embed $(BUILD)/tiny/status.elf < /dev/null 2>&1); \
	if echo "$$out" | grep -qx 'embed: the guest reported a status (status 42)'; then \
		echo "ok - examples/embed.c boots the status guest and reports its status 42"; \
	else echo "not ok - examples/embed.c on the status guest: $$out"; exit 1; fi

.PHONY: check-embed
