/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host tap devices for virtio-net: attach to an existing tap by name, every frame carrying a
 * 12-byte virtio-net header (IFF_VNET_HDR, struct virtio_net_hdr_v1 with num_buffers), and tell
 * the tap which offloaded frames its reader accepts.
 *
 * Offloads are the kernel's TUN_F_* bits (linux/if_tun.h): CSUM, TSO4, TSO6, TSO_ECN, UFO.
 */
#ifndef KILN_IO_TAP_H
#define KILN_IO_TAP_H

#include <linux/if_tun.h>
#include <stddef.h>

#include "util.h"

#define TAP_VNET_HDR_SIZE 12 /* virtio 1.2 §5.1.6: the header with num_buffers */

/*
 * Attaches to the existing tap `name` (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), non-blocking and
 * close-on-exec, with a TAP_VNET_HDR_SIZE header. A missing tap is an error, never created.
 * *offloads: the TUN_F_* bits the tap accepts (probed); the tap is left with none set. 0, or
 * -errno with a message naming the tap in err.
 */
int tap_open(const char *name, int *fd, unsigned int *offloads, char *err, size_t errlen) MUST_CHECK;

/* Sets the frames the reader accepts (TUNSETOFFLOAD): TUN_F_* bits. 0 or -errno. */
int tap_set_offloads(int fd, unsigned int offloads) MUST_CHECK;

/* The MTU of the interface `name` (SIOCGIFMTU). 0 or -errno. */
int tap_get_mtu(const char *name, unsigned int *mtu) MUST_CHECK;

#endif
