# The benchmark's peers (bench/peers.sh): the tiny guests for kvmtool, flat real-mode binaries
# (kvmtool boots no PVH ELF), built with the tiny guests' assembler flags (mk/tiny.mk, expanded late).
# kvmtool itself is built by bench/peers.sh from ../shared/peers, cached outside the tree.

BENCH_PEER_GUESTS := $(patsubst bench/peers/%.S,$(BUILD)/bench/peers/%.bin,$(sort $(wildcard bench/peers/*.S)))

$(BUILD)/bench/peers/%.o: bench/peers/%.S
	@mkdir -p $(@D)
	$(if $(Q),@echo "  AS      $<")
	$(Q)$(CC) -m32 -nostdinc -MMD -MP -Itests -Ibench/peers -c $< -o $@

$(BUILD)/bench/peers/%.bin: $(BUILD)/bench/peers/%.o
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(LD) -m elf_i386 -nostdlib -static --build-id=none -Ttext=0 --oformat binary -o $@ $<

bench: $(BENCH_PEER_GUESTS)

.PRECIOUS: $(BUILD)/bench/peers/%.o
