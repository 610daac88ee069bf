/* SPDX-License-Identifier: Apache-2.0 */
/* Games that need to know the device: its request format, or data the host side sends. */
#ifndef HOSTILE_DEVICE_GAMES_H
#define HOSTILE_DEVICE_GAMES_H

#include "virtio.h"

void device_games_run(struct vdev *d);

#endif
