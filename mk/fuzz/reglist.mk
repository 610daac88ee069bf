# A vCPU's register list in a snapshot (snapshot/reg_list.c), as an arm64 restore reads it against
# its vCPU's KVM_GET_REG_LIST. -max_len: a list of some 8 registers, the 256-byte one among them.
FUZZ_TARGETS += reglist
FUZZ_reglist_SRCS := tests/fuzz/fuzz_reglist.c tests/support/snap_image.c src/snapshot/reg_list.c \
	src/snapshot/snap_file.c src/snapshot/crc64.c src/util.c
FUZZ_reglist_MAX_LEN := 1024
