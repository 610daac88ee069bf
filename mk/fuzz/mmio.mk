# The virtio-mmio transport with each real device behind it, driven by a register-write program.
# -max_len: programs of a few hundred operations.
FUZZ_TARGETS += mmio
FUZZ_mmio_SRCS := tests/fuzz/fuzz_mmio.c $(FUZZ_VIRTIO_SRCS)
FUZZ_mmio_MAX_LEN := 4096
