/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i8042 keyboard controller, reduced to what a guest needs of it: the reset
 * line (command 0xFE on port 0x64), which ends the VM with VM_REBOOT.  The
 * FADT does not advertise an 8042, so Linux does not probe for a keyboard;
 * its reboot path still writes 0xFE here.  Status reads 0: no data, input
 * buffer empty (so the guest's wait loop ends at once).
 */
#include <errno.h>

#include <string.h>

#include "core/vmm/devices.h"
#include "core/layout.h"
#include "core/log.h"

#define I8042_CMD_RESET 0xfe

static void i8042_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)off;
	memset(data, 0, len);
}

static void i8042_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct vm *vm = opaque;

	(void)off;
	if (len == 1 && data[0] == I8042_CMD_RESET) {
		log_info("guest requested a reset (i8042)");
		vm_request_stop(vm, VM_REBOOT);
	}
}

static const struct bus_ops i8042_data_ops = { .read = i8042_read };
static const struct bus_ops i8042_cmd_ops = { .read = i8042_read, .write = i8042_write };

static int i8042_init(struct vm *vm, void **state)
{
	int rc = bus_register(&vm->pio, PORT_I8042_DATA, 1, "i8042", &i8042_data_ops, vm);

	if (!rc)
		rc = bus_register(&vm->pio, PORT_I8042_CMD, 1, "i8042", &i8042_cmd_ops, vm);
	*state = NULL;
	return rc;
}

static void i8042_fini(void *state)
{
	(void)state;
}

/* No state to snapshot: reads are constant, the reset is an exit. */
const struct vm_device dev_i8042 = { "i8042", i8042_init, i8042_fini, NULL, NULL };
