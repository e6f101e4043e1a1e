/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio devices of one VM, created from what the launcher handed over
 * (open fds, never paths) and placed on PCI bus 0: disks first in --disk
 * order, then the NIC, then the entropy device.
 *
 * Call order in the VMM:
 *   virtio_setup()     after devices_init() (the PCI host exists), before
 *                      the vCPUs run; KVM routes, irqfds and ioeventfds are
 *                      made here, before any confinement
 *   virtio_start()     with the other threads: one I/O thread per device,
 *                      each confined as VMM_ROLE_IO first thing
 *   virtio_teardown()  after the vCPU threads are joined; stops and joins
 *                      the I/O threads, closes the device fds
 */
#ifndef BULWARK_VIRTIO_SETUP_H
#define BULWARK_VIRTIO_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vmm/virtio_blk.h"
#include "core/vmm/vm.h"

#define VIRTIO_PAUSE_TIMEOUT_MS 5000   /* a request in flight that long */
#define VIRTIO_MAX_DEVICES (VIRTIO_BLK_MAX_DISKS + 2)

struct virtio_setup_cfg {
	struct {
		int fd;                         /* O_RDWR, or O_RDONLY if readonly */
		bool readonly;
		char serial[VIRTIO_BLK_SERIAL_MAX + 1];
	} disk[VIRTIO_BLK_MAX_DISKS];
	uint32_t ndisks;
	int tap_fd;                             /* -1: no NIC */
	uint8_t mac[6];
	bool rng;
};

struct virtio_set;

/* 0 or -errno (logged).  The devices own their fds from here on. */
int virtio_setup(struct vm *vm, const struct virtio_setup_cfg *cfg, struct virtio_set **out);
int virtio_start(struct virtio_set *s);
void virtio_teardown(struct virtio_set *s);

/*
 * Pause every device's I/O thread (virtio_pci_pause; on failure the ones
 * paused are resumed), resume them all (NULL is fine for both), and sum
 * the devices' counters: disks into *disk, NICs into *net.
 */
int virtio_pause(struct virtio_set *s);
void virtio_resume(struct virtio_set *s);
void virtio_counters_sum(const struct virtio_set *s, struct virtio_counters *disk,
			 struct virtio_counters *net);

/* Snapshot (core/vmm/virtio_pci_snap.c): the devices in creation order. */
struct virtio_pci;
struct snap_buf;
struct virtio_device_ops;
uint32_t virtio_count(const struct virtio_set *s);
struct virtio_pci *virtio_get(struct virtio_set *s, uint32_t i);
int virtio_pci_snap_save(struct virtio_pci *vp, struct snap_buf *b);
int virtio_pci_snap_check(const struct virtio_device_ops *ops, uint32_t index,
			  const uint8_t *p, size_t len);
int virtio_pci_snap_restore(struct virtio_pci *vp, uint32_t index,
			    const uint8_t *p, size_t len);

#endif
