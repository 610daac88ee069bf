# The PVH/ELF kernel loader (arch/x86/pvh.c) on crafted files, into a guest of 1-2 MiB of RAM.
# -max_len: the 4-byte header plus an ELF the size of a tiny test guest (under 5 KiB) and more.
FUZZ_TARGETS += pvh
FUZZ_pvh_SRCS := tests/fuzz/fuzz_pvh.c tests/fuzz/boot_harness.c src/arch/x86/boot.c \
	src/arch/x86/bzimage.c src/arch/x86/pvh.c src/arch/x86/layout.c src/mem/gmem.c src/log.c src/util.c
FUZZ_pvh_MAX_LEN := 8192
