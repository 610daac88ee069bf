# Fuzzing: libFuzzer targets built with clang (+ASan/UBSan) straight from their sources, not the
# archives. `make check-fuzz` runs each for FUZZ_SECONDS from its seed corpus under tests/fuzz/corpus/
# (tiny hand-made inputs: see the layout comment in each target); new inputs go to build/fuzz/corpus/.
# Needs clang and libclang-rt-14-dev (TEST_PKGS).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=gnu11 $(WARNINGS) -Isrc -Iinclude -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_DIR := $(BUILD)/fuzz

FUZZ_VIRTQ_SRCS := tests/fuzz/fuzz_virtq.c src/virtio/queue.c src/mem/gmem.c
FUZZ_VIRTQ_HDRS := src/virtio/queue.h src/mem/gmem.h src/util.h

$(FUZZ_DIR)/fuzz_virtq: $(FUZZ_VIRTQ_SRCS) $(FUZZ_VIRTQ_HDRS)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_VIRTQ_SRCS)

# -max_len: the target's 4-byte header plus its 8 KiB of guest RAM.
check-fuzz: $(FUZZ_DIR)/fuzz_virtq
	@mkdir -p $(FUZZ_DIR)/corpus/virtq
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -max_len=8196 -print_final_stats=1 \
		$(FUZZ_DIR)/corpus/virtq tests/fuzz/corpus/virtq

.PHONY: check-fuzz
