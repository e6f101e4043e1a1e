/* SPDX-License-Identifier: Apache-2.0 */
/* The VM's virtio devices on PCI bus 0: see virtio_setup.h. */
#include "core/vmm/virtio_setup.h"

#include <errno.h>
#include <poll.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vmm/pci.h"
#include "core/vmm/virtio_irq.h"
#include "core/vmm/virtio_net.h"
#include "core/vmm/virtio_pci.h"
#include "core/vmm/virtio_rng.h"

struct virtio_set {
	struct virtio_irq *irq;
	struct gmem mem;
	struct virtio_pci *vp[VIRTIO_MAX_DEVICES];
	uint32_t n;
};

/* Give DEV a BAR, a transport and a PCI slot.  DEV is freed on failure. */
static int virtio_attach(struct vm *vm, struct virtio_set *s,
			 const struct virtio_device_ops *ops, void *dev)
{
	struct virtio_pci *vp;
	uint64_t bar;
	uint8_t devfn;
	int rc;

	rc = s->n < VIRTIO_MAX_DEVICES ? pci_alloc_mmio32(vm, VIRTIO_PCI_BAR_SIZE, &bar) :
					 -ENOSPC;
	if (!rc)
		rc = virtio_pci_create(vm, s->irq, &s->mem, ops, dev, bar, &vp);
	if (rc) {
		ops->destroy(dev);
		log_err("%s: %s", ops->name, strerror(-rc));
		return rc;
	}
	s->vp[s->n++] = vp;
	rc = bus_register(&vm->mmio, bar, VIRTIO_PCI_BAR_SIZE, ops->name,
			  &virtio_pci_bar_ops, vp);
	if (!rc)
		rc = pci_register(vm, ops->name, &virtio_pci_cfg_ops, vp, &devfn);
	if (rc) {
		log_err("%s: cannot place it on PCI: %s", ops->name, strerror(-rc));
		return rc;
	}
	log_info("%s at 00:%02x.0, BAR 0x%llx", ops->name, devfn >> 3,
		 (unsigned long long)bar);
	return 0;
}

static int virtio_add_devices(struct vm *vm, struct virtio_set *s,
			      const struct virtio_setup_cfg *cfg)
{
	void *dev;
	int rc = 0;

	for (uint32_t i = 0; !rc && i < cfg->ndisks; i++) {
		rc = virtio_blk_create(cfg->disk[i].fd, cfg->disk[i].readonly,
				       cfg->disk[i].serial, &dev);
		if (!rc)
			rc = virtio_attach(vm, s, &virtio_blk_ops, dev);
	}
	if (!rc && cfg->tap_fd >= 0) {
		rc = virtio_net_create(cfg->tap_fd, cfg->mac, &dev);
		if (!rc)
			rc = virtio_attach(vm, s, &virtio_net_ops, dev);
	}
	if (!rc && cfg->rng) {
		rc = virtio_rng_create(&dev);
		if (!rc)
			rc = virtio_attach(vm, s, &virtio_rng_ops, dev);
	}
	return rc;
}

int virtio_setup(struct vm *vm, const struct virtio_setup_cfg *cfg, struct virtio_set **out)
{
	struct virtio_set *s;
	int rc;

	if (cfg->ndisks > VIRTIO_BLK_MAX_DISKS)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mem = (struct gmem){ vm->mem, vm->low_size, vm->high_size, &vm->dirty };
	rc = virtio_irq_create(vm->vm_fd, &s->irq);
	if (!rc)
		rc = virtio_add_devices(vm, s, cfg);
	if (rc) {
		virtio_teardown(s);
		return rc;
	}
	*out = s;
	return 0;
}

int virtio_start(struct virtio_set *s)
{
	for (uint32_t i = 0; s && i < s->n; i++) {
		int rc = virtio_pci_start(s->vp[i]);

		if (rc)
			return rc;
	}
	return 0;
}

void virtio_teardown(struct virtio_set *s)
{
	if (!s)
		return;
	for (uint32_t i = s->n; i--;)
		virtio_pci_destroy(s->vp[i]);
	virtio_irq_destroy(s->irq);
	free(s);
}

/* Every device asked at once, then waited for: 1 ms polls (the main
 * thread reads no clock), VIRTIO_PAUSE_TIMEOUT_MS at most. */
int virtio_pause(struct virtio_set *s)
{
	bool all = false;
	int rc = 0;

	for (uint32_t i = 0; s && i < s->n && !rc; i++)
		rc = virtio_pci_pause(s->vp[i]);
	for (int ms = 0; !rc && !all; ms++) {
		all = true;
		for (uint32_t i = 0; s && i < s->n; i++)
			all = all && virtio_pci_parked(s->vp[i]);
		if (!all && ms >= VIRTIO_PAUSE_TIMEOUT_MS)
			rc = -ETIMEDOUT;
		else if (!all)
			poll(NULL, 0, 1);
	}
	if (rc) {
		log_err("cannot pause the virtio devices: %s", strerror(-rc));
		virtio_resume(s);
	}
	return rc;
}

uint32_t virtio_count(const struct virtio_set *s)
{
	return s ? s->n : 0;
}

struct virtio_pci *virtio_get(struct virtio_set *s, uint32_t i)
{
	return s && i < s->n ? s->vp[i] : NULL;
}

void virtio_resume(struct virtio_set *s)
{
	for (uint32_t i = 0; s && i < s->n; i++)
		virtio_pci_resume(s->vp[i]);
}

static void virtio_counters_add(struct virtio_counters *to, const struct virtio_counters *c)
{
	to->in_bytes += c->in_bytes;
	to->in_reqs += c->in_reqs;
	to->out_bytes += c->out_bytes;
	to->out_reqs += c->out_reqs;
}

void virtio_counters_sum(const struct virtio_set *s, struct virtio_counters *disk,
			 struct virtio_counters *net)
{
	*disk = *net = (struct virtio_counters){ 0 };
	for (uint32_t i = 0; s && i < s->n; i++) {
		struct virtio_counters c;
		uint16_t id;

		virtio_pci_counters(s->vp[i], &id, &c);
		if (id == VIRTIO_ID_BLOCK)
			virtio_counters_add(disk, &c);
		else if (id == VIRTIO_ID_NET)
			virtio_counters_add(net, &c);
	}
}
