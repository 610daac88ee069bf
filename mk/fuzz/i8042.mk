# The i8042 controller and keyboard (devices/i8042.c): port programs with host Ctrl-Alt-Del in
# between, checked against what the guest wrote. -max_len: a program of 2-byte steps.
FUZZ_TARGETS += i8042
FUZZ_i8042_SRCS := tests/fuzz/fuzz_i8042.c src/devices/i8042.c src/bus/bus.c src/irq/irq.c src/log.c \
	src/snapshot/snap_file.c src/snapshot/crc64.c \
	src/util.c
FUZZ_i8042_MAX_LEN := 512
