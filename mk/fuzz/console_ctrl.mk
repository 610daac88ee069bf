# virtio-console's MULTIPORT control messages behind the transport, with the terminal on pipes.
# -max_len: a few dozen messages, buffers and keystrokes.
FUZZ_TARGETS += console_ctrl
FUZZ_console_ctrl_SRCS := tests/fuzz/fuzz_console_ctrl.c $(FUZZ_VIRTIO_SRCS)
FUZZ_console_ctrl_MAX_LEN := 2048
