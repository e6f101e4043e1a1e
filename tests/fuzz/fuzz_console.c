/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console both ways: the UART (core/vmm/dev_uart.c) driven by a guest's
 * arbitrary port reads and writes, interleaved with host input through the
 * escape filter (core/launch/console_esc.c).  Each op is 3 bytes: kind
 * (bits 0-1: 0 port read, 1 port write, 2 host input, 3 a snapshot
 * round trip), register or length, value.  Checked: the interrupt line
 * always says whether IIR has a cause; the filter never grows its input;
 * the FIFO never takes more than 64 bytes at once.
 */
#include <stdlib.h>
#include <string.h>

#include "core/launch/console_esc.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/devices.h"
#include "core/vmm/outbuf.h"
#include "core/vmm/snap.h"
#include "tests/fuzz/fuzz.h"

static int fuzz_irq = 0;

int vm_irq_line(struct vm *vm, uint32_t irq, int level)
{
	(void)vm;
	if (irq != IRQ_COM1)
		__builtin_trap();
	fuzz_irq = level;
	return 0;
}

static uint8_t fuzz_in(struct vm *vm, unsigned int reg)
{
	uint8_t v = 0;

	bus_access(&vm->pio, PORT_COM1 + reg, &v, 1, 0);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outbuf out;
	static int out_ready;
	struct console_esc esc = { 0 };
	struct snap_buf sb = { .max = 4096 };
	struct vm vm;
	void *uart = NULL;

	log_set_level(LOG_ERR);
	if (!out_ready && outbuf_init(&out, -1) == 0)
		out_ready = 1;
	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.pio, "pio");
	vm.out = &out;
	fuzz_irq = 0;
	if (dev_uart.init(&vm, &uart))
		return 0;
	for (size_t i = 0; i + 3 <= size; i += 3) {
		uint8_t kind = data[i] & 3, reg = data[i + 1] & 7, v = data[i + 2];
		uint8_t buf[256];
		size_t n = data[i + 1], took;

		switch (kind) {
		case 0:
			bus_access(&vm.pio, PORT_COM1 + reg, &v, 1, 0);
			break;
		case 1:
			bus_access(&vm.pio, PORT_COM1 + reg, &v, 1, 1);
			break;
		case 2:
			memset(buf, v, n);
			if (n)
				buf[0] = CONSOLE_ESC_KEY;
			console_esc_filter(&esc, buf, &n);
			if (n > data[i + 1])
				__builtin_trap();
			took = uart_receive(vm.console, buf, n);
			if (took > n || took > 64)
				__builtin_trap();
			break;
		default:
			if (dev_uart.save(uart, &sb) == 0)
				dev_uart.restore(uart, sb.p, sb.len);
			break;
		}
		/* IIR bit 0 is "no interrupt pending": the line must agree.
		 * Reading IIR acknowledges THRE, so the line is taken first. */
		{
			int line = fuzz_irq;
			uint8_t iir = fuzz_in(&vm, 2);

			if (line != !(iir & 1))
				__builtin_trap();
		}
	}
	dev_uart.fini(uart);
	free(sb.p);
	return 0;
}
