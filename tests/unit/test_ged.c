/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Generic Event Device (core/vmm/dev_ged.c) through the port-I/O bus, as a
 * vCPU reaches it: the status register and the interrupt line.  The line
 * goes to vm_irq_line(), defined here to record each level (the KVM
 * ioctl behind it is exercised by the lab test test-shutdown).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/acpi.h"
#include "core/vmm/devices.h"
#include "core/layout.h"

static int irq_calls, irq_level = -1, irq_fail;

int vm_irq_line(struct vm *vm, uint32_t irq, int level)
{
	(void)vm;
	assert_int_equal(irq, IRQ_GED);
	if (irq_fail)
		return -EIO;
	__atomic_add_fetch(&irq_calls, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&irq_level, level, __ATOMIC_SEQ_CST);
	return 0;
}

static struct vm vm;
static void *ged;

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.pio, "pio");
	irq_calls = 0;
	irq_level = -1;
	irq_fail = 0;
	return dev_ged.init(&vm, &ged);
}

static int teardown(void **state)
{
	(void)state;
	dev_ged.fini(ged);
	return 0;
}

static uint8_t ged_in(void)
{
	uint8_t v = 0xaa;

	assert_int_equal(bus_access(&vm.pio, PORT_ACPI_GED, &v, 1, 0), 0);
	return v;
}

static void ged_out(uint8_t v)
{
	assert_int_equal(bus_access(&vm.pio, PORT_ACPI_GED, &v, 1, 1), 0);
}

static void test_idle(void **state)
{
	uint8_t w[2] = { 0xff, 0xff };

	(void)state;
	for (unsigned int v = 0; v < 256; v++) {
		ged_out((uint8_t)v);              /* nothing to acknowledge */
		assert_int_equal(ged_in(), 0);
	}
	assert_int_equal(irq_calls, 0);       /* the line never moved */
	/* One byte wide: a word at the port is not this device's. */
	assert_int_equal(bus_access(&vm.pio, PORT_ACPI_GED, w, 2, 0), -ENOENT);
}

static void test_press_ack(void **state)
{
	(void)state;
	assert_int_equal(ged_power_button(ged), 0);
	assert_int_equal(irq_level, 1);
	assert_int_equal(ged_in(), ACPI_GED_PWR_BUTTON);
	assert_int_equal(ged_in(), ACPI_GED_PWR_BUTTON);   /* reads do not clear */
	/* A second press before the ack is the same press: no new edge. */
	assert_int_equal(ged_power_button(ged), 0);
	assert_int_equal(irq_calls, 1);
	/* Writing 0 or other bits acknowledges nothing. */
	ged_out(0);
	ged_out((uint8_t)~ACPI_GED_PWR_BUTTON);
	assert_int_equal(ged_in(), ACPI_GED_PWR_BUTTON);
	assert_int_equal(irq_level, 1);
	/* _EVT writes back what it read: the event is gone, the line low. */
	ged_out(ACPI_GED_PWR_BUTTON);
	assert_int_equal(ged_in(), 0);
	assert_int_equal(irq_level, 0);
	assert_int_equal(irq_calls, 2);
	/* A press after the ack is a new event: the line rises again. */
	assert_int_equal(ged_power_button(ged), 0);
	assert_int_equal(irq_level, 1);
	assert_int_equal(irq_calls, 3);
}

static void test_irq_failure(void **state)
{
	(void)state;
	irq_fail = 1;
	assert_int_equal(ged_power_button(ged), -EIO);
	/* The event stays pending; the next press retries the line. */
	assert_int_equal(ged_in(), ACPI_GED_PWR_BUTTON);
	irq_fail = 0;
	assert_int_equal(ged_power_button(ged), 0);
	assert_int_equal(irq_level, 1);
}

static void *acker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		uint8_t v = ged_in();

		if (v)
			ged_out(v);
	}
	return NULL;
}

/* The main thread presses while a vCPU acknowledges: the line always ends
 * up saying whether an event is pending. */
static void test_concurrent(void **state)
{
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, acker, NULL), 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(ged_power_button(ged), 0);
	pthread_join(t, NULL);
	assert_int_equal(irq_level, ged_in() != 0);
	if (ged_in())
		ged_out(ged_in());
	assert_int_equal(irq_level, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_press_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
