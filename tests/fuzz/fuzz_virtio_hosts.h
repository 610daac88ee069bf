/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of each virtio device for the fuzz targets: the device made the way the VM makes
 * it, on host ends the target holds (a memfd disk, a SOCK_DGRAM socketpair as the tap, pipes or a
 * file as the terminal, Unix sockets in a temporary directory for vsock), and host actions on
 * those ends (data arriving, reads, hang-ups), chosen by the fuzz input.
 */
#ifndef KILN_TESTS_FUZZ_VIRTIO_HOSTS_H
#define KILN_TESTS_FUZZ_VIRTIO_HOSTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "fuzz/fuzz_virtio_common.h"
#include "virtio/device.h"

enum fv_kind { FV_BLK, FV_NET, FV_CONSOLE, FV_RNG, FV_VSOCK, FV_KINDS };
enum fv_con_input { FV_CON_PIPE, FV_CON_FILE, FV_CON_NONE };

#define FV_CON_FILE_INPUT "typed into a file\n" /* what a console's file input holds */
#define FV_VSOCK_CID 3
#define FV_VSOCK_PORT0 1000 /* host listeners for guest connects: "<uds>_1000", "<uds>_1001" */
#define FV_VSOCK_LISTENERS 2
#define FV_VSOCK_PEERS 8    /* host sockets: clients of the uds, or accepted guest connects */

struct fv_host_opts {
	uint64_t disk_size; /* blk */
	bool read_only;
	uint16_t mtu;       /* net */
	enum fv_con_input con_input;
};

struct fv_host {
	enum fv_kind kind;
	struct virtio_dev *dev;
	struct virtio_blk *blk;
	struct virtio_net *net;
	struct virtio_console *con;
	struct virtio_rng *rng;
	struct virtio_vsock *vsock;
	int disk;            /* blk: the image */
	uint64_t disk_size;
	int tap;             /* net: the host's end */
	int con_in[2];       /* console: the device reads con_in[0] (or a file there) */
	int con_out[2];      /* console: the device writes con_out[1] */
	int vs_listen[FV_VSOCK_LISTENERS];
	int vs_peer[FV_VSOCK_PEERS];
	struct sockaddr_un uds;
};

/* Options for the generic target from one input byte. */
struct fv_host_opts fv_host_opts_from(uint8_t b);
void fv_host_create(struct fv_host *h, enum fv_kind kind, const struct fv_host_opts *o);
/* One host action, chosen and shaped by the input (nothing for rng). */
void fv_host_event(struct fv_host *h, struct fv_in *in);
/* Destroys the device and closes every host end; checks the disk kept its size and tail. */
void fv_host_destroy(struct fv_host *h);

#endif
