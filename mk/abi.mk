# The ABI of libkiln.so.0 (kiln.h's header comment: how the ABI grows). `make check-abi`:
#  - abidiff (Debian's abigail-tools) between abi/libkiln.so.0.abi, the ABI the release committed,
#    and the library just built: any difference fails. A change that keeps kiln.h's rules (a field
#    appended to a struct that grows, a function added under a new version node) is made
#    deliberately: `make abi-baseline` rewrites the baseline, committed with it (README: Embedding);
#  - the layouts: tests/abi/layout.c (every struct that grows ends on its last field) and
#    tests/abi/sizes_0_1.c (src/abi.h's smallest sizes are kiln 0.1's), compiled only;
#  - a program built against kiln 0.1's kiln.h (tests/abi/0.1, kept as released) runs unchanged
#    against this library and against "the next release", a libkiln.so.0 built from a kiln.h with
#    one more field in each struct that grows (tests/abi/next.awk); a program built against that
#    header runs against this library, and is refused with -E2BIG once it sets the new field.

ABI_BASELINE := abi/libkiln.so.0.abi
ABI_DIR := $(BUILD)/abi
# Read before mk/shlib.mk and mk/seccomp.mk define their names: the files, spelled out.
ABI_LIB := $(BUILD)/rel/libkiln.so
ABI_SONAME := libkiln.so.0
ABI_SECCOMP_H := $(BUILD)/gen/io/seccomp_bpf.h
# Only what kiln.h declares: the exported functions and the types they reach, kiln_vm and
# kiln_snapshot opaque (their definitions are private headers'); no paths or line numbers.
ABIDW_FLAGS := --no-corpus-path --no-comp-dir-path --no-show-locs --exported-interfaces-only \
	--headers-dir include/kiln --drop-private-types

$(ABI_DIR)/libkiln.so.0.abi: $(ABI_LIB)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  ABIDW   $@")
	$(Q)abidw $(ABIDW_FLAGS) --out-file $@ $<

check-abi-diff: $(ABI_DIR)/libkiln.so.0.abi
	$(Q)if abidiff $(ABI_BASELINE) $< >$(ABI_DIR)/abidiff.txt 2>&1; then \
		echo "ok - abidiff: $(ABI_LIB) has the ABI of $(ABI_BASELINE)"; \
	else rc=$$?; cat $(ABI_DIR)/abidiff.txt; \
		echo "not ok - abidiff $(ABI_BASELINE) $<: status $$rc (4: ABI changed, 8: incompatibly)." \
			"If the change keeps kiln.h's rules, make abi-baseline and commit it (README: Embedding)"; \
		exit 1; fi

abi-baseline: $(ABI_DIR)/libkiln.so.0.abi
	$(Q)cp $< $(ABI_BASELINE)
	@echo "abi-baseline: $(ABI_BASELINE) rewritten from $(ABI_LIB); commit it with the change"

# --- layouts ----------------------------------------------------------------------------------------
ABI_LAYOUT_CFLAGS := -std=gnu11 $(WARNINGS) -fsyntax-only

check-abi-layout: tests/abi/layout.c tests/abi/sizes_0_1.c include/kiln/kiln.h tests/abi/0.1/kiln/kiln.h src/abi.h
	$(Q)$(CC) $(ABI_LAYOUT_CFLAGS) -Iinclude tests/abi/layout.c
	$(Q)$(CC) $(ABI_LAYOUT_CFLAGS) -Itests/abi/0.1 -Isrc tests/abi/sizes_0_1.c
	@echo "ok - kiln.h's growing structs end on their last field; kiln 0.1's sizes are src/abi.h's"

# --- the next release -------------------------------------------------------------------------------
ABI_NEXT := $(ABI_DIR)/next
ABI_NEXT_H := $(ABI_NEXT)/include/kiln/kiln.h
ABI_NEXT_OBJS := $(patsubst %.c,$(ABI_NEXT)/%.o,$(LIBKILN_SRCS))

# Three fields or the generator missed a struct (kiln.h changed shape): fail rather than test less.
$(ABI_NEXT_H): include/kiln/kiln.h tests/abi/next.awk
	@mkdir -p $(@D)
	$(Q)awk -f tests/abi/next.awk $< >$@.tmp
	$(Q)test "$$(grep -c 'uint64_t abi_next;' $@.tmp)" -eq 3 || \
		{ echo "tests/abi/next.awk: expected 3 structs that grow in $<" >&2; exit 1; }
	$(Q)mv $@.tmp $@

# -O1: this library only has to behave; it is built for check-abi alone.
$(ABI_NEXT)/%.o: %.c $(ABI_NEXT_H) | $(ABI_SECCOMP_H)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC next $<")
	$(Q)$(CC) -I$(ABI_NEXT)/include $(BASE_CFLAGS) -O1 -fPIC -c $< -o $@

$(ABI_NEXT)/$(ABI_SONAME): $(ABI_NEXT_OBJS) src/libkiln.map
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(SHLIB_LDFLAGS) -o $@ $(filter %.o,$^)

# --- the programs -----------------------------------------------------------------------------------
ABI_CLIENT_CFLAGS := -std=gnu11 $(WARNINGS) -O2 -pthread

$(ABI_DIR)/old_client: tests/abi/old_client.c tests/abi/client.c tests/abi/client.h tests/abi/0.1/kiln/kiln.h \
		$(ABI_LIB)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ABI_CLIENT_CFLAGS) -Itests/abi/0.1 -o $@ tests/abi/old_client.c tests/abi/client.c \
		-L$(BUILD)/rel -lkiln

$(ABI_DIR)/new_client: tests/abi/new_client.c tests/abi/client.c tests/abi/client.h $(ABI_NEXT_H) \
		$(ABI_LIB)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ABI_CLIENT_CFLAGS) -I$(ABI_NEXT)/include -o $@ tests/abi/new_client.c tests/abi/client.c \
		-L$(BUILD)/rel -lkiln

check-abi-run: $(ABI_DIR)/old_client $(ABI_DIR)/new_client $(ABI_NEXT)/$(ABI_SONAME) tiny
	$(Q)$(call on_kvm,check-abi-run,$(ABI_DIR)/old_client $(ABI_DIR)/new_client $(ABI_NEXT) \
		$(BUILD)/rel/$(ABI_SONAME) $(BUILD)/tiny, \
	dir=$$(mktemp -d) && trap "rm -rf $$dir" EXIT && \
	echo "# old_client with the release libkiln" && \
	LD_LIBRARY_PATH=$(BUILD)/rel $(ABI_DIR)/old_client $(BUILD)/tiny/status.elf $(BUILD)/tiny/counter.elf "$$dir" same && \
	echo "# old_client with the next release libkiln ($(ABI_NEXT))" && \
	LD_LIBRARY_PATH=$(ABI_NEXT) $(ABI_DIR)/old_client $(BUILD)/tiny/status.elf $(BUILD)/tiny/counter.elf "$$dir" larger && \
	LD_LIBRARY_PATH=$(BUILD)/rel $(ABI_DIR)/new_client $(BUILD)/tiny/status.elf)

check-abi: check-abi-diff check-abi-layout check-abi-run

.PHONY: check-abi check-abi-diff check-abi-layout check-abi-run abi-baseline
