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

# The hostile guest (tests/tiny/hostile/): freestanding 32-bit C, entered through start.S, linked into
# an ELF32 with a PVH note (build/tiny/hostile.elf). No libc, no libgcc: gcc alone builds it, without
# multilib.
HOSTILE_SRCS := $(sort $(wildcard tests/tiny/hostile/*.c))
HOSTILE_OBJS := $(BUILD)/tiny/hostile/start.o \
	$(patsubst tests/tiny/hostile/%.c,$(BUILD)/tiny/hostile/%.o,$(HOSTILE_SRCS))
HOSTILE_CFLAGS := -m32 -march=i686 -std=gnu11 $(WARNINGS) -O2 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables \
	-mgeneral-regs-only -MMD -MP

$(BUILD)/tiny/hostile/%.o: tests/tiny/hostile/%.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC m32  $<")
	$(Q)$(CC) $(HOSTILE_CFLAGS) -c $< -o $@

$(BUILD)/tiny/hostile/start.o: tests/tiny/hostile/start.S
	@mkdir -p $(@D)
	$(if $(Q),@echo "  AS m32  $<")
	$(Q)$(CC) -m32 -nostdinc -MMD -MP -c $< -o $@

$(BUILD)/tiny/hostile.elf: $(HOSTILE_OBJS) tests/tiny/hostile/hostile.ld
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(LD) -m elf_i386 $(TINY_LDFLAGS) -T tests/tiny/hostile/hostile.ld -o $@ $(HOSTILE_OBJS)

# The slow disk test's guest (tests/tiny/slowdisk/).
SLOWDISK := $(BUILD)/tiny/slowdisk.elf
$(eval $(call hostile_lib_guest,slowdisk))

tiny: $(TINY_ELFS) $(BUILD)/tiny/hostile.elf $(SLOWDISK)

# The hostile guest's host side (tests/integration/hostile.sh runs kiln through it).
HOSTILE_HOST := $(BUILD)/rel/tests/integration/hostile_host
$(HOSTILE_HOST): $(BUILD)/rel/tests/integration/hostile_host.o
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(RELEASE_LDFLAGS) -o $@ $^

# Boots every tiny guest under build/kiln, then under the ASan/UBSan build of kiln.
TINY_SUITE_FILES := $(BUILD)/kiln $(BUILD)/san/kiln $(BUILD)/tiny $(HOSTILE_HOST) \
	$(addprefix tests/integration/,tiny.sh tiny_lib.sh lib.sh hostile.sh seccomp.sh slow_disk.sh terminal.sh)

check-tiny: $(BUILD)/kiln $(BUILD)/san/kiln tiny $(HOSTILE_HOST)
	$(Q)$(call on_kvm,check-tiny,$(TINY_SUITE_FILES), \
	tests/integration/tiny.sh $(BUILD)/kiln $(BUILD)/tiny && \
	tests/integration/tiny.sh $(BUILD)/san/kiln $(BUILD)/tiny && \
	tests/integration/hostile.sh $(BUILD)/kiln $(HOSTILE_HOST) $(BUILD)/tiny && \
	tests/integration/hostile.sh $(BUILD)/san/kiln $(HOSTILE_HOST) $(BUILD)/tiny && \
	tests/integration/seccomp.sh $(BUILD)/san/kiln $(BUILD)/tiny && \
	tests/integration/slow_disk.sh $(BUILD)/san/kiln $(BUILD)/tiny && \
	tests/integration/terminal.sh $(BUILD)/kiln $(BUILD)/tiny && \
	tests/integration/terminal.sh $(BUILD)/san/kiln $(BUILD)/tiny)

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
	$(Q)$(call on_kvm,check-embed,$(BUILD)/rel/tests/integration/test_embed \
		$(BUILD)/san/tests/integration/test_embed $(BUILD)/rel/examples/embed $(BUILD)/tiny, \
	$(BUILD)/rel/tests/integration/test_embed $(BUILD)/tiny/counter.elf $(BUILD)/tiny/status.elf && \
	$(BUILD)/san/tests/integration/test_embed $(BUILD)/tiny/counter.elf $(BUILD)/tiny/status.elf && \
	out=$$($(BUILD)/rel/examples/embed $(BUILD)/tiny/status.elf < /dev/null 2>&1); \
	if echo "$$out" | grep -qx "embed: the guest reported a status (status 42)"; then \
		echo "ok - examples/embed.c boots the status guest and reports its status 42"; \
	else echo "not ok - examples/embed.c on the status guest: $$out"; exit 1; fi)

.PHONY: check-embed
