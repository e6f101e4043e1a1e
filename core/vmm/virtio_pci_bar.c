/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci BAR 0: common configuration, ISR, device configuration, queue
 * notification and the MSI-X table.  Every access is checked for offset and
 * width; what does not match a register reads as zero and is dropped.  Queue
 * layout is frozen once the queue is enabled or the driver set DRIVER_OK.
 */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "core/vmm/virtio_pci_priv.h"

#define VP_DRIVER_OK   VIRTIO_CONFIG_S_DRIVER_OK
#define VP_FEATURES_OK VIRTIO_CONFIG_S_FEATURES_OK

/* The register widths of the common configuration that a driver may write. */
static bool vp_common_width_ok(uint64_t off, uint32_t len)
{
	static const struct { uint8_t off, len; } w[] = {
		{ 0x00, 4 }, { 0x08, 4 }, { 0x0c, 4 }, { 0x10, 2 }, { 0x14, 1 },
		{ 0x16, 2 }, { 0x18, 2 }, { 0x1a, 2 }, { 0x1c, 2 },
		{ 0x20, 4 }, { 0x24, 4 }, { 0x28, 4 }, { 0x2c, 4 }, { 0x30, 4 },
		{ 0x34, 4 }, { 0x20, 8 }, { 0x28, 8 }, { 0x30, 8 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		if (w[i].off == off && w[i].len == len)
			return true;
	return false;
}

void vp_common_read(struct virtio_pci *vp, uint64_t off, uint8_t *data, uint32_t len)
{
	struct vp_common_cfg c = { 0 };
	uint16_t sel;

	pthread_mutex_lock(&vp->lock);
	sel = vp->queue_select;
	c.device_feature_select = vp->dfselect;
	c.device_feature = vp->dfselect < 2 ? (uint32_t)(vp->offered >> (32 * vp->dfselect)) : 0;
	c.driver_feature_select = vp->gfselect;
	c.driver_feature = vp->gfselect < 2 ?
		(uint32_t)(vp->driver_features >> (32 * vp->gfselect)) : 0;
	c.config_msix_vector = atomic_load(&vp->config_vector);
	c.num_queues = vp->ops->num_queues;
	c.device_status = atomic_load(&vp->status);
	c.queue_select = sel;
	if (sel < vp->ops->num_queues) {
		const struct vp_queue *vq = &vp->vq[sel];

		c.queue_size = vq->q.size;
		c.queue_msix_vector = atomic_load(&vq->vector);
		c.queue_enable = vq->enabled;
		c.queue_notify_off = sel;
		c.queue_desc = vq->q.desc_gpa;
		c.queue_driver = vq->q.avail_gpa;
		c.queue_device = vq->q.used_gpa;
	}
	pthread_mutex_unlock(&vp->lock);
	if (range_fits(off, len, sizeof(c)))
		memcpy(data, (const uint8_t *)&c + off, len);
}

/* A vector the driver asks for: out of range reads back NO_VECTOR (4.1.5.1.2). */
static uint16_t vp_vector(struct virtio_pci *vp, uint64_t val)
{
	if (val < vp->nvec || val == VP_NO_VECTOR)
		return (uint16_t)val;
	vp_warn_once(vp, VP_WARN_VECTOR, "MSI-X vector out of range: NO_VECTOR");
	return VP_NO_VECTOR;
}

/* Write LEN bytes of VAL at byte OFF of the 64-bit field *F. */
static void vp_set64(uint64_t *f, uint64_t off, uint64_t val, uint32_t len)
{
	if (len == 8)
		*f = val;
	else if (off & 4)
		*f = (*f & 0xffffffffULL) | (val << 32);
	else
		*f = (*f & ~0xffffffffULL) | (val & 0xffffffffULL);
}

static void vp_queue_enable(struct virtio_pci *vp, struct vp_queue *vq, uint64_t val)
{
	int rc;

	if (val != 1)
		return;         /* writing 0 is not allowed (4.1.4.3.2): ignored */
	pthread_mutex_lock(&vp->qlock);
	rc = virtq_activate(&vq->q, &vp->mem);
	vq->enabled = rc == 0;
	pthread_mutex_unlock(&vp->qlock);
	if (rc)
		vp_needs_reset(vp);
}

/* queue_* registers of the selected queue; vp->lock held. */
static void vp_queue_write(struct virtio_pci *vp, uint64_t off, uint64_t val, uint32_t len)
{
	struct vp_queue *vq;

	if (vp->queue_select >= vp->ops->num_queues)
		return;
	vq = &vp->vq[vp->queue_select];
	if (off == 0x1a) {
		atomic_store(&vq->vector, vp_vector(vp, val));
		return;
	}
	if (vq->enabled || (atomic_load(&vp->status) & VP_DRIVER_OK)) {
		vp_warn_once(vp, VP_WARN_FROZEN, "queue layout written after enable/DRIVER_OK: "
			     "ignored");
		return;
	}
	if (off == 0x1c) {
		vp_queue_enable(vp, vq, val);
		return;
	}
	pthread_mutex_lock(&vp->qlock);
	if (off == 0x18)
		vq->q.size = (uint16_t)val;     /* checked when the queue is enabled */
	else if (off < 0x28)
		vp_set64(&vq->q.desc_gpa, off, val, len);
	else if (off < 0x30)
		vp_set64(&vq->q.avail_gpa, off, val, len);
	else
		vp_set64(&vq->q.used_gpa, off, val, len);
	pthread_mutex_unlock(&vp->qlock);
}

static bool vp_features_ok(const struct virtio_pci *vp)
{
	return !(vp->driver_features & ~vp->offered) &&
	       (vp->driver_features & (1ULL << VIRTIO_F_VERSION_1));
}

/* device_status; vp->lock held.  Bits only accumulate until a reset. */
static void vp_status_write(struct virtio_pci *vp, uint8_t v)
{
	uint8_t old = atomic_load(&vp->status);

	if (v == 0) {
		vp_reset(vp);
		return;
	}
	if ((v & VP_FEATURES_OK) && !(old & VP_FEATURES_OK) && !vp_features_ok(vp))
		v &= (uint8_t)~VP_FEATURES_OK;  /* the driver reads it back and gives up */
	if ((v & VP_DRIVER_OK) && !(old & VP_DRIVER_OK)) {
		if (!(v & VP_FEATURES_OK)) {
			vp_warn_once(vp, VP_WARN_STATUS, "DRIVER_OK without FEATURES_OK");
			atomic_fetch_or(&vp->status, (uint8_t)(v & ~VP_DRIVER_OK));
			vp_needs_reset(vp);
			return;
		}
		if (vp->ops->activate)
			vp->ops->activate(vp->dev, vp->driver_features);
	}
	atomic_fetch_or(&vp->status, v);
	if ((v & VP_DRIVER_OK) && !(old & VP_DRIVER_OK))
		vp_wake(vp);
}

void vp_common_write(struct virtio_pci *vp, uint64_t off, uint64_t val, uint32_t len)
{
	if (!vp_common_width_ok(off, len)) {
		vp_warn_once(vp, VP_WARN_WIDTH, "common config write of a wrong width or "
			     "to a read-only field: ignored");
		return;
	}
	pthread_mutex_lock(&vp->lock);
	switch (off) {
	case 0x00:
		vp->dfselect = (uint32_t)val;
		break;
	case 0x08:
		vp->gfselect = (uint32_t)val;
		break;
	case 0x0c:
		if (vp->gfselect < 2 && !(atomic_load(&vp->status) & VP_FEATURES_OK))
			vp_set64(&vp->driver_features, vp->gfselect * 4, val, 4);
		break;
	case 0x10:
		atomic_store(&vp->config_vector, vp_vector(vp, val));
		break;
	case 0x14:
		vp_status_write(vp, (uint8_t)val);
		break;
	case 0x16:
		vp->queue_select = (uint16_t)val;
		break;
	default:
		vp_queue_write(vp, off, val, len);
		break;
	}
	pthread_mutex_unlock(&vp->lock);
}

void vp_reset(struct virtio_pci *vp)
{
	/*
	 * Waits for the I/O thread, but only for the chain or chunk in flight:
	 * the halt bit makes it pop nothing more and stop a long request at
	 * its next chunk (what was not done is dropped, as the spec allows).
	 */
	atomic_fetch_or(&vp->halt, VP_HALT_RESET);
	pthread_mutex_lock(&vp->qlock);
	for (uint16_t i = 0; i < vp->ops->num_queues; i++) {
		virtq_reset(&vp->vq[i].q);
		vp->vq[i].enabled = false;
		atomic_store(&vp->vq[i].vector, VP_NO_VECTOR);
	}
	if (vp->ops->reset)
		vp->ops->reset(vp->dev);
	atomic_fetch_and(&vp->halt, ~VP_HALT_RESET);
	pthread_mutex_unlock(&vp->qlock);
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	vp->queue_select = 0;
	atomic_store(&vp->config_vector, VP_NO_VECTOR);
	atomic_store(&vp->isr, 0);
	atomic_store(&vp->status, 0);
}

/* ---- MSI-X table and pending bits -------------------------------------- */

static void vp_msix_read(struct virtio_pci *vp, uint64_t off, uint8_t *data, uint32_t len)
{
	uint64_t tsize = sizeof(vp->table[0]) * vp->nvec;

	if ((len != 4 && len != 8) || (off & (len - 1)))
		return;
	pthread_mutex_lock(&vp->msix_lock);
	if (off >= VP_PBA_OFF && range_fits(off - VP_PBA_OFF, len, sizeof(vp->pba)))
		memcpy(data, (const uint8_t *)&vp->pba + (off - VP_PBA_OFF), len);
	else if (off < VP_PBA_OFF && range_fits(off - VP_MSIX_OFF, len, tsize))
		memcpy(data, (const uint8_t *)vp->table + (off - VP_MSIX_OFF), len);
	pthread_mutex_unlock(&vp->msix_lock);
}

/* One 32-bit word of the table; msix_lock held. */
static void vp_msix_word(struct virtio_pci *vp, uint64_t toff, uint32_t val)
{
	uint16_t v = (uint16_t)(toff / sizeof(vp->table[0]));
	struct vp_msix_entry *e = &vp->table[v];

	switch (toff % sizeof(*e)) {
	case 0:
		e->addr_lo = val;
		vp->routed[v] = false;
		break;
	case 4:
		e->addr_hi = val;
		vp->routed[v] = false;
		break;
	case 8:
		e->data = val;
		vp->routed[v] = false;
		break;
	default:
		e->ctrl = val & 1;
		break;
	}
	vp_msix_update(vp, v);
}

static void vp_msix_write(struct virtio_pci *vp, uint64_t off, uint64_t val, uint32_t len)
{
	uint64_t toff = off - VP_MSIX_OFF;

	if ((len != 4 && len != 8) || (off & (len - 1)) || off >= VP_PBA_OFF ||
	    !range_fits(toff, len, sizeof(vp->table[0]) * vp->nvec))
		return;         /* the pending bits are read-only */
	pthread_mutex_lock(&vp->msix_lock);
	vp_msix_word(vp, toff, (uint32_t)val);
	if (len == 8)
		vp_msix_word(vp, toff + 4, (uint32_t)(val >> 32));
	pthread_mutex_unlock(&vp->msix_lock);
}

/* ---- the BAR ------------------------------------------------------------ */

/* Whether the BAR decodes: memory space on and the BAR where it was put. */
static bool vp_decodes(struct virtio_pci *vp)
{
	uint16_t cmd;
	bool on;

	pthread_mutex_lock(&vp->lock);
	memcpy(&cmd, vp->cfg + 0x04, 2);
	on = vp_decoding(vp);
	if ((le16toh(cmd) & VP_CMD_MEMORY) && !on)
		vp_warn_once(vp, VP_WARN_BAR, "BAR moved by the guest: the device stays at "
			     "the address the VMM gave it");
	pthread_mutex_unlock(&vp->lock);
	return on;
}

static void vp_bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	uint8_t isr;

	memset(data, 0, len);
	if (!vp_decodes(vp)) {
		memset(data, 0xff, len);
		return;
	}
	if (off < VP_ISR_OFF) {
		vp_common_read(vp, off - VP_COMMON_OFF, data, len);
	} else if (off == VP_ISR_OFF) {
		isr = atomic_exchange(&vp->isr, 0);     /* read to clear */
		data[0] = isr;
	} else if (off >= VP_DEVCFG_OFF && off < VP_NOTIFY_OFF) {
		if (range_fits(off - VP_DEVCFG_OFF, len, vp->ops->config_size))
			vp->ops->config_read(vp->dev, (uint32_t)(off - VP_DEVCFG_OFF), data, len);
	} else if (off >= VP_MSIX_OFF) {
		vp_msix_read(vp, off, data, len);
	}
}

static void vp_bar_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	uint64_t val = 0, one = 1, qi;

	if (len > sizeof(val) || !vp_decodes(vp))
		return;
	memcpy(&val, data, len);        /* the bus gives 1, 2, 4 or 8 bytes */
	if (off < VP_ISR_OFF) {
		vp_common_write(vp, off - VP_COMMON_OFF, val, len);
	} else if (off >= VP_NOTIFY_OFF && off < VP_MSIX_OFF) {
		qi = (off - VP_NOTIFY_OFF) / VP_NOTIFY_MULT;
		if (qi < vp->ops->num_queues &&
		    write(vp->vq[qi].kick_fd, &one, sizeof(one)) < 0)
			log_warn("%s: cannot kick queue %u", vp->ops->name, (unsigned)qi);
	} else if (off >= VP_MSIX_OFF) {
		vp_msix_write(vp, off, val, len);
	}
}

const struct bus_ops virtio_pci_bar_ops = {
	.read = vp_bar_read,
	.write = vp_bar_write,
};
