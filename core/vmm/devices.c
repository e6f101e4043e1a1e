/* SPDX-License-Identifier: Apache-2.0 */
/* The platform devices of every VM, created in this order. */
#include "core/vmm/devices.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

static const struct vm_device *const platform[] = {
	&dev_uart, &dev_i8042, &dev_rtc, &dev_acpi_pm, &dev_ged, &dev_pci_host,
	&dev_tpm_crb,
};
static_assert(ARRAY_SIZE(platform) <= ARRAY_SIZE(((struct vm *)0)->dev_state),
	      "one state slot per device");

int devices_init(struct vm *vm)
{
	for (size_t i = 0; i < ARRAY_SIZE(platform); i++) {
		int rc = platform[i]->init(vm, &vm->dev_state[i]);

		if (rc) {
			log_err("device %s: %s", platform[i]->name, strerror(-rc));
			while (i--)
				platform[i]->fini(vm->dev_state[i]);
			return rc;
		}
	}
	vm->devices_up = 1;
	return 0;
}

int devices_power_button(struct vm *vm)
{
	for (size_t i = 0; vm->devices_up && i < ARRAY_SIZE(platform); i++)
		if (platform[i] == &dev_ged)
			return ged_power_button(vm->dev_state[i]);
	return -ENODEV;
}

size_t devices_count(void)
{
	return ARRAY_SIZE(platform);
}

const struct vm_device *devices_get(size_t i)
{
	return i < ARRAY_SIZE(platform) ? platform[i] : NULL;
}

void devices_fini(struct vm *vm)
{
	for (size_t i = ARRAY_SIZE(platform); i--;)
		platform[i]->fini(vm->dev_state[i]);
	vm->devices_up = 0;
}
