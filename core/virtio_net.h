/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net on a tap device.  The launcher opens /dev/net/tun, attaches it
 * with TUNSETIFF (IFF_TAP | IFF_NO_PI, no IFF_VNET_HDR) and hands the VMM
 * the fd, set O_NONBLOCK; the VMM never opens anything.
 */
#ifndef BULWARK_VIRTIO_NET_H
#define BULWARK_VIRTIO_NET_H

#include <net/if.h>
#include <stdint.h>

#include "core/virtio.h"

struct virtio_net_opts {
	char tap[IFNAMSIZ];
	uint8_t mac[6];
};

/*
 * Parse "tap=NAME[,mac=XX:XX:XX:XX:XX:XX]" (the --net value).  Without mac=
 * the MAC is 52:54:00 followed by three random bytes.  0 or -EINVAL (logged,
 * naming WHAT).
 */
int virtio_net_parse_opts(const char *arg, struct virtio_net_opts *o, const char *what);

/* A NIC on TAP_FD (non-blocking) with MAC.  *DEV is for virtio_net_ops. */
int virtio_net_create(int tap_fd, const uint8_t mac[6], void **dev);

#endif
