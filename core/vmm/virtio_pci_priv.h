/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-pci internals shared by virtio_pci.c (config space, thread) and
 * virtio_pci_bar.c (the BAR's registers).  Not for other users. */
#ifndef BULWARK_VIRTIO_PCI_PRIV_H
#define BULWARK_VIRTIO_PCI_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/vmm/virtio_pci.h"

/* Registers are little-endian; Bulwark runs on x86-64 hosts only. */
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host");

/* BAR layout (see virtio_pci.h). */
#define VP_COMMON_OFF   0x000u
#define VP_ISR_OFF      0x100u
#define VP_DEVCFG_OFF   0x200u
#define VP_DEVCFG_MAX   0x100u
#define VP_NOTIFY_OFF   0x300u
#define VP_NOTIFY_MULT  4u
#define VP_MSIX_OFF     0x400u
#define VP_PBA_OFF      0x600u

#define VP_MAX_VECTORS  (VIRTIO_MAX_QUEUES + 1)
#define VP_NO_VECTOR    0xffffu

/* Config space: the capability chain starts here. */
#define VP_CAP_MSIX     0x40u
#define VP_CAP_COMMON   0x4cu
#define VP_CAP_NOTIFY   0x5cu
#define VP_CAP_ISR      0x70u
#define VP_CAP_DEVCFG   0x80u

#define VP_MSIX_ENABLE  0x8000u
#define VP_MSIX_MASKALL 0x4000u

#define VP_ISR_QUEUE    1u
#define VP_ISR_CONFIG   2u

/* PCI command register bits the transport honours. */
#define VP_CMD_MEMORY   0x0002u         /* memory space: the BAR decodes */
#define VP_CMD_MASTER   0x0004u         /* bus master: DMA and MSI-X */

/* Why the queues are halted (struct virtio_pci's halt word). */
#define VP_HALT_NO_BME  1u              /* bus mastering is off */
#define VP_HALT_RESET   2u              /* a device reset waits for the I/O thread */

/* The common configuration structure (virtio 1.x 4.1.4.3). */
struct vp_common_cfg {
	uint32_t device_feature_select;
	uint32_t device_feature;
	uint32_t driver_feature_select;
	uint32_t driver_feature;
	uint16_t config_msix_vector;
	uint16_t num_queues;
	uint8_t device_status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint16_t queue_size;
	uint16_t queue_msix_vector;
	uint16_t queue_enable;
	uint16_t queue_notify_off;
	uint64_t queue_desc;
	uint64_t queue_driver;
	uint64_t queue_device;
};
static_assert(sizeof(struct vp_common_cfg) == 56, "virtio 1.x 4.1.4.3");

/* One MSI-X table entry (PCI 3.0 6.8.2). */
struct vp_msix_entry {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;          /* bit 0: masked */
};
static_assert(sizeof(struct vp_msix_entry) == 16, "PCI MSI-X table entry");

struct vp_queue {
	struct virtq q;
	_Atomic uint16_t vector;
	bool enabled;
	int kick_fd;
	char name[32];
};

struct virtio_pci {
	const struct virtio_device_ops *ops;
	void *dev;
	struct vm *vm;
	struct virtio_irq *irq;
	struct gmem mem;
	uint64_t bar_addr;

	pthread_mutex_t lock;           /* config space and common cfg */
	uint8_t cfg[256];               /* PCI config space, as the guest reads it */
	uint32_t dfselect, gfselect;
	uint64_t offered, driver_features;
	uint16_t queue_select;
	_Atomic uint32_t warned;        /* log-once bits, VP_WARN_* */
	_Atomic uint8_t status;
	_Atomic uint8_t isr;
	_Atomic uint16_t config_vector;

	pthread_mutex_t qlock;          /* the queues */
	struct vp_queue vq[VIRTIO_MAX_QUEUES];
	/*
	 * VP_HALT_* bits, read by every queue (struct virtq's halt): while any
	 * is set the I/O thread touches no guest memory and sends no MSI.
	 * Set before taking qlock, so the batch in flight stops at its next
	 * chain or chunk and the vCPU waits for one chunk, not one batch.
	 */
	_Atomic uint32_t halt;

	pthread_mutex_t msix_lock;      /* the MSI-X state below */
	uint16_t msix_ctrl;
	uint16_t nvec;
	struct vp_msix_entry table[VP_MAX_VECTORS];
	uint64_t pba;
	bool routed[VP_MAX_VECTORS];    /* route matches the entry */
	bool route_ok[VP_MAX_VECTORS];  /* and KVM took it */
	int irqfd[VP_MAX_VECTORS];
	uint32_t gsi[VP_MAX_VECTORS];

	int stop_fd;                    /* wakes the I/O thread: stop or pause */
	int wake_fd;                    /* the VMM's own kicks: run every queue */
	pthread_t thread;
	bool thread_started;

	/* Stop and pause (virtio_pci_pause): asked by the main thread, seen
	 * by the I/O thread between requests. */
	_Atomic bool stop_req, pause_req;
	pthread_mutex_t park_lock;
	pthread_cond_t park_cond;
	bool parked;                    /* under park_lock */
};

enum {
	VP_WARN_WIDTH = 1u << 0,
	VP_WARN_FROZEN = 1u << 1,
	VP_WARN_VECTOR = 1u << 2,
	VP_WARN_MSI = 1u << 3,
	VP_WARN_BAR = 1u << 4,
	VP_WARN_STATUS = 1u << 5,
};

/* Log MSG once per device for each BIT. */
void vp_warn_once(struct virtio_pci *vp, uint32_t bit, const char *msg);
/* Raise VECTOR (or mark it pending), ISR bit ISR_BIT set either way. */
void vp_fire(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit);
/* The guest broke a rule: DEVICE_NEEDS_RESET and a config interrupt. */
void vp_needs_reset(struct virtio_pci *vp);
/* Re-evaluate vector V after a table or control change (msix_lock held). */
void vp_msix_update(struct virtio_pci *vp, uint16_t v);
/* Device reset (status written 0); vp->lock held. */
void vp_reset(struct virtio_pci *vp);
/* Have the I/O thread look at every queue (not a guest kick: never dropped). */
void vp_wake(struct virtio_pci *vp);
/* Whether the BAR decodes: memory space on, BAR where the VMM put it; lock held. */
bool vp_decoding(const struct virtio_pci *vp);

void vp_common_read(struct virtio_pci *vp, uint64_t off, uint8_t *data, uint32_t len);
void vp_common_write(struct virtio_pci *vp, uint64_t off, uint64_t val, uint32_t len);

#endif
