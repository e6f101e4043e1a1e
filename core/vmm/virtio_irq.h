/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MSI delivery for the virtio devices through KVM irqfd, and queue
 * notifications through KVM ioeventfd.
 *
 * KVM_SET_GSI_ROUTING replaces the VM's whole routing table, so this module
 * owns it: it re-states KVM's default routes (GSI 0-23 to the IOAPIC, 0-15
 * also to the PIC, as KVM_CREATE_IRQCHIP sets them) and adds one MSI route
 * per vector.  Nothing else in the VMM may call KVM_SET_GSI_ROUTING.
 *
 * With VM_FD < 0 (unit tests) the eventfds exist but nothing is given to
 * KVM: a test reads an irqfd to see an interrupt, writes a notify eventfd
 * to kick a queue.
 */
#ifndef BULWARK_VIRTIO_IRQ_H
#define BULWARK_VIRTIO_IRQ_H

#include <stdint.h>

#define VIRTIO_IRQ_MAX_MSI 64

struct virtio_irq;

/* Checks KVM_CAP_IRQ_ROUTING, _IRQFD and _IOEVENTFD; installs the defaults. */
int virtio_irq_create(int vm_fd, struct virtio_irq **out);
void virtio_irq_destroy(struct virtio_irq *irq);

/* A vector: *EFD (an eventfd, EFD_NONBLOCK) bound by KVM_IRQFD to *GSI. */
int virtio_irq_alloc_msi(struct virtio_irq *irq, int *efd, uint32_t *gsi);

/*
 * Point GSI at the MSI (ADDR, DATA).  An address outside the LAPIC's
 * 0xFEExxxxx window is refused (-EINVAL) and the route left disabled.
 */
int virtio_irq_route_msi(struct virtio_irq *irq, uint32_t gsi, uint64_t addr,
			 uint32_t data);

/* *EFD (EFD_NONBLOCK) signalled by KVM on a write to guest MMIO ADDR (LEN 2). */
int virtio_irq_ioeventfd(struct virtio_irq *irq, uint64_t addr, int *efd);

#endif
