/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The interface between a virtio device (virtio_blk.c, virtio_rng.c,
 * virtio_net.c: one file each, one ops table each) and the transport that
 * carries it (virtio_pci.c).  The transport owns the queues, the feature
 * negotiation, the device status and the interrupts; the device only turns
 * popped chains into work, on the device's I/O thread, never on a vCPU.
 */
#ifndef BULWARK_VIRTIO_H
#define BULWARK_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vmm/virtio_queue.h"

#define VIRTIO_MAX_QUEUES 2

/*
 * Traffic of one device for the metrics (core/vmm_abi.h): "in" toward the
 * guest (disk reads, frames received), "out" from it (disk writes, frames
 * sent); bytes of data and requests (frames) that succeeded.
 */
struct virtio_counters {
	uint64_t in_bytes, in_reqs, out_bytes, out_reqs;
};

/* One relaxed atomic add, for the device's own I/O thread. */
#define VIRTIO_COUNT(field, n) __atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)

struct virtio_device_ops {
	const char *name;               /* "virtio-blk" */
	uint16_t device_id;             /* virtio device type (blk 2, net 1, rng 4) */
	uint16_t pci_class;             /* PCI class and subclass */
	uint16_t num_queues;            /* <= VIRTIO_MAX_QUEUES */
	uint16_t queue_max;             /* power of two <= VIRTQ_MAX_SIZE */
	uint32_t config_size;           /* bytes of device configuration */

	/* Features offered, VIRTIO_F_VERSION_1 excepted (the transport adds it). */
	uint64_t (*features)(void *dev);
	/* OFF + LEN <= config_size (checked by the transport). */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, uint32_t len);
	/* The driver set DRIVER_OK with these FEATURES. */
	void (*activate)(void *dev, uint64_t features);

	/*
	 * Drain queue QI: pop, do, push, at most the queue's size of chains per
	 * call (so a guest refilling the ring cannot pin the thread).  Returns
	 * >0 when used entries were added, 0 if none, -EINVAL when the guest
	 * broke a rule (the transport then sets DEVICE_NEEDS_RESET).
	 */
	int (*queue_process)(void *dev, uint16_t qi, struct virtq *q,
			     const struct gmem *m);

	/*
	 * Optional: a host fd the I/O thread also polls (the tap), with the
	 * events wanted now (0 to not poll it, e.g. no receive buffers), and
	 * what to run on the queue it feeds when the fd is ready.
	 */
	int (*poll_fd)(void *dev, short *events);
	uint16_t poll_queue;

	/* Optional: its traffic counters (struct virtio_counters), kept by its
	 * I/O thread, read by the main thread with relaxed atomic loads. */
	const struct virtio_counters *(*counters)(void *dev);

	/* Device reset: forget negotiated state (queues are the transport's). */
	void (*reset)(void *dev);
	void (*destroy)(void *dev);
};

/* The devices; each *_create() returns the DEV pointer for its ops table. */
extern const struct virtio_device_ops virtio_blk_ops;
extern const struct virtio_device_ops virtio_rng_ops;
extern const struct virtio_device_ops virtio_net_ops;

#endif
