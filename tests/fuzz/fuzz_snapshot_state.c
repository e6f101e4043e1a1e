/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the VMM's payload checks of a state stream (core/vmm/snap_*.c,
 * core/vmm/virtio_pci_snap.c): what --restore runs on every record before
 * the VM exists.  The first byte picks the parser (a vCPU, the irqchip,
 * the PIT, the clock, a virtio-blk / -net / -rng device), the rest is the
 * record's payload.  No KVM here: the vCPU check is given no /dev/kvm, so
 * an XSAVE-carrying record is refused as on a host without XSAVE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vmm/snap.h"
#include "core/vmm/virtio.h"
#include "core/vmm/virtio_setup.h"
#include "tests/fuzz/fuzz.h"

/* The transport's I/O thread is never started here; these are what it
 * would call (as in tests/unit/test_virtio_pci.c). */
int vmm_thread_confine(struct vm *vm, enum vmm_role role)
{
	(void)vm;
	(void)role;
	return -EPERM;
}

void vm_request_stop(struct vm *vm, enum vm_state why)
{
	(void)vm;
	(void)why;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_device_ops *const ops[] = {
		&virtio_blk_ops, &virtio_net_ops, &virtio_rng_ops,
	};
	uint8_t *p;

	log_set_level(LOG_ERR);
	if (size < 1)
		return 0;
	/* An exact-size heap copy: ASan sees any read past the payload. */
	p = malloc(size - 1 ? size - 1 : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, size - 1);
	switch (data[0] % 7) {
	case 0: (void)snap_vcpu_check(-1, 0, p, size - 1); break;
	case 1: (void)snap_irqchip_check(p, size - 1); break;
	case 2: (void)snap_pit_check(p, size - 1); break;
	case 3: (void)snap_clock_check(p, size - 1); break;
	default: (void)virtio_pci_snap_check(ops[data[0] % 7 - 4], 9, p, size - 1); break;
	}
	free(p);
	return 0;
}
