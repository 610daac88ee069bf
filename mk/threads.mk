# Two VMs in one process, from two threads at once (kiln.h: threads, signals and lifetimes), in the
# release and the ASan/UBSan build, on this machine's KVM with a tiny guest.

THREADS_ROUNDS ?= 200

$(BUILD)/%/tests/integration/test_threads: $(BUILD)/%/tests/integration/test_threads.o $(BUILD)/%/libkiln.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(if $(findstring /san/,$@),$(SAN_LDFLAGS),$(RELEASE_LDFLAGS)) -o $@ $^ $(LIBS)

# A start that fails part-way (a vCPU's thread refused): pthread_create wrapped at link time.
$(BUILD)/%/tests/integration/test_start_failure: $(BUILD)/%/tests/integration/test_start_failure.o $(BUILD)/%/libkiln.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(if $(findstring /san/,$@),$(SAN_LDFLAGS),$(RELEASE_LDFLAGS)) -Wl,--wrap=pthread_create -o $@ $^ $(LIBS)

check-threads: $(BUILD)/rel/tests/integration/test_threads $(BUILD)/san/tests/integration/test_threads \
		$(BUILD)/rel/tests/integration/test_start_failure $(BUILD)/san/tests/integration/test_start_failure \
		$(BUILD)/tiny/cmdline_status.elf $(BUILD)/tiny/counter.elf
	$(Q)$(call on_kvm,check-threads,$(filter-out %.elf,$^) $(BUILD)/tiny, \
	$(BUILD)/rel/tests/integration/test_start_failure $(BUILD)/tiny/counter.elf && \
	$(BUILD)/san/tests/integration/test_start_failure $(BUILD)/tiny/counter.elf && \
	$(BUILD)/rel/tests/integration/test_threads $(BUILD)/tiny/cmdline_status.elf $(BUILD)/tiny/counter.elf $(THREADS_ROUNDS) && \
	$(BUILD)/san/tests/integration/test_threads $(BUILD)/tiny/cmdline_status.elf $(BUILD)/tiny/counter.elf $(THREADS_ROUNDS))

.PHONY: check-threads

# The same test in a ThreadSanitizer build of libkiln (not in make check: a third build of the
# library). kiln's threads load no seccomp filter there (io/seccomp_install.c). -Wno-tsan: GCC warns
# that TSan does not model atomic_thread_fence (virtio/queue.c), which the test's guest never uses.
TSAN_CFLAGS := $(BASE_CFLAGS) -O1 -fsanitize=thread -Wno-tsan
TSAN_OBJS := $(call objs,tsan,$(LIBKILN_SRCS) tests/integration/test_threads.c)

$(BUILD)/tsan/%.o: %.c | $(BUILD)/gen/io/seccomp_bpf.h
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC tsan $<")
	$(Q)$(CC) $(TSAN_CFLAGS) -c $< -o $@

$(BUILD)/tsan/tests/integration/test_threads: $(TSAN_OBJS)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) -fsanitize=thread -pthread -o $@ $^ $(LIBS)

check-threads-tsan: $(BUILD)/tsan/tests/integration/test_threads $(BUILD)/tiny/cmdline_status.elf $(BUILD)/tiny/counter.elf
	$(Q)TSAN_OPTIONS=halt_on_error=1:exitcode=66 $< $(BUILD)/tiny/cmdline_status.elf $(BUILD)/tiny/counter.elf $(THREADS_ROUNDS)

.PHONY: check-threads-tsan
