# virtio-net transmit and receive with the vnet header behind the transport; a socketpair is the tap.
# -max_len: a few dozen frames and receive buffers.
FUZZ_TARGETS += net
FUZZ_net_SRCS := tests/fuzz/fuzz_net.c $(FUZZ_VIRTIO_SRCS)
FUZZ_net_MAX_LEN := 2048
