/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACPI hardware-reduced sleep control and status registers (ACPI 6.4,
 * 4.8.3.7), both at PORT_ACPI_SLEEP as the FADT says.  Writing SLP_EN with
 * SLP_TYP = \_S5's value powers the VM off.  Other sleep states are not
 * offered (the DSDT defines only \_S5), so a request for one is ignored.
 */
#include <string.h>

#include "core/acpi.h"
#include "core/vmm/devices.h"
#include "core/layout.h"
#include "core/log.h"

static void acpi_pm_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)off;
	memset(data, 0, len);         /* WAK_STS clear */
}

static void acpi_pm_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct vm *vm = opaque;

	(void)off;
	if (len != 1 || !(data[0] & ACPI_SLP_EN))
		return;
	if (ACPI_SLP_TYP(data[0]) == ACPI_S5_TYPE) {
		log_info("guest powered off (ACPI S5)");
		vm_request_stop(vm, VM_POWEROFF);
		return;
	}
	log_debug("sleep type %u not supported; ignored", ACPI_SLP_TYP(data[0]));
}

static const struct bus_ops acpi_pm_ops = { .read = acpi_pm_read, .write = acpi_pm_write };

static int acpi_pm_init(struct vm *vm, void **state)
{
	*state = NULL;
	return bus_register(&vm->pio, PORT_ACPI_SLEEP, 1, "acpi-sleep", &acpi_pm_ops, vm);
}

static void acpi_pm_fini(void *state)
{
	(void)state;
}

/* No state to snapshot: reads are constant, S5 is an exit. */
const struct vm_device dev_acpi_pm = { "acpi-pm", acpi_pm_init, acpi_pm_fini, NULL, NULL };
