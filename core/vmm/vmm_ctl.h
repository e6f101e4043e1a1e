/* SPDX-License-Identifier: Apache-2.0 */
/* The VMM's side of the launcher's control channel (core/vmm_abi.h). */
#ifndef BULWARK_VMM_CTL_H
#define BULWARK_VMM_CTL_H

#include "core/vmm/vm.h"

/*
 * Reads one request from FD (non-blocking), acts, writes the reply.
 * 0 (also when nothing was there), or -EPIPE when the launcher's end is
 * gone (stop polling it), -errno otherwise.
 */
int vmm_ctl_service(struct vm *vm, int fd);

#endif
