# Not a target: the harness and kiln sources every virtio target links (this file's name sorts
# before theirs, so the list is set when they read it). See tests/fuzz/fuzz_virtio_common.h.
FUZZ_VIRTIO_SRCS := tests/fuzz/fuzz_virtio_common.c tests/fuzz/fuzz_virtio_check.c \
	tests/fuzz/fuzz_virtio_hosts.c tests/fuzz/fuzz_no_seccomp.c src/virtio/mmio.c src/virtio/queue.c \
	src/virtio/iov.c src/virtio/blk.c src/virtio/net.c src/virtio/console.c src/virtio/console_ctrl.c \
	src/virtio/rng.c src/virtio/vsock.c src/virtio/vsock_conn.c src/virtio/vsock_host.c src/io/loop.c \
	src/io/console_out.c src/io/tap.c src/bus/bus.c src/mem/gmem.c src/snapshot/snap_file.c src/snapshot/crc64.c src/log.c \
	src/thread.c src/util.c
