/* SPDX-License-Identifier: Apache-2.0 */
/* Loading the planned boot (core/boot.h) into guest memory: VMM only. */
#ifndef BULWARK_VMM_BOOT_LOAD_H
#define BULWARK_VMM_BOOT_LOAD_H

#include "core/boot.h"
#include "core/vmm/vm.h"

int boot_load(struct vm *vm, const struct boot_plan *plan, int kernel_fd,
	      int initrd_fd, const struct acpi_blob *acpi);

#endif
