# virtio-vsock packets and credit behind the transport, with Unix-socket host ends in a temp dir.
# -max_len: a few dozen packets and host actions.
FUZZ_TARGETS += vsock
FUZZ_vsock_SRCS := tests/fuzz/fuzz_vsock.c $(FUZZ_VIRTIO_SRCS)
FUZZ_vsock_MAX_LEN := 2048
