# The LZ4 decoders (boot/lz4.c) that read a bzImage's payload, against a plain reference decoder.
# -max_len: a mode byte, the output room, and a few KiB of compressed input.
FUZZ_TARGETS += lz4
FUZZ_lz4_SRCS := tests/fuzz/fuzz_lz4.c src/boot/lz4.c
FUZZ_lz4_MAX_LEN := 4096
