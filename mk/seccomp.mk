# The seccomp filters, compiled at build time: tools/seccomp_bpf.c builds each thread class's filter
# from io/seccomp.c's rule tables with libseccomp and prints the BPF programs into
# $(BUILD)/gen/io/seccomp_bpf.h, which io/seccomp_install.c loads. kiln itself neither links
# libseccomp nor builds a filter at run time; the unit tests check the programs against the tables
# (seccomp_check).

SECCOMP_GEN := $(BUILD)/gen/seccomp-bpf
SECCOMP_BPF_H := $(BUILD)/gen/io/seccomp_bpf.h

ARCH_SECCOMP_SRC := src/arch/$(ARCH)/seccomp_$(ARCH).c

$(SECCOMP_GEN): tools/seccomp_bpf.c src/io/seccomp.c src/io/seccomp.h src/util.h src/arch/seccomp_arch.h \
		$(ARCH_SECCOMP_SRC)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(CC) -std=gnu11 $(WARNINGS) -Isrc -Iinclude -O1 -g -o $@ tools/seccomp_bpf.c src/io/seccomp.c $(ARCH_SECCOMP_SRC) \
		$(SECCOMP_LIBS)

$(SECCOMP_BPF_H): $(SECCOMP_GEN)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  GEN     $@")
	$(Q)$(RUN_TARGET) $(SECCOMP_GEN) >$@.tmp && mv $@.tmp $@

# Also before the first build, when no dependency file names the header yet.
$(BUILD)/rel/src/io/seccomp_install.o $(BUILD)/san/src/io/seccomp_install.o: $(SECCOMP_BPF_H)
