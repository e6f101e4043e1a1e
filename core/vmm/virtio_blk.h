/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk on a raw image file.  The launcher opens the image (read-write,
 * or read-only for ",readonly") and hands the VMM the fd; the VMM never
 * opens a path.
 */
#ifndef BULWARK_VIRTIO_BLK_H
#define BULWARK_VIRTIO_BLK_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/devopts.h"
#include "core/vmm/virtio.h"

/* Largest data transfer of one request; bigger ones get IOERR. */
#define VIRTIO_BLK_MAX_REQ_BYTES (32u << 20)

/*
 * A disk on FD (a regular file, opened O_RDWR unless READONLY).  SERIAL may
 * be "" or NULL.  *DEV is for virtio_blk_ops.  0 or -errno (logged).
 */
int virtio_blk_create(int fd, bool readonly, const char *serial, void **dev);

/*
 * One request chain (exported for the unit tests and the fuzz target).
 * Returns 0 with *WRITTEN the bytes written into the chain (status
 * included), -EINVAL when the chain cannot carry a request at all (the
 * queue is then broken, see virtq_fail()), or -EINTR when Q was halted
 * (virtq_halted()) before a read or write finished: nothing was reported,
 * the chain is the caller's to give back.  Data moves in chunks of at most
 * 1 MiB with the halt checked before each.
 */
int virtio_blk_request(void *dev, struct virtq *q, const struct virtq_chain *c,
		       uint32_t *written);

#endif
