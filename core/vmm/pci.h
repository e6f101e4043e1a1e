/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI bus 0 behind the host bridge (dev_pci_host.c): configuration access by
 * ports 0xCF8/0xCFC and by ECAM (GUEST_ECAM_ADDR, in the MCFG table).
 * Devices register a function here before the vCPUs start; the host bridge
 * itself is 00:00.0.  BARs are placed by the device in windows handed out by
 * pci_alloc_mmio32() (the DSDT's PCI0 _CRS covers them) and registered on
 * vm->mmio.
 */
#ifndef BULWARK_PCI_H
#define BULWARK_PCI_H

#include <stdint.h>

#include "core/vmm/vm.h"

#define PCI_CFG_SIZE 4096

struct pci_function_ops {
	/* OFF < PCI_CFG_SIZE and OFF + LEN within it; LEN 1, 2 or 4. */
	void (*cfg_read)(void *opaque, uint32_t off, uint8_t *data, uint32_t len);
	void (*cfg_write)(void *opaque, uint32_t off, const uint8_t *data, uint32_t len);
};

/* Register a function on bus 0 at the next free slot; *DEVFN gets it. */
int pci_register(struct vm *vm, const char *name, const struct pci_function_ops *ops,
		 void *opaque, uint8_t *devfn);

/* Reserve SIZE bytes (a power of two, >= 4 KiB) of the 32-bit MMIO window. */
int pci_alloc_mmio32(struct vm *vm, uint64_t size, uint64_t *addr);

#endif
