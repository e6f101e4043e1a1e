/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio-pci device's state in the state stream (SNAP_REC_DEV, issue 17):
 * the guest-written PCI config space (command, BAR, interrupt line, MSI-X
 * control), feature negotiation, status, ISR, vectors, each queue's size,
 * addresses, indices and enable, the MSI-X table and pending bits.  The
 * device configuration (capacity, MAC) is not in it: it follows from the
 * configuration, which must be the original one.
 *
 * Restore replays what the guest did, through the same rules as its
 * writes: only the writable config bits, features within what is offered,
 * vectors within the table, queues activated by virtq_activate (size,
 * alignment, inside RAM), MSI-X routes through KVM's checks.  Anything
 * else is refused, naming the device.  It runs before the I/O thread
 * starts; the thread then runs every queue once (vp_wake), for the kicks
 * the original VMM had not served when it paused.
 */
#include "core/vmm/virtio_pci_priv.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <string.h>

#include "core/log.h"
#include "core/vmm/snap.h"
#include "core/vmm/virtio_setup.h"

#define VP_SNAP_VERSION 1

struct vp_snap_queue {
	uint64_t desc, avail, used;
	uint16_t size, vector, last_avail, used_idx;
	uint8_t enabled, broken, pad[6];
};
static_assert(sizeof(struct vp_snap_queue) == 40, "on-wire");

struct vp_snap {
	uint32_t version;
	uint16_t device_id, num_queues;
	uint32_t dfselect, gfselect;
	uint64_t driver_features;
	uint16_t queue_select, config_vector, msix_ctrl, nvec;
	uint8_t status, isr, pad[6];
	uint64_t pba;
	uint8_t cfg[256];
	struct vp_msix_entry table[VP_MAX_VECTORS];
	struct vp_snap_queue q[VIRTIO_MAX_QUEUES];
};
static_assert(sizeof(struct vp_snap) == 48 + 256 + 16 * VP_MAX_VECTORS +
	      40 * VIRTIO_MAX_QUEUES, "on-wire, no padding");
static_assert(sizeof(struct vp_snap) <= SNAP_DEV_MAX, "fits its record");

#define VP_STATUS_KNOWN (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK | \
			 VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)

int virtio_pci_snap_save(struct virtio_pci *vp, struct snap_buf *b)
{
	struct vp_snap s;

	memset(&s, 0, sizeof(s));
	s.version = VP_SNAP_VERSION;
	s.device_id = vp->ops->device_id;
	s.num_queues = vp->ops->num_queues;
	pthread_mutex_lock(&vp->lock);
	memcpy(s.cfg, vp->cfg, sizeof(s.cfg));
	s.dfselect = vp->dfselect;
	s.gfselect = vp->gfselect;
	s.driver_features = vp->driver_features;
	s.queue_select = vp->queue_select;
	s.config_vector = atomic_load(&vp->config_vector);
	s.status = atomic_load(&vp->status);
	s.isr = atomic_load(&vp->isr);
	pthread_mutex_lock(&vp->qlock);
	for (uint16_t i = 0; i < vp->ops->num_queues; i++) {
		const struct vp_queue *vq = &vp->vq[i];

		s.q[i] = (struct vp_snap_queue){
			.desc = vq->q.desc_gpa, .avail = vq->q.avail_gpa,
			.used = vq->q.used_gpa, .size = vq->q.size,
			.vector = atomic_load(&vq->vector), .last_avail = vq->q.last_avail,
			.used_idx = vq->q.used_idx, .enabled = vq->enabled,
			.broken = vq->q.broken,
		};
	}
	pthread_mutex_unlock(&vp->qlock);
	pthread_mutex_lock(&vp->msix_lock);
	s.msix_ctrl = vp->msix_ctrl;
	s.nvec = vp->nvec;
	memcpy(s.table, vp->table, sizeof(s.table));
	s.pba = vp->pba;
	pthread_mutex_unlock(&vp->msix_lock);
	pthread_mutex_unlock(&vp->lock);
	b->len = 0;
	return snap_buf_put(b, &s, sizeof(s));
}

static int vp_snap_vec_ok(uint16_t v, uint16_t nvec)
{
	return v == VP_NO_VECTOR || v < nvec;
}

/* Everything that does not need the device: against its type (OPS). */
int virtio_pci_snap_check(const struct virtio_device_ops *ops, uint32_t index,
			  const uint8_t *p, size_t len)
{
	struct vp_snap s;
	const char *why = NULL;

	if (len != sizeof(s)) {
		log_err("state stream: record DEV[%u] (%s): %zu bytes, not %zu", index,
			ops->name, len, sizeof(s));
		return -EBADMSG;
	}
	memcpy(&s, p, sizeof(s));
	if (s.version != VP_SNAP_VERSION || s.device_id != ops->device_id ||
	    s.num_queues != ops->num_queues || s.nvec != ops->num_queues + 1)
		why = "another device, or another version";
	else if ((s.status & ~VP_STATUS_KNOWN) || s.gfselect > 1 ||
		 (s.msix_ctrl & ~(VP_MSIX_ENABLE | VP_MSIX_MASKALL)) ||
		 (s.pba >> s.nvec))
		why = "status, selector, MSI-X control or pending bits out of range";
	else if (!vp_snap_vec_ok(s.config_vector, s.nvec))
		why = "config vector outside the MSI-X table";
	for (uint16_t i = 0; !why && i < s.nvec; i++)
		if (s.table[i].ctrl & ~1u)
			why = "MSI-X vector control bits reserved";
	for (uint16_t i = 0; !why && i < s.num_queues; i++) {
		const struct vp_snap_queue *q = &s.q[i];

		if (!vp_snap_vec_ok(q->vector, s.nvec) || q->enabled > 1 || q->broken > 1 ||
		    (q->enabled && (!q->size || q->size > ops->queue_max ||
				    (q->size & (q->size - 1)))) ||
		    (uint16_t)(q->last_avail - q->used_idx) > q->size)
			why = "a queue's vector, size or indices out of range";
	}
	if (why) {
		log_err("state stream: record DEV[%u] (%s): %s", index, ops->name, why);
		return -EBADMSG;
	}
	return 0;
}

/* The guest-writable PCI config bits, as vp_cfg_apply takes them. */
static void vp_snap_cfg(struct virtio_pci *vp, const struct vp_snap *s)
{
	uint16_t cmd, scmd, ctrl;
	uint32_t bar;

	memcpy(&cmd, vp->cfg + 4, 2);
	memcpy(&scmd, s->cfg + 4, 2);
	cmd = htole16((uint16_t)((le16toh(cmd) & ~0x0406u) | (le16toh(scmd) & 0x0406u)));
	memcpy(vp->cfg + 4, &cmd, 2);
	memcpy(&bar, s->cfg + 0x10, 4);
	bar = htole32(le32toh(bar) & ~(uint32_t)(VIRTIO_PCI_BAR_SIZE - 1));
	memcpy(vp->cfg + 0x10, &bar, 4);
	vp->cfg[0x3c] = s->cfg[0x3c];
	ctrl = htole16((uint16_t)((vp->nvec - 1) | s->msix_ctrl));
	memcpy(vp->cfg + VP_CAP_MSIX + 2, &ctrl, 2);
	if (le16toh(cmd) & VP_CMD_MASTER)
		atomic_fetch_and(&vp->halt, ~VP_HALT_NO_BME);
}

static int vp_snap_queues(struct virtio_pci *vp, const struct vp_snap *s)
{
	for (uint16_t i = 0; i < vp->ops->num_queues; i++) {
		struct vp_queue *vq = &vp->vq[i];
		const struct vp_snap_queue *q = &s->q[i];

		vq->q.size = q->size;
		vq->q.desc_gpa = q->desc;
		vq->q.avail_gpa = q->avail;
		vq->q.used_gpa = q->used;
		atomic_store(&vq->vector, q->vector);
		if (!q->enabled)
			continue;
		if (virtq_activate(&vq->q, &vp->mem))
			return -EBADMSG;   /* virtq_fail logged which ring */
		vq->q.last_avail = q->last_avail;
		vq->q.used_idx = q->used_idx;
		vq->q.broken = q->broken;
		vq->enabled = true;
	}
	return 0;
}

int virtio_pci_snap_restore(struct virtio_pci *vp, uint32_t index,
			    const uint8_t *p, size_t len)
{
	struct vp_snap s;
	int rc = virtio_pci_snap_check(vp->ops, index, p, len);

	if (rc)
		return rc;
	memcpy(&s, p, sizeof(s));
	if ((s.driver_features & ~vp->offered) ||
	    ((s.status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	     !(s.driver_features & (1ULL << VIRTIO_F_VERSION_1)))) {
		log_err("state stream: record DEV[%u] (%s): features 0x%llx not offered",
			index, vp->ops->name, (unsigned long long)s.driver_features);
		return -EBADMSG;
	}
	pthread_mutex_lock(&vp->lock);
	pthread_mutex_lock(&vp->qlock);
	vp_snap_cfg(vp, &s);
	vp->dfselect = s.dfselect;
	vp->gfselect = s.gfselect;
	vp->driver_features = s.driver_features;
	vp->queue_select = s.queue_select;
	atomic_store(&vp->config_vector, s.config_vector);
	atomic_store(&vp->isr, s.isr);
	atomic_store(&vp->status, s.status);
	rc = vp_snap_queues(vp, &s);
	pthread_mutex_unlock(&vp->qlock);
	pthread_mutex_lock(&vp->msix_lock);
	vp->msix_ctrl = s.msix_ctrl;
	memcpy(vp->table, s.table, sizeof(vp->table));
	vp->pba = s.pba;
	for (uint16_t v = 0; !rc && v < vp->nvec; v++)
		vp_msix_update(vp, v);
	pthread_mutex_unlock(&vp->msix_lock);
	if (!rc && (s.status & VIRTIO_CONFIG_S_DRIVER_OK) && vp->ops->activate)
		vp->ops->activate(vp->dev, vp->driver_features);
	pthread_mutex_unlock(&vp->lock);
	if (rc)
		log_err("state stream: record DEV[%u] (%s): a queue cannot be activated",
			index, vp->ops->name);
	else
		vp_wake(vp);
	return rc;
}
