/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every device's record (SNAP_REC_DEV): the platform devices first, in
 * devices.c's order, then the virtio devices in creation order (disks in
 * --disk order, the NIC, the entropy device).  A record's index is its
 * place in that list, so the configuration alone says which device each
 * index must be, and a check can run before any device exists.
 */
#include "core/vmm/snap.h"

#include <errno.h>

#include "core/log.h"
#include "core/vmm/devices.h"
#include "core/vmm/virtio.h"
#include "core/vmm/virtio_setup.h"

int snap_devices_count(struct vm *vm)
{
	return (int)(devices_count() + virtio_count(vm->virtio));
}

/* The virtio device type at virtio index I for CFG (virtio_add_devices). */
static const struct virtio_device_ops *snap_virtio_ops(const struct vm_config *cfg,
							uint32_t i)
{
	if (i < cfg->ndisks)
		return &virtio_blk_ops;
	i -= cfg->ndisks;
	if (cfg->net && i-- == 0)
		return &virtio_net_ops;
	return i == 0 ? &virtio_rng_ops : NULL;   /* the entropy device: always */
}

uint32_t snap_devices_expected(const struct vm_config *cfg)
{
	return (uint32_t)devices_count() + cfg->ndisks + (cfg->net ? 1 : 0) + 1;
}

int snap_devices_quiet(struct vm *vm)
{
	struct snap_buf b = { .max = SNAP_DEV_MAX };
	const struct vm_device *d;
	int rc = 0;

	/* A device that would refuse its save refuses it now, before any byte
	 * of the stream is written (the CRB with a command in flight). */
	for (size_t i = 0; !rc && (d = devices_get(i)); i++)
		if (d->save)
			rc = d->save(vm->dev_state[i], &b);
	snap_buf_free(&b);
	return rc;
}

int snap_device_save(struct vm *vm, uint32_t index, struct snap_buf *b)
{
	const struct vm_device *d = devices_get(index);
	int rc;

	b->len = 0;
	if (d)
		rc = d->save ? d->save(vm->dev_state[index], b) : 0;
	else
		rc = virtio_get(vm->virtio, index - (uint32_t)devices_count()) ?
		     virtio_pci_snap_save(virtio_get(vm->virtio,
				index - (uint32_t)devices_count()), b) : -ENODEV;
	if (rc)
		log_err("save: device %u (%s): %s", index, d ? d->name : "virtio",
			strerror(-rc));
	return rc;
}

static int snap_device_apply(struct vm *vm, const struct vm_config *cfg,
			     uint32_t index, const uint8_t *p, size_t len)
{
	const struct vm_device *d = devices_get(index);
	uint32_t vi = index - (uint32_t)devices_count();
	const struct virtio_device_ops *ops;
	int rc;

	if (d && !d->save)
		return len ? -EBADMSG : 0;
	if (d && d == &dev_tpm_crb && !!len != !!cfg->vtpm)
		return -EBADMSG;           /* a vTPM then and none now, or back */
	if (d)
		return d->restore(vm ? vm->dev_state[index] : NULL, p, len);
	ops = snap_virtio_ops(cfg, vi);
	if (!ops)
		return -EBADMSG;
	if (!vm)
		return virtio_pci_snap_check(ops, index, p, len);
	rc = virtio_get(vm->virtio, vi) ?
	     virtio_pci_snap_restore(virtio_get(vm->virtio, vi), index, p, len) : -ENODEV;
	return rc;
}

int snap_device_check(const struct vm_config *cfg, uint32_t index,
		      const uint8_t *p, size_t len)
{
	int rc = snap_device_apply(NULL, cfg, index, p, len);

	if (rc)
		log_err("state stream: record DEV[%u] (%s): refused", index,
			devices_get(index) ? devices_get(index)->name : "virtio");
	return rc;
}

int snap_device_restore(struct vm *vm, uint32_t index, const uint8_t *p, size_t len)
{
	int rc = snap_device_apply(vm, vm->cfg, index, p, len);

	if (rc)
		log_err("restore: device %u: %s", index, strerror(-rc));
	return rc;
}
