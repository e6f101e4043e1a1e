/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator's device options: "--disk PATH[,readonly][,serial=ID]" and
 * "--net tap=NAME[,mac=MAC]".  Pure parsing, no file or device is touched.
 */
#ifndef BULWARK_DEVOPTS_H
#define BULWARK_DEVOPTS_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_BLK_SERIAL_MAX 20        /* VIRTIO_BLK_ID_BYTES */
#define VIRTIO_BLK_MAX_DISKS  8

struct disk_opts {
	char path[PATH_MAX];
	bool readonly;
	char serial[VIRTIO_BLK_SERIAL_MAX + 1];  /* "" when none */
};

/*
 * Parse "PATH[,readonly][,serial=ID]" (the --disk value).  ID: 1..20 of
 * [A-Za-z0-9._-].  Returns 0 or -EINVAL (message logged, naming WHAT).
 */
int devopts_disk_parse(const char *arg, struct disk_opts *o, const char *what);

struct net_opts {
	char tap[IFNAMSIZ];
	uint8_t mac[6];
};

/*
 * Parse "tap=NAME[,mac=XX:XX:XX:XX:XX:XX]" (the --net value).  Without mac=
 * the MAC is 52:54:00 followed by three random bytes.  0 or -EINVAL (logged,
 * naming WHAT).
 */
int devopts_net_parse(const char *arg, struct net_opts *o, const char *what);

#endif
