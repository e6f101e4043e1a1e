/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Direct Linux boot: boot_plan() validates the kernel and initrd files and
 * decides the guest layout (the launcher calls it before creating anything;
 * the VMM calls it again on the fds it was given); boot_load()
 * (core/vmm/boot_load.h, in the VMM only) writes kernel, initrd, command
 * line, zero page, ACPI tables, GDT and page tables into guest memory.
 */
#ifndef BULWARK_BOOT_H
#define BULWARK_BOOT_H

#include <stdint.h>

#include "core/acpi.h"
#include "core/bootparams.h"
#include "core/config.h"

#define BOOT_KERNEL_MAX (256ULL << 20)

struct boot_plan {
	struct bzimage_info bz;
	struct boot_layout lay;
	uint64_t initrd_size;
};

/* INITRD_FD is -1 when there is no initrd. */
int boot_plan(const struct vm_config *cfg, int kernel_fd, int initrd_fd,
	      struct boot_plan *plan);

/* Build the identity map (4 GiB, 2 MiB pages) and the boot GDT in MEM,
 * guest RAM from address 0 (at least 1 MiB). */
void boot_write_tables(uint8_t *mem);

#endif
