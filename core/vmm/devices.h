/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform devices, one file each (dev_*.c), each exporting one ops
 * table.  devices.c lists them in the order they are created.
 */
#ifndef BULWARK_DEVICES_H
#define BULWARK_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "core/vmm/vm.h"

extern const struct vm_device dev_uart;      /* COM1 8250 at 0x3F8, IRQ 4 */
extern const struct vm_device dev_i8042;     /* reset line only */
extern const struct vm_device dev_rtc;       /* CMOS RTC at 0x70 */
extern const struct vm_device dev_acpi_pm;   /* ACPI sleep control (S5) */
extern const struct vm_device dev_ged;       /* ACPI GED: the power button */
extern const struct vm_device dev_pci_host;  /* PCI host bridge, CF8 + ECAM */
extern const struct vm_device dev_tpm_crb;   /* vTPM CRB at 0xFED40000 (--vtpm) */

/* Feed host input to the console UART; returns how many bytes it took. */
size_t uart_receive(struct uart *u, const uint8_t *p, size_t n);

/* Press the guest's ACPI power button (core/vmm/dev_ged.c): sets the event and
 * raises its line, never waits for the guest.  0 or -errno. */
struct ged;
int ged_power_button(struct ged *g);
int devices_power_button(struct vm *vm);

/* The platform devices in creation order (their state: vm->dev_state[i]). */
size_t devices_count(void);
const struct vm_device *devices_get(size_t i);

#endif
