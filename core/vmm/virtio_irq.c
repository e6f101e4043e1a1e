/* SPDX-License-Identifier: Apache-2.0 */
/* The VM's GSI routing table, MSI irqfds and ioeventfds: see virtio_irq.h. */
#include "core/vmm/virtio_irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define IRQ_IOAPIC_PINS 24
#define IRQ_PIC_PINS    16
#define IRQ_FIRST_MSI   IRQ_IOAPIC_PINS
#define IRQ_ROUTES      (IRQ_IOAPIC_PINS + IRQ_PIC_PINS + VIRTIO_IRQ_MAX_MSI)

struct virtio_irq {
	int vm_fd;
	pthread_mutex_t lock;
	uint32_t n_msi;
	struct kvm_irq_routing_msi msi[VIRTIO_IRQ_MAX_MSI];
	uint8_t msi_valid[VIRTIO_IRQ_MAX_MSI];
	int efds[VIRTIO_IRQ_MAX_MSI + 64];     /* every eventfd made here */
	uint32_t n_efds;
	struct {                               /* the KVM_SET_GSI_ROUTING buffer */
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[IRQ_ROUTES];
	} table;
};

/* The defaults of KVM_CREATE_IRQCHIP, then every valid MSI route. */
static int irq_commit(struct virtio_irq *irq)
{
	struct kvm_irq_routing_entry *e = irq->table.e;
	uint32_t n = 0;

	for (uint32_t gsi = 0; gsi < IRQ_IOAPIC_PINS; gsi++) {
		e[n++] = (struct kvm_irq_routing_entry){ .gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { KVM_IRQCHIP_IOAPIC, gsi } };
		if (gsi < IRQ_PIC_PINS)
			e[n++] = (struct kvm_irq_routing_entry){ .gsi = gsi,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
					       KVM_IRQCHIP_PIC_SLAVE, gsi & 7 } };
	}
	for (uint32_t i = 0; i < irq->n_msi; i++) {
		if (irq->msi_valid[i])
			e[n++] = (struct kvm_irq_routing_entry){ .gsi = IRQ_FIRST_MSI + i,
				.type = KVM_IRQ_ROUTING_MSI, .u.msi = irq->msi[i] };
	}
	irq->table.hdr.nr = n;
	irq->table.hdr.flags = 0;
	if (irq->vm_fd >= 0 && ioctl(irq->vm_fd, KVM_SET_GSI_ROUTING, &irq->table) < 0) {
		int rc = -errno;

		log_err("KVM_SET_GSI_ROUTING (%u routes): %s", n, strerror(-rc));
		return rc;
	}
	return 0;
}

static int irq_check_caps(int vm_fd)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING" },
		{ KVM_CAP_IRQFD, "IRQFD" },
		{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
	};

	for (size_t i = 0; vm_fd >= 0 && i < ARRAY_SIZE(caps); i++) {
		if (ioctl(vm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			log_err("KVM lacks KVM_CAP_%s (virtio needs it)", caps[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

int virtio_irq_create(int vm_fd, struct virtio_irq **out)
{
	struct virtio_irq *irq;
	int rc = irq_check_caps(vm_fd);

	if (rc)
		return rc;
	irq = calloc(1, sizeof(*irq));
	if (!irq)
		return -ENOMEM;
	irq->vm_fd = vm_fd;
	pthread_mutex_init(&irq->lock, NULL);
	rc = irq_commit(irq);
	if (rc) {
		free(irq);
		return rc;
	}
	*out = irq;
	return 0;
}

void virtio_irq_destroy(struct virtio_irq *irq)
{
	if (!irq)
		return;
	for (uint32_t i = 0; i < irq->n_efds; i++)
		close(irq->efds[i]);
	pthread_mutex_destroy(&irq->lock);
	free(irq);
}

static int irq_new_eventfd(struct virtio_irq *irq)
{
	int fd;

	if (irq->n_efds == ARRAY_SIZE(irq->efds))
		return -ENOSPC;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	irq->efds[irq->n_efds++] = fd;
	return fd;
}

int virtio_irq_alloc_msi(struct virtio_irq *irq, int *efd, uint32_t *gsi)
{
	struct kvm_irqfd req = { 0 };
	int fd, rc = 0;

	pthread_mutex_lock(&irq->lock);
	fd = irq->n_msi < VIRTIO_IRQ_MAX_MSI ? irq_new_eventfd(irq) : -ENOSPC;
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	req = (struct kvm_irqfd){ .fd = (uint32_t)fd, .gsi = IRQ_FIRST_MSI + irq->n_msi };
	if (irq->vm_fd >= 0 && ioctl(irq->vm_fd, KVM_IRQFD, &req) < 0) {
		rc = -errno;
		log_err("KVM_IRQFD gsi %u: %s", req.gsi, strerror(-rc));
		goto out;
	}
	*efd = fd;
	*gsi = req.gsi;
	irq->n_msi++;
out:
	pthread_mutex_unlock(&irq->lock);
	return rc;
}

int virtio_irq_route_msi(struct virtio_irq *irq, uint32_t gsi, uint64_t addr,
			 uint32_t data)
{
	uint32_t i = gsi - IRQ_FIRST_MSI;
	int rc;

	if (gsi < IRQ_FIRST_MSI || i >= irq->n_msi)
		return -EINVAL;
	pthread_mutex_lock(&irq->lock);
	irq->msi_valid[i] = (addr >> 20) == 0xfee;
	irq->msi[i] = (struct kvm_irq_routing_msi){ .address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32), .data = data };
	rc = irq_commit(irq);
	if (!rc && !irq->msi_valid[i])
		rc = -EINVAL;
	pthread_mutex_unlock(&irq->lock);
	return rc;
}

int virtio_irq_ioeventfd(struct virtio_irq *irq, uint64_t addr, int *efd)
{
	struct kvm_ioeventfd req = { .addr = addr, .len = 2 };
	int fd, rc = 0;

	pthread_mutex_lock(&irq->lock);
	fd = irq_new_eventfd(irq);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	req.fd = fd;
	if (irq->vm_fd >= 0 && ioctl(irq->vm_fd, KVM_IOEVENTFD, &req) < 0) {
		rc = -errno;
		log_err("KVM_IOEVENTFD at 0x%llx: %s", (unsigned long long)addr, strerror(-rc));
		goto out;
	}
	*efd = fd;
out:
	pthread_mutex_unlock(&irq->lock);
	return rc;
}
