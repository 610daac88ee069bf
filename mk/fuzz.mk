# Fuzzing: libFuzzer targets built with clang (+ASan/UBSan) straight from their sources, not the
# archives. `make check-fuzz` runs each for FUZZ_SECONDS from its seed corpus under tests/fuzz/corpus/
# (tiny hand-made inputs: see the layout comment in each target); new inputs go to build/fuzz/corpus/.
# Needs clang and libclang-rt-14-dev (TEST_PKGS).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=gnu11 $(WARNINGS) -Isrc -Iinclude -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_DIR := $(BUILD)/fuzz

FUZZ_VIRTQ_SRCS := tests/fuzz/fuzz_virtq.c src/virtio/queue.c src/mem/gmem.c src/log.c src/util.c
FUZZ_VIRTQ_HDRS := src/virtio/queue.h src/mem/gmem.h src/util.h src/log.h

$(FUZZ_DIR)/fuzz_virtq: $(FUZZ_VIRTQ_SRCS) $(FUZZ_VIRTQ_HDRS)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_VIRTQ_SRCS)

# The control plane's request parser and JSON-to-config step (libkiln's VM calls are stubs there).
FUZZ_API_SRCS := tests/fuzz/fuzz_api.c src/api/json.c src/api/parse.c src/api/route.c \
	src/api/config_file.c src/api/vmm.c src/api/describe.c src/config.c src/error.c src/log.c src/util.c
FUZZ_API_HDRS := $(wildcard src/api/*.h) include/kiln/kiln.h src/error.h src/log.h src/util.h

$(FUZZ_DIR)/fuzz_api: $(FUZZ_API_SRCS) $(FUZZ_API_HDRS)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_API_SRCS) -ljson-c

# -max_len: the virtq target's 4-byte header plus its 8 KiB of guest RAM; for the API target,
# inputs up to 8 KiB, past the 4 KiB path limit the parser enforces.
check-fuzz: $(FUZZ_DIR)/fuzz_virtq $(FUZZ_DIR)/fuzz_api
	@mkdir -p $(FUZZ_DIR)/corpus/virtq $(FUZZ_DIR)/corpus/api
	$(Q)$(FUZZ_DIR)/fuzz_virtq -max_total_time=$(FUZZ_SECONDS) -max_len=8196 -print_final_stats=1 \
		$(FUZZ_DIR)/corpus/virtq tests/fuzz/corpus/virtq
	$(Q)$(FUZZ_DIR)/fuzz_api -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
		$(FUZZ_DIR)/corpus/api tests/fuzz/corpus/api

.PHONY: check-fuzz
