# $(call hostile_lib_guest,NAME): build/tiny/NAME.elf from tests/tiny/NAME/main.c, freestanding C
# like the hostile guest, linked with its virtio driver and output (io.o virtio.o requests.o) and
# entered through its start.S, which calls NAME_main here. Used by mk/tiny.mk and mk/snapshot.mk.
define hostile_lib_guest
$(BUILD)/tiny/$(1)/start.o: tests/tiny/hostile/start.S
	@mkdir -p $$(@D)
	$$(if $$(Q),@echo "  AS m32  $$<")
	$$(Q)$$(CC) -m32 -nostdinc -MMD -MP -Dhostile_main=$(1)_main -c $$< -o $$@

$(BUILD)/tiny/$(1)/%.o: tests/tiny/$(1)/%.c
	@mkdir -p $$(@D)
	$$(if $$(Q),@echo "  CC m32  $$<")
	$$(Q)$$(CC) $$(HOSTILE_CFLAGS) -Itests/tiny/hostile -c $$< -o $$@

$(BUILD)/tiny/$(1).elf: $(BUILD)/tiny/$(1)/start.o $(BUILD)/tiny/$(1)/main.o \
		$(addprefix $(BUILD)/tiny/hostile/,io.o virtio.o requests.o) tests/tiny/hostile/hostile.ld
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)$$(LD) -m elf_i386 $$(TINY_LDFLAGS) -T tests/tiny/hostile/hostile.ld -o $$@ $$(filter %.o,$$^)
endef
