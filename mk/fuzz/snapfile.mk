# The snapshot state file's reader, cursors and writer (snapshot/snap_file.c). -max_len: the
# 1-byte prefix and files up to 8 KiB, room for some 500 sections.
FUZZ_TARGETS += snapfile
FUZZ_snapfile_SRCS := tests/fuzz/fuzz_snapfile.c src/snapshot/snap_file.c src/snapshot/crc64.c \
	src/util.c
FUZZ_snapfile_MAX_LEN := 8193
