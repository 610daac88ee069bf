# make bench [QUICK=1]: kiln against QEMU's microvm on the same guests, as ratios (bench/README.md).
# make bench-kernel: the minimal guest kernel for the benchmark (long: a kernel build), cached outside
# the tree in ${KILN_CACHE:-$HOME/.cache/kiln}/bench-kernel/; bench uses it when it is there.

BENCH_DIR := $(BUILD)/bench
BENCH_TINY_ELFS := $(patsubst bench/tiny/%.S,$(BENCH_DIR)/tiny/%.elf,$(sort $(wildcard bench/tiny/*.S)))
BENCH_TOOLS := $(BENCH_DIR)/stopwatch $(BENCH_DIR)/sockchat
# iproute2: the network figures' namespace and tap (bench/linux_net.sh); iperf3: their TCP rows, in
# the namespace and in the guest's initramfs with its libraries (bench/network.sh). busybox-static:
# the guest build's (not busybox, which conflicts with it). fio and e2fsprogs: the block figures' fio,
# which bench/bench.sh puts with its libraries on an ext4 disk (mkfs.ext4 -d) for the guest.
BENCH_PKGS := qemu-system-x86 cpio libc6-dev iproute2 busybox-static fio e2fsprogs iperf3
BENCH_KERNEL_PKGS := linux-source-6.1 build-essential bc bison flex libelf-dev libssl-dev xz-utils cpio \
	kmod
BENCH_CFLAGS := -std=gnu11 $(WARNINGS) -O2 -g -MMD -MP
# The tiny guests reuse tests/tiny's linker script and flags (TINY_* come from mk/tiny.mk, which is read
# after this file: they are used in recipes only, where make expands them late).
BENCH_TINY_LDS := tests/tiny/tiny.ld

$(BENCH_DIR)/tiny/%.o: bench/tiny/%.S
	@mkdir -p $(@D)
	$(if $(Q),@echo "  AS      $<")
	$(Q)$(CC) $(TINY_ASFLAGS) -Itests -Ibench/tiny -c $< -o $@

$(BENCH_DIR)/tiny/%.elf: $(BENCH_DIR)/tiny/%.o $(BENCH_TINY_LDS)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(LD) $(TINY_LDFLAGS) -T $(BENCH_TINY_LDS) -o $@ $<

# The timer runs on this machine and inside the test host (run.sh brings its libraries along).
$(BENCH_DIR)/stopwatch: bench/tools/stopwatch.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $<

# The snapshot rows' client for kiln's API and QEMU's QMP (bench/snapshot.sh), here and in the test host.
$(BENCH_DIR)/sockchat: bench/tools/sockchat.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $<

bench-deps:
	$(Q)scripts/install-deps.sh $(BENCH_PKGS)

# The full run also starts clones of one snapshot (bench/clones.sh, mk/clones.mk: tiny guests here;
# bench/clones_linux.sh: a 256 MiB Linux guest against fresh boots, in a KVM test host); QUICK leaves
# them out. QUICK also leaves out bench.sh's Debian 12 disk-image row (bench/debian.sh; its image
# script installs mmdebstrap through scripts/install-deps.sh when it first builds the image).
bench: bench-deps $(BUILD)/kiln tiny guest $(BENCH_TINY_ELFS) $(BENCH_TOOLS) $(BUILD)/bench/clone_start
	$(Q)bench/bench.sh $(if $(filter-out 0,$(QUICK)),--quick)
	$(Q)$(if $(filter-out 0,$(QUICK)),true,bench/clones.sh $(BUILD)/kiln $(BUILD)/tiny $(BUILD)/bench/clone_start)
	$(Q)$(if $(filter-out 0,$(QUICK)),true,bench/clones_linux.sh $(BUILD)/kiln $(BUILD)/bench/clone_start $(BUILD)/guest)

bench-kernel:
	$(Q)scripts/install-deps.sh $(BENCH_KERNEL_PKGS)
	$(Q)bench/kernel.sh

.PRECIOUS: $(BENCH_DIR)/tiny/%.o
.PHONY: bench bench-deps bench-kernel
