# Fuzzing: libFuzzer targets built with clang (+ASan/UBSan) straight from their sources, not the
# archives. `make check-fuzz` runs each for FUZZ_SECONDS from its seed corpus under tests/fuzz/corpus/
# (tiny hand-made inputs: see the layout comment in each target); new inputs go to build/fuzz/corpus/.
# Needs clang and libclang-rt-14-dev (TEST_PKGS).
#
# One target is one file mk/fuzz/NAME.mk (so that adding one touches no shared line):
#   FUZZ_TARGETS += NAME
#   FUZZ_NAME_SRCS := tests/fuzz/fuzz_NAME.c and the kiln sources it links
#   FUZZ_NAME_LIBS := extra -l flags (optional)
#   FUZZ_NAME_MAX_LEN := libFuzzer's -max_len for it
# Its seed corpus is tests/fuzz/corpus/NAME/.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -std=gnu11 $(WARNINGS) -Isrc -Iinclude -Itests -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_TARGETS :=

include $(sort $(wildcard mk/fuzz/*.mk))

# $(1): a target's name. Headers are found through the auto-dependency files (-MMD).
define fuzz_rules
$(FUZZ_DIR)/fuzz_$(1): $(FUZZ_$(1)_SRCS)
	@mkdir -p $$(@D)
	$$(if $(Q),@echo "  FUZZ    $$@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -MF $$@.d -o $$@ $(FUZZ_$(1)_SRCS) $(FUZZ_$(1)_LIBS)

fuzz-run-$(1): $(FUZZ_DIR)/fuzz_$(1)
	@mkdir -p $(FUZZ_DIR)/corpus/$(1)
	@echo "check-fuzz: $(1) for $(FUZZ_SECONDS) s"
	$(Q)$(FUZZ_DIR)/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_$(1)_MAX_LEN) \
		-artifact_prefix=$(FUZZ_DIR)/ \
		-print_final_stats=1 $(FUZZ_DIR)/corpus/$(1) tests/fuzz/corpus/$(1)

.PHONY: fuzz-run-$(1)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rules,$(t))))

fuzz: $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

check-fuzz: $(addprefix fuzz-run-,$(FUZZ_TARGETS))

.PHONY: fuzz check-fuzz
