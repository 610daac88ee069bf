# A snapshot's device sections loaded into real devices (virtio/mmio_snapshot.c with blk, rng, net,
# console and vsock, devices/i8042.c, devices/serial.c), as a restore loads them. -max_len: a
# section a few queues long.
FUZZ_TARGETS += restore
FUZZ_restore_SRCS := tests/fuzz/fuzz_restore.c tests/fuzz/fuzz_no_seccomp.c tests/support/snap_image.c \
	src/virtio/mmio_snapshot.c \
	src/virtio/mmio.c src/virtio/queue.c src/virtio/iov.c src/virtio/blk.c src/virtio/rng.c src/virtio/net.c \
	src/io/tap.c \
	src/virtio/console.c src/virtio/console_ctrl.c src/virtio/vsock.c src/virtio/vsock_conn.c \
	src/virtio/vsock_host.c \
	src/devices/i8042.c src/devices/serial.c src/io/console_out.c src/irq/irq.c src/io/loop.c \
	src/bus/bus.c src/mem/gmem.c \
	src/snapshot/snap_file.c src/snapshot/crc64.c src/log.c src/thread.c src/util.c
FUZZ_restore_MAX_LEN := 1024
