/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Platform devices' snapshot records (core/vmm/dev_uart.c, dev_rtc.c,
 * dev_ged.c): a device driven through its ports is saved, a NEW one
 * restores the record and reads back the same (the UART's registers and
 * receive FIFO with its interrupt line, the CMOS bytes, the GED's pending
 * press with its line); records out of range are refused, with and
 * without a device (the check --restore runs before the VM exists).
 * vm_irq_line is recorded here (its KVM ioctl is the lab's).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/acpi.h"
#include "core/layout.h"
#include "core/vmm/devices.h"
#include "core/vmm/outbuf.h"
#include "core/vmm/snap.h"

static int line[32];

int vm_irq_line(struct vm *vm, uint32_t irq, int level)
{
	(void)vm;
	if (irq < 32)
		line[irq] = level;
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_state why)
{
	(void)vm;
	(void)why;
}

static struct vm vm1, vm2;
static struct snap_buf rec = { .max = SNAP_DEV_MAX };

static void vm_fresh(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
}

static void out(struct vm *vm, uint16_t port, uint8_t v)
{
	assert_int_equal(bus_access(&vm->pio, port, &v, 1, 1), 0);
}

static uint8_t in(struct vm *vm, uint16_t port)
{
	uint8_t v = 0;

	assert_int_equal(bus_access(&vm->pio, port, &v, 1, 0), 0);
	return v;
}

static void test_uart(void **state)
{
	void *a, *b;
	uint8_t bad[80];

	(void)state;
	vm_fresh(&vm1);
	vm_fresh(&vm2);
	assert_int_equal(dev_uart.init(&vm1, &a), 0);
	out(&vm1, PORT_COM1 + 3, 0x03);          /* 8n1 */
	out(&vm1, PORT_COM1 + 7, 0x5a);          /* scratch */
	out(&vm1, PORT_COM1 + 1, 0x01);          /* receive interrupt on */
	assert_int_equal(uart_receive(vm1.console, (const uint8_t *)"hi", 2), 2);
	assert_int_equal(line[IRQ_COM1], 1);
	assert_int_equal(dev_uart.save(a, &rec), 0);
	line[IRQ_COM1] = 0;
	assert_int_equal(dev_uart.init(&vm2, &b), 0);
	assert_int_equal(dev_uart.restore(NULL, rec.p, rec.len), 0);
	assert_int_equal(dev_uart.restore(b, rec.p, rec.len), 0);
	assert_int_equal(line[IRQ_COM1], 1);      /* pending again, on the new one */
	assert_int_equal(in(&vm2, PORT_COM1 + 7), 0x5a);
	assert_int_equal(in(&vm2, PORT_COM1 + 3), 0x03);
	assert_int_equal(in(&vm2, PORT_COM1), 'h');
	assert_int_equal(in(&vm2, PORT_COM1), 'i');
	/* FIFO head, count, THRI flag out of range; a byte short */
	memcpy(bad, rec.p, rec.len);
	bad[8] = 64;
	assert_int_equal(dev_uart.restore(NULL, bad, rec.len), -EBADMSG);
	memcpy(bad, rec.p, rec.len);
	bad[9] = 65;
	assert_int_equal(dev_uart.restore(b, bad, rec.len), -EBADMSG);
	memcpy(bad, rec.p, rec.len);
	bad[7] = 2;
	assert_int_equal(dev_uart.restore(NULL, bad, rec.len), -EBADMSG);
	assert_int_equal(dev_uart.restore(NULL, rec.p, rec.len - 1), -EBADMSG);
	dev_uart.fini(a);
	dev_uart.fini(b);
}

static void test_rtc(void **state)
{
	void *a, *b;
	uint8_t bad[129];

	(void)state;
	vm_fresh(&vm1);
	vm_fresh(&vm2);
	assert_int_equal(dev_rtc.init(&vm1, &a), 0);
	out(&vm1, PORT_CMOS, 0x40);
	out(&vm1, PORT_CMOS + 1, 0xc3);          /* a CMOS byte the guest keeps */
	assert_int_equal(dev_rtc.save(a, &rec), 0);
	assert_int_equal(dev_rtc.init(&vm2, &b), 0);
	assert_int_equal(dev_rtc.restore(b, rec.p, rec.len), 0);
	out(&vm2, PORT_CMOS, 0x40);
	assert_int_equal(in(&vm2, PORT_CMOS + 1), 0xc3);
	memcpy(bad, rec.p, sizeof(bad));
	bad[0] = 0x80;                           /* index past the 128 bytes */
	assert_int_equal(dev_rtc.restore(NULL, bad, sizeof(bad)), -EBADMSG);
	assert_int_equal(dev_rtc.restore(NULL, rec.p, rec.len + 0 - 1), -EBADMSG);
	dev_rtc.fini(a);
	dev_rtc.fini(b);
}

static void test_ged(void **state)
{
	void *a, *b;

	(void)state;
	vm_fresh(&vm1);
	vm_fresh(&vm2);
	assert_int_equal(dev_ged.init(&vm1, &a), 0);
	assert_int_equal(ged_power_button(a), 0);   /* pressed, not acknowledged */
	assert_int_equal(dev_ged.save(a, &rec), 0);
	line[IRQ_GED] = 0;
	assert_int_equal(dev_ged.init(&vm2, &b), 0);
	assert_int_equal(dev_ged.restore(b, rec.p, rec.len), 0);
	assert_int_equal(line[IRQ_GED], 1);
	assert_int_equal(in(&vm2, PORT_ACPI_GED), ACPI_GED_PWR_BUTTON);
	assert_int_equal(dev_ged.restore(NULL, (const uint8_t *)"\x02", 1), -EBADMSG);
	assert_int_equal(dev_ged.restore(NULL, (const uint8_t *)"\x01\x00", 2), -EBADMSG);
	dev_ged.fini(a);
	dev_ged.fini(b);
}

static int teardown(void **state)
{
	(void)state;
	snap_buf_free(&rec);
	rec.max = SNAP_DEV_MAX;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_uart, teardown),
		cmocka_unit_test_teardown(test_rtc, teardown),
		cmocka_unit_test_teardown(test_ged, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
