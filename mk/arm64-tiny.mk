# Tiny freestanding arm64 test guests: tests/tiny-arm64/*.S, each assembled and linked at RAM's start
# (0x8000_0000, text_offset 0) and flattened into a raw Image with its own Image header
# (build/arm64/tiny/NAME.Image), booted in the arm64 KVM test host by tests/integration/arm64_hostile.sh
# (make check-linux-arm64). Built on any host with Debian's cross toolchain.
ARM64_TINY_DIR := build/arm64/tiny
ARM64_TINY_SRCS := $(sort $(wildcard tests/tiny-arm64/*.S))
ARM64_TINY_IMAGES := $(patsubst tests/tiny-arm64/%.S,$(ARM64_TINY_DIR)/%.Image,$(ARM64_TINY_SRCS))
ARM64_TINY_RAM_BASE := 0x80000000
ARM64_CROSS := aarch64-linux-gnu-

$(ARM64_TINY_DIR)/%.o: tests/tiny-arm64/%.S
	$(Q)scripts/install-deps.sh gcc-aarch64-linux-gnu
	@mkdir -p $(@D)
	$(if $(Q),@echo "  AS a64  $<")
	$(Q)$(ARM64_CROSS)gcc -nostdinc -MMD -MP -c $< -o $@

$(ARM64_TINY_DIR)/%.elf: $(ARM64_TINY_DIR)/%.o
	$(if $(Q),@echo "  LD a64  $@")
	$(Q)$(ARM64_CROSS)ld -nostdlib -static --build-id=none -z noexecstack -Ttext=$(ARM64_TINY_RAM_BASE) \
		-e _start -o $@ $<

$(ARM64_TINY_DIR)/%.Image: $(ARM64_TINY_DIR)/%.elf
	$(if $(Q),@echo "  IMAGE   $@")
	$(Q)$(ARM64_CROSS)objcopy -O binary -j .text $< $@

tiny-arm64: $(ARM64_TINY_IMAGES)

.PRECIOUS: $(ARM64_TINY_DIR)/%.o $(ARM64_TINY_DIR)/%.elf
.PHONY: tiny-arm64
