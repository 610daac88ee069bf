# kiln — non-recursive build; everything goes to build/.
#   make            build/kiln (release)
#   make run        install what is missing, build kiln and the test guest, boot it on the console
#   make check      install what is missing, run every test
#   V=1             show full commands
# SPDX-License-Identifier: Apache-2.0

CC ?= gcc
# The machine kiln is built for (src/arch/$(ARCH)): x86 (x86_64) or arm64 (aarch64); the host's by default.
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86)
ARCH ?= $(HOST_ARCH)
ifeq ($(filter x86 arm64,$(ARCH)),)
$(error ARCH=$(ARCH): kiln has machines for x86 and arm64)
endif
# Another architecture's build goes to build/ARCH/, cross-compiled with Debian's compiler and the
# libraries of its multiarch -dev packages (deps-arm64, mk/deps.mk); its programs run here under
# qemu-user (RUN_TARGET).
ifeq ($(ARCH),x86)
BUILD := build
else
BUILD := build/$(ARCH)
endif
ifneq ($(ARCH),$(HOST_ARCH))
CROSS_TRIPLET_arm64 := aarch64-linux-gnu
CROSS_QEMU_arm64 := qemu-aarch64-static
CC := $(CROSS_TRIPLET_$(ARCH))-gcc
RUN_TARGET := $(CROSS_QEMU_$(ARCH))
ARCH_DEPS := deps-$(ARCH)
else
RUN_TARGET :=
ARCH_DEPS :=
endif
Q := $(if $(V),,@)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wvla -Wimplicit-fallthrough
BASE_CFLAGS := -std=gnu11 $(WARNINGS) -Isrc -Iinclude -Itests -I$(BUILD)/gen -MMD -MP -fvisibility=hidden \
	-pthread -g
RELEASE_CFLAGS := $(BASE_CFLAGS) -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-fstack-clash-protection -fPIC
RELEASE_LDFLAGS := -pie -Wl,-z,relro,-z,now -pthread
# The kiln program is linked static (PIE, so ASLR stays): one process per VM, and each dynamic start
# mapped and relocated libc and json-c anew, ~1.1 MiB of RSS and ~0.25 ms of CPU per VM beyond what
# kiln itself uses (docs/DESIGN-as-built.md, "Linking"). libkiln.so and the tests stay dynamic.
RELEASE_PROG_LDFLAGS := -static-pie -Wl,-z,relro,-z,now -pthread
SAN_CFLAGS := $(BASE_CFLAGS) -DKILN_TEST_HOOKS -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
SAN_LDFLAGS := -fsanitize=address,undefined -pthread
# The arm64 machine writes its device tree with libfdt (arch/arm64/fdt.c). The cross build has
# libfdt1:arm64 but not libfdt-dev:arm64 (mk/deps.mk): it links the shared library itself, and so
# its kiln program is dynamic (libfdt.a is in libfdt-dev alone).
ifeq ($(ARCH),arm64)
ifneq ($(ARCH),$(HOST_ARCH))
ARCH_LIBS := -l:libfdt.so.1
RELEASE_PROG_LDFLAGS := $(RELEASE_LDFLAGS)
else
ARCH_LIBS := -lfdt
endif
endif
LIBS := -ljson-c $(ARCH_LIBS)
SECCOMP_LIBS := -lseccomp # the filters' compiler (mk/seccomp.mk) and the unit tests, not kiln

# Sources: the core (everything a unit test may link), the files that talk to KVM, the CLI. Of
# src/arch/, only the machine of $(ARCH) (arch/arch.h); its kvm_$(ARCH).c holds its own KVM ioctls.
ARCH_KVM_SRCS := src/arch/$(ARCH)/kvm_$(ARCH).c
CORE_SRCS := $(sort $(shell find src -name '*.c' ! -path 'src/cli/*' ! -path 'src/kvm/*' ! -path 'src/arch/*') \
	$(filter-out $(ARCH_KVM_SRCS),$(wildcard src/arch/$(ARCH)/*.c)))
KVM_SRCS := src/kvm/kvm.c $(ARCH_KVM_SRCS)
# The arm64 machine's pure modules (device tree, Image header): built on any host for the unit
# tests, which link them with libfdt; in the x86 kiln, not at all.
ARM64_PURE_SRCS := src/arch/arm64/fdt.c src/arch/arm64/image.c
# libkiln (.a and .so): the core and KVM, less the seccomp rule tables' compiler and its machine's
# table (build time and tests) and the Firecracker API server (kiln's: no kiln.h function reaches
# it, and it alone needs json-c)
API_SRCS := $(sort $(wildcard src/api/*.c))
LIBKILN_SRCS := $(filter-out src/io/seccomp.c src/arch/$(ARCH)/seccomp_$(ARCH).c $(API_SRCS),$(CORE_SRCS)) \
	$(KVM_SRCS)
CLI_SRCS := $(sort $(wildcard src/cli/*.c))
CLI_LIB_SRCS := $(filter-out src/cli/main.c,$(CLI_SRCS)) # what unit tests of the CLI link
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
SUPPORT_SRCS := $(sort $(wildcard tests/support/*.c)) tests/fakes/fake_kvm.c

# $(call objs,VARIANT,SRCS): object paths of a build variant (rel or san).
objs = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

all: $(BUILD)/kiln

# --- compiling ---------------------------------------------------------------------------------------
$(BUILD)/rel/%.o: %.c | $(ARCH_DEPS)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(RELEASE_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c | $(ARCH_DEPS)
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC san  $<")
	$(Q)$(CC) $(SAN_CFLAGS) -c $< -o $@

# --- kiln and libkiln, in both variants --------------------------------------------------------------
define variant
$(BUILD)/$(1)/libkiln-core.a: $(call objs,$(1),$(CORE_SRCS))
	$(Q)rm -f $$@ && ar rcs $$@ $$^

$(BUILD)/$(1)/libkiln.a: $(call objs,$(1),$(LIBKILN_SRCS))
	$(Q)rm -f $$@ && ar rcs $$@ $$^

$(BUILD)/$(1)/kiln: $(call objs,$(1),$(CLI_SRCS) $(API_SRCS)) $(BUILD)/$(1)/libkiln.a
	$(if $(Q),@echo "  LD      $$@")
	$(Q)$(CC) $(3) -o $$@ $$^ $(LIBS)

$(BUILD)/$(1)/libkiln-arm64-pure.a: $(call objs,$(1),$(ARM64_PURE_SRCS))
	$(Q)rm -f $$@ && ar rcs $$@ $$^

$(BUILD)/$(1)/tests/unit/%: $(BUILD)/$(1)/tests/unit/%.o $(call objs,$(1),$(SUPPORT_SRCS) $(CLI_LIB_SRCS)) $(BUILD)/$(1)/libkiln-arm64-pure.a $(BUILD)/$(1)/libkiln-core.a
	$(if $(Q),@echo "  LD      $$@")
	$(Q)$(CC) $(2) -o $$@ $$^ -lcmocka $(SECCOMP_LIBS) -lfdt $(LIBS)
endef
$(eval $(call variant,rel,$(RELEASE_LDFLAGS),$(RELEASE_PROG_LDFLAGS)))
$(eval $(call variant,san,$(SAN_LDFLAGS),$(SAN_LDFLAGS)))

# Replaced by rename, not rewritten: a kiln still running from the old file keeps it.
$(BUILD)/kiln: $(BUILD)/rel/kiln
	$(Q)cp $< $@.new && mv $@.new $@

UNIT_TESTS_REL := $(patsubst %.c,$(BUILD)/rel/%,$(UNIT_SRCS))
UNIT_TESTS_SAN := $(patsubst %.c,$(BUILD)/san/%,$(UNIT_SRCS))
.PRECIOUS: $(BUILD)/rel/%.o $(BUILD)/san/%.o

# Each mk/*.mk adds one group of targets: deps, tiny guests, the Linux test guest, checks.
include $(sort $(wildcard mk/*.mk))

clean:
	rm -rf $(BUILD)

.PHONY: all clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
