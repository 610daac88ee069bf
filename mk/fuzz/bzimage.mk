# The bzImage kernel loader (arch/x86/bzimage.c) on crafted files, into a guest of 1-2 MiB of RAM.
# -max_len: the 4-byte header plus setup sectors (up to 0x1f1 + 255 * 512 bytes of them would
# need 128 KiB; a few do) and a payload.
FUZZ_TARGETS += bzimage
FUZZ_bzimage_SRCS := tests/fuzz/fuzz_bzimage.c tests/fuzz/boot_harness.c src/arch/x86/boot.c \
	src/arch/x86/bzimage.c src/arch/x86/pvh.c src/arch/x86/layout.c src/mem/gmem.c src/log.c src/util.c
FUZZ_bzimage_MAX_LEN := 8192
