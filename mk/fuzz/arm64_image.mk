# The arm64 Image header parser and the kernel's placement in RAM (arch/arm64/image.c) on any
# bytes. -max_len: 16 bytes of RAM layout, the 64-byte header and a little of the file behind it.
FUZZ_TARGETS += arm64_image
FUZZ_arm64_image_SRCS := tests/fuzz/fuzz_arm64_image.c src/arch/arm64/image.c src/util.c
FUZZ_arm64_image_MAX_LEN := 512
