/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng: entropy for the guest from the host's getrandom(). */
#ifndef BULWARK_VIRTIO_RNG_H
#define BULWARK_VIRTIO_RNG_H

/* Most bytes handed out per request, whatever the guest asks for. */
#define VIRTIO_RNG_MAX_BYTES 4096u

/* *DEV is for virtio_rng_ops.  0 or -ENOMEM. */
int virtio_rng_create(void **dev);

#endif
