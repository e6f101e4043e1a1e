/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The modern virtio-pci transport (virtio 1.x, 4.1): one PCI function per
 * device, vendor 1af4 device 1040 + type, with one 4 KiB memory BAR holding
 *
 *   0x000 common configuration     0x300 notify (4 bytes per queue)
 *   0x100 ISR status               0x400 MSI-X table (queues + 1 vectors)
 *   0x200 device configuration     0x600 MSI-X pending bits
 *
 * described by the four virtio vendor capabilities and an MSI-X capability.
 * Interrupts are MSI-X only (interrupt pin 0), through KVM irqfd; queue
 * notifications arrive through KVM ioeventfd (or the MMIO exit, same path).
 * The BAR stays where the VMM placed it: the guest may size it and write it
 * back, and an access decodes only while memory space is enabled and the
 * BAR holds that address.
 *
 * Threads: configuration and BAR accesses come from vCPU threads; the
 * device's own I/O thread pops the queues and does the work.  Lock order:
 * lock (registers) -> qlock (queues) -> msix_lock (table, irqfds).
 */
#ifndef BULWARK_VIRTIO_PCI_H
#define BULWARK_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vmm/bus.h"
#include "core/vmm/pci.h"
#include "core/vmm/virtio.h"
#include "core/vmm/virtio_irq.h"

#define VIRTIO_PCI_BAR_SIZE 0x1000u

struct virtio_pci;

/*
 * A transport for DEV (driven by OPS) whose BAR lives at BAR_ADDR.  VM may
 * be NULL (unit tests): the I/O thread then skips vmm_thread_confine().
 * On success the transport owns DEV (ops->destroy at the end).
 */
int virtio_pci_create(struct vm *vm, struct virtio_irq *irq, const struct gmem *mem,
		      const struct virtio_device_ops *ops, void *dev, uint64_t bar_addr,
		      struct virtio_pci **out);

/* Start the device's I/O thread (it confines itself as VMM_ROLE_IO first). */
int virtio_pci_start(struct virtio_pci *vp);

/*
 * Pause: asks the I/O thread to finish the request it is doing and park
 * (kicks wait in their eventfds, the tap in the kernel); parked says when
 * it has.  Resume lets it carry on.  Main thread only.
 */
int virtio_pci_pause(struct virtio_pci *vp);
bool virtio_pci_parked(struct virtio_pci *vp);
void virtio_pci_resume(struct virtio_pci *vp);

/* The device's traffic counters (zero without a counters op). */
void virtio_pci_counters(const struct virtio_pci *vp, uint16_t *device_id,
			 struct virtio_counters *out);

/* Stop and join the I/O thread, free everything (NULL is fine). */
void virtio_pci_destroy(struct virtio_pci *vp);

/* Register on the buses, opaque = the struct virtio_pci. */
extern const struct pci_function_ops virtio_pci_cfg_ops;
extern const struct bus_ops virtio_pci_bar_ops;

#endif
