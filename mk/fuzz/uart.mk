# The 16550A UART's registers (devices/serial.c) with host input through devices/serial_input.c
# (the I/O loop is the target's own stand-in). -max_len: a program of 2-byte steps.
FUZZ_TARGETS += uart
FUZZ_uart_SRCS := tests/fuzz/fuzz_uart.c src/devices/serial.c src/devices/serial_input.c \
	src/io/console_out.c src/bus/bus.c src/irq/irq.c src/snapshot/snap_file.c src/snapshot/crc64.c \
	src/log.c src/util.c
FUZZ_uart_MAX_LEN := 1024
