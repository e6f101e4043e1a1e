/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net on a tap device.  The launcher opens /dev/net/tun, attaches it
 * with TUNSETIFF (IFF_TAP | IFF_NO_PI, no IFF_VNET_HDR) and hands the VMM
 * the fd, set O_NONBLOCK; the VMM never opens anything.
 */
#ifndef BULWARK_VIRTIO_NET_H
#define BULWARK_VIRTIO_NET_H

#include <stdint.h>

#include "core/vmm/virtio.h"

/* A NIC on TAP_FD (non-blocking) with MAC.  *DEV is for virtio_net_ops. */
int virtio_net_create(int tap_fd, const uint8_t mac[6], void **dev);

#endif
