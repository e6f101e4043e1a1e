/* SPDX-License-Identifier: Apache-2.0 */
/* PCI host bridge: bus 0, configuration mechanism #1 (0xCF8/0xCFC) and ECAM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/vmm/devices.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/pci.h"
#include "core/vmm/snap.h"
#include "core/util.h"

#define PCI_SLOTS 32

struct pci_slot {
	const char *name;
	const struct pci_function_ops *ops;
	void *opaque;
};

struct pci_host {
	pthread_mutex_t lock;          /* the CF8 address latch */
	uint32_t cf8;
	uint8_t bridge_cfg[64];        /* 00:00.0, read-only */
	struct pci_slot slot[PCI_SLOTS];
	uint64_t mmio32_next;
};

/* Configuration access to DEVFN at OFF; absent functions read all-ones. */
static void pci_cfg_access(struct pci_host *h, uint32_t devfn, uint32_t off,
			   uint8_t *data, uint32_t len, int is_write)
{
	const struct pci_slot *s = (devfn & 7) ? NULL : &h->slot[devfn >> 3];

	if (is_write) {
		if (s && s->ops && s->ops->cfg_write)
			s->ops->cfg_write(s->opaque, off, data, len);
		return;
	}
	memset(data, 0xff, len);
	if (devfn == 0 && off + len <= sizeof(h->bridge_cfg))
		memcpy(data, h->bridge_cfg + off, len);
	else if (devfn == 0)
		memset(data, 0, len);
	else if (s && s->ops && s->ops->cfg_read)
		s->ops->cfg_read(s->opaque, off, data, len);
}

static void pci_port_access(struct pci_host *h, uint64_t off, uint8_t *data,
			    uint32_t len, int is_write)
{
	uint32_t a;

	pthread_mutex_lock(&h->lock);
	if (off == 0 && len == 4) {
		if (is_write)
			memcpy(&h->cf8, data, 4);
		else
			memcpy(data, &h->cf8, 4);
		pthread_mutex_unlock(&h->lock);
		return;
	}
	a = h->cf8;
	pthread_mutex_unlock(&h->lock);
	if (!is_write)
		memset(data, 0xff, len);
	/* Data window 0xCFC..0xCFF; only enabled accesses to bus 0 reach a device. */
	if (off < 4 || (off & 3) + len > 4 || !(a & 0x80000000u) || ((a >> 16) & 0xff))
		return;
	pci_cfg_access(h, (a >> 8) & 0xff, (a & 0xfc) + (uint32_t)(off & 3), data, len,
		       is_write);
}

static void pci_port_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	pci_port_access(opaque, off, data, len, 0);
}

static void pci_port_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	uint8_t tmp[8];

	memcpy(tmp, data, len);
	pci_port_access(opaque, off, tmp, len, 1);
}

static void pci_ecam_access(struct pci_host *h, uint64_t off, uint8_t *data,
			    uint32_t len, int is_write)
{
	uint32_t reg = (uint32_t)(off & 0xfff);

	if (!is_write)
		memset(data, 0xff, len);
	if (len > 4 || (reg & (len - 1)))
		return;    /* misaligned or 64-bit: not a configuration access */
	pci_cfg_access(h, (uint32_t)(off >> 12) & 0xff, reg, data, len, is_write);
}

static void pci_ecam_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	pci_ecam_access(opaque, off, data, len, 0);
}

static void pci_ecam_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	uint8_t tmp[8];

	memcpy(tmp, data, len);
	pci_ecam_access(opaque, off, tmp, len, 1);
}

static const struct bus_ops pci_port_ops = { .read = pci_port_read, .write = pci_port_write };
static const struct bus_ops pci_ecam_ops = { .read = pci_ecam_read, .write = pci_ecam_write };

int pci_register(struct vm *vm, const char *name, const struct pci_function_ops *ops,
		 void *opaque, uint8_t *devfn)
{
	struct pci_host *h = vm->pci;

	if (!h || !ops)
		return -EINVAL;
	for (uint8_t i = 1; i < PCI_SLOTS; i++) {
		if (h->slot[i].ops)
			continue;
		h->slot[i] = (struct pci_slot){ name, ops, opaque };
		*devfn = (uint8_t)(i << 3);
		return 0;
	}
	log_err("pci: no free slot for %s", name);
	return -ENOSPC;
}

int pci_alloc_mmio32(struct vm *vm, uint64_t size, uint64_t *addr)
{
	struct pci_host *h = vm->pci;
	uint64_t a;

	if (!h || size < 4096 || (size & (size - 1)))
		return -EINVAL;
	a = (h->mmio32_next + size - 1) & ~(size - 1);
	if (!range_fits(a - GUEST_PCI_MMIO32, size, GUEST_PCI_MMIO32_SIZE))
		return -ENOSPC;
	h->mmio32_next = a + size;
	*addr = a;
	return 0;
}

static int pci_host_init(struct vm *vm, void **state)
{
	static const uint8_t id[] = { 0x36, 0x1b, 0x08, 0x00 }; /* 1b36:0008 */
	struct pci_host *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	memcpy(h->bridge_cfg, id, sizeof(id));
	h->bridge_cfg[0x0b] = 0x06;          /* class: bridge, host bridge */
	h->mmio32_next = GUEST_PCI_MMIO32;
	rc = bus_register(&vm->pio, PORT_PCI_CONFIG, 8, "pci-cfg", &pci_port_ops, h);
	if (!rc)
		rc = bus_register(&vm->mmio, GUEST_ECAM_ADDR, GUEST_ECAM_SIZE, "pci-ecam",
				  &pci_ecam_ops, h);
	if (rc) {
		free(h);
		return rc;
	}
	vm->pci = h;
	*state = h;
	return 0;
}

static void pci_host_fini(void *state)
{
	free(state);
}

/* Snapshot: the CF8 address latch (the functions' spaces are their own). */
static int pci_host_save(void *state, struct snap_buf *b)
{
	struct pci_host *h = state;
	uint32_t cf8;

	pthread_mutex_lock(&h->lock);
	cf8 = h->cf8;
	pthread_mutex_unlock(&h->lock);
	b->len = 0;
	return snap_buf_put(b, &cf8, sizeof(cf8));
}

static int pci_host_restore(void *state, const uint8_t *p, size_t len)
{
	struct pci_host *h = state;

	if (len != sizeof(h->cf8))
		return -EBADMSG;
	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	memcpy(&h->cf8, p, sizeof(h->cf8));
	pthread_mutex_unlock(&h->lock);
	return 0;
}

const struct vm_device dev_pci_host = { "pci-host", pci_host_init, pci_host_fini,
					 pci_host_save, pci_host_restore };
