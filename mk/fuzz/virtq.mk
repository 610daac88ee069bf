# Split-virtqueue descriptor chains (virtio/queue.c). -max_len: the 4-byte header plus 8 KiB of RAM.
FUZZ_TARGETS += virtq
FUZZ_virtq_SRCS := tests/fuzz/fuzz_virtq.c src/virtio/queue.c src/mem/gmem.c src/log.c src/util.c
FUZZ_virtq_MAX_LEN := 8196
