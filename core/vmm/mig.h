/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration, the source VMM's side (core/vmm/mig.c, core/vmm_abi.h). */
#ifndef BULWARK_VMM_MIG_H
#define BULWARK_VMM_MIG_H

#include <stdint.h>

#include "core/vmm/vm.h"

struct vmm_ctl_mig;

/*
 * VMM_CTL_MIG_START, _ROUND, _FINAL or _CANCEL (vmm_abi.h), the stream to
 * FD, this order's figures into OUT.  0 or -errno; an order out of turn
 * changes nothing, a failed write ends the migration (as CANCEL).
 */
int mig_order(struct vm *vm, uint32_t op, int fd, struct vmm_ctl_mig *out);
/* At teardown: whatever a migration in progress holds. */
void mig_fini(struct vm *vm);

#endif
