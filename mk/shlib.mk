# libkiln.so: the shared library, linked from the same release objects as $(BUILD)/rel/libkiln.a
# (built -fPIC for this). Its soname carries the ABI's major number, KILN_SOVERSION, which changes
# only when a program built against the old library could break; the file name carries the
# release, KILN_VERSION of kiln.h. src/libkiln.map exports the kiln_* functions under the version
# node KILN_0.1 and nothing else (tests/integration/install.sh checks `nm -D`).

KILN_VERSION := $(shell sed -n 's/^\#define KILN_VERSION "\(.*\)"$$/\1/p' include/kiln/kiln.h)
KILN_SOVERSION := 0
KILN_SONAME := libkiln.so.$(KILN_SOVERSION)
LIBKILN_SO := $(BUILD)/rel/libkiln.so.$(KILN_VERSION)
LIBKILN_MAP := src/libkiln.map
# -z defs: every symbol the objects use comes from a library named here (a missing -l fails the
# link, not an embedder's program at load time): libc alone, -pthread.
SHLIB_LDFLAGS := -shared -Wl,-soname,$(KILN_SONAME) -Wl,--version-script,$(LIBKILN_MAP) \
	-Wl,-z,defs -Wl,-z,relro,-z,now -pthread

# Objects compiled with other flags are compiled again: a build directory from before -fPIC would
# otherwise keep its -fPIE objects, which cannot be linked into a shared object. The file holds the
# flags and is rewritten only when they change.
RELEASE_FLAGS_FILE := $(BUILD)/rel/cflags
$(shell mkdir -p $(BUILD)/rel && echo '$(RELEASE_CFLAGS)' | cmp -s - $(RELEASE_FLAGS_FILE) || \
	echo '$(RELEASE_CFLAGS)' >$(RELEASE_FLAGS_FILE))
$(call objs,rel,$(CORE_SRCS) $(KVM_SRCS) $(CLI_SRCS)): $(RELEASE_FLAGS_FILE)

$(LIBKILN_SO): $(call objs,rel,$(LIBKILN_SRCS)) $(LIBKILN_MAP)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(SHLIB_LDFLAGS) -o $@ $(filter %.o,$^) $(ARCH_LIBS)

# The links beside it: libkiln.so.0 (what the dynamic loader looks for: the soname) and
# libkiln.so (what the linker looks for with -lkiln).
$(BUILD)/rel/$(KILN_SONAME): $(LIBKILN_SO)
	$(Q)ln -sf $(notdir $<) $@

$(BUILD)/rel/libkiln.so: $(BUILD)/rel/$(KILN_SONAME)
	$(Q)ln -sf $(notdir $<) $@

lib: $(BUILD)/rel/libkiln.a $(BUILD)/rel/libkiln.so
all: lib

.PHONY: lib
