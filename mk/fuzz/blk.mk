# The virtio-blk request path behind the transport, against a model of the disk.
# -max_len: up to 64 requests of a few dozen bytes.
FUZZ_TARGETS += blk
FUZZ_blk_SRCS := tests/fuzz/fuzz_blk.c $(FUZZ_VIRTIO_SRCS)
FUZZ_blk_MAX_LEN := 2048
