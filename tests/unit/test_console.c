/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console's input side: the UART's receive FIFO (core/vmm/dev_uart.c)
 * as a guest driver sees it through the port-I/O bus (LSR data ready, IIR
 * receive interrupt, the IRQ 4 line, the FIFO's bound and its clear), and
 * the terminal's escape key (core/launch/console_esc.c).  The line goes to
 * vm_irq_line(), defined here to record each level (the KVM ioctl behind
 * it runs in the lab: test-distro logs in on the serial getty).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/layout.h"
#include "core/launch/console_esc.h"
#include "core/vmm/devices.h"
#include "core/vmm/outbuf.h"

#define RBR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5

static int irq_level = -1, irq_calls;

int vm_irq_line(struct vm *vm, uint32_t irq, int level)
{
	(void)vm;
	assert_int_equal(irq, IRQ_COM1);
	irq_level = level;
	irq_calls++;
	return 0;
}

static struct vm vm;
static struct outbuf out;
static void *uart;

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.pio, "pio");
	assert_int_equal(outbuf_init(&out, -1), 0);
	vm.out = &out;
	irq_level = -1;
	irq_calls = 0;
	return dev_uart.init(&vm, &uart);
}

static int teardown(void **state)
{
	(void)state;
	dev_uart.fini(uart);
	outbuf_fini(&out);
	return 0;
}

static uint8_t in8(unsigned int reg)
{
	uint8_t v = 0xaa;

	assert_int_equal(bus_access(&vm.pio, PORT_COM1 + reg, &v, 1, 0), 0);
	return v;
}

static void out8(unsigned int reg, uint8_t v)
{
	assert_int_equal(bus_access(&vm.pio, PORT_COM1 + reg, &v, 1, 1), 0);
}

/* Bytes arrive in order, LSR says when one is there, nothing is invented. */
static void test_rx_polled(void **state)
{
	const uint8_t msg[] = "root\r";

	(void)state;
	assert_int_equal(in8(LSR) & 0x01, 0);
	assert_int_equal(uart_receive(vm.console, msg, 5), 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(in8(LSR) & 0x01, 1);
		assert_int_equal(in8(RBR), msg[i]);
	}
	assert_int_equal(in8(LSR) & 0x01, 0);
	assert_int_equal(irq_calls, 0);     /* IER off: the line never moved */
}

/* With the receive interrupt enabled, the line is high exactly while the
 * FIFO holds a byte, and IIR names the cause. */
static void test_rx_interrupt(void **state)
{
	const uint8_t b = 'x';

	(void)state;
	out8(IER, 0x01);
	assert_int_equal(in8(IIR) & 0x0f, 0x01);     /* nothing pending */
	assert_int_equal(uart_receive(vm.console, &b, 1), 1);
	assert_int_equal(irq_level, 1);
	assert_int_equal(in8(IIR) & 0x0f, 0x04);     /* received data */
	assert_int_equal(in8(RBR), 'x');
	assert_int_equal(irq_level, 0);
	/* Enabled after the byte came: the line rises then. */
	out8(IER, 0x00);
	assert_int_equal(uart_receive(vm.console, &b, 1), 1);
	assert_int_equal(irq_level, 0);
	out8(IER, 0x01);
	assert_int_equal(irq_level, 1);
}

/* Bounded: the FIFO takes 64 bytes and says so; the caller keeps the rest
 * (backpressure), and nothing taken is lost or reordered. */
static void test_rx_bound(void **state)
{
	uint8_t big[200];
	size_t took, total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	took = uart_receive(vm.console, big, sizeof(big));
	assert_int_equal(took, 64);
	assert_int_equal(uart_receive(vm.console, big + took, 1), 0);
	while (total < sizeof(big)) {
		while (in8(LSR) & 0x01)
			assert_int_equal(in8(RBR), (uint8_t)total++);
		if (total < sizeof(big))
			assert_true(uart_receive(vm.console, big + total,
						 sizeof(big) - total) > 0);
	}
	assert_int_equal(total, sizeof(big));
}

/* FCR's receive clear empties the FIFO; the divisor latch hides RBR; in
 * loopback, host input is refused rather than mixed in. */
static void test_rx_clear_dlab_loop(void **state)
{
	const uint8_t b[3] = { 'a', 'b', 'c' };

	(void)state;
	out8(IER, 0x01);
	assert_int_equal(uart_receive(vm.console, b, 3), 3);
	out8(FCR, 0x03);
	assert_int_equal(in8(LSR) & 0x01, 0);
	assert_int_equal(irq_level, 0);
	assert_int_equal(uart_receive(vm.console, b, 1), 1);
	out8(LCR, 0x80);
	out8(RBR, 0x0c);                  /* divisor low */
	assert_int_equal(in8(RBR), 0x0c);
	out8(LCR, 0x03);
	assert_int_equal(in8(RBR), 'a');
	out8(MCR, 0x18);                  /* loopback */
	assert_int_equal(uart_receive(vm.console, b, 3), 0);
	out8(RBR, 'z');
	assert_int_equal(in8(RBR), 'z');
}

static unsigned int esc(struct console_esc *e, const char *in, size_t len,
			const char *want, size_t want_len)
{
	uint8_t buf[64];
	size_t n = len;
	unsigned int quits;

	memcpy(buf, in, len);
	quits = console_esc_filter(e, buf, &n);
	assert_int_equal(n, want_len);
	assert_memory_equal(buf, want, want_len);
	return quits;
}

static void test_escape(void **state)
{
	struct console_esc e = { 0 };

	(void)state;
	/* Plain keys, ^C, ^D and ^Z included, pass untouched. */
	assert_int_equal(esc(&e, "ls\x03\x04\x1a\r", 6, "ls\x03\x04\x1a\r", 6), 0);
	/* Ctrl-] q: a quit; the keys around it still go. */
	assert_int_equal(esc(&e, "ab\x1dqcd", 6, "abcd", 4), 1);
	assert_false(e.armed);
	assert_int_equal(esc(&e, "\x1dQ\x1dq", 4, "", 0), 2);
	/* Ctrl-] Ctrl-]: one Ctrl-] to the guest. */
	assert_int_equal(esc(&e, "\x1d\x1dx", 3, "\x1dx", 2), 0);
	/* Ctrl-] then another key: the key alone. */
	assert_int_equal(esc(&e, "\x1dx", 2, "x", 1), 0);
	/* q alone is a key. */
	assert_int_equal(esc(&e, "q", 1, "q", 1), 0);
	/* Split across two reads. */
	assert_int_equal(esc(&e, "a\x1d", 2, "a", 1), 0);
	assert_true(e.armed);
	assert_int_equal(esc(&e, "q", 1, "", 0), 1);
	assert_int_equal(esc(&e, "\x1d", 1, "", 0), 0);
	assert_int_equal(esc(&e, "\x1d", 1, "\x1d", 1), 0);
	assert_false(e.armed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rx_polled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_clear_dlab_loop, setup, teardown),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
