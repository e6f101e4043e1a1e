/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 8250/16550A UART at COM1 (0x3F8, IRQ 4): the guest console.  Output goes
 * to the console ring (the vCPU never blocks); input comes from the main
 * thread through uart_receive().  Transmission is instantaneous, so THR is
 * always empty.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/vmm/devices.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/outbuf.h"
#include "core/vmm/snap.h"
#include "core/util.h"

#define UART_RX_FIFO 64

#define IER_RDI   0x01
#define IER_THRI  0x02
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0
#define FCR_FIFO  0x01
#define FCR_CLRRX 0x02
#define LCR_DLAB  0x80
#define MCR_LOOP  0x10
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MSR_IDLE  0xb0          /* DCD, DSR, CTS */

struct uart {
	pthread_mutex_t lock;
	struct vm *vm;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	int thri_pending;
	int irq_level;
	uint8_t rx[UART_RX_FIFO];
	size_t rx_head, rx_count;
};

static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_FIFO) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thri_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

/* Called with the lock held.  The ISA line is edge-triggered at the IOAPIC:
 * it is high exactly while an interrupt is pending. */
static void uart_update_irq(struct uart *u)
{
	int level = !(uart_iir(u) & IIR_NONE);

	if (level != u->irq_level) {
		u->irq_level = level;
		vm_irq_line(u->vm, IRQ_COM1, level);
	}
}

static void uart_rx_push(struct uart *u, uint8_t b)
{
	if (u->rx_count < UART_RX_FIFO)
		u->rx[(u->rx_head + u->rx_count++) % UART_RX_FIFO] = b;
}

static uint8_t uart_msr(const struct uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_IDLE;
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	return (uint8_t)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) |
			 ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
}

static uint8_t uart_read_reg(struct uart *u, uint64_t off)
{
	uint8_t v = 0;

	switch (off) {
	case 0:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
			u->rx_count--;
		}
		return v;
	case 1:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case 2:
		v = uart_iir(u);
		if ((v & 0x0f) == IIR_THRI)
			u->thri_pending = 0;   /* reading IIR acknowledges THRE */
		return v;
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		return (u->rx_count ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
	case 6:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

static void uart_write_reg(struct uart *u, uint64_t off, uint8_t v)
{
	switch (off) {
	case 0:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
		} else if (u->mcr & MCR_LOOP) {
			uart_rx_push(u, v);
		} else {
			outbuf_put(u->vm->out, &v, 1);
			u->thri_pending = 1;
		}
		break;
	case 1:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thri_pending = 1;
		u->ier = v & 0x0f;
		break;
	case 2:
		u->fcr = v;
		if (v & FCR_CLRRX)
			u->rx_count = 0;
		break;
	case 3:
		u->lcr = v;
		break;
	case 4:
		u->mcr = v & 0x1f;
		break;
	case 7:
		u->scr = v;
		break;
	default:
		break;                  /* LSR, MSR: read-only */
	}
}

static void uart_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct uart *u = opaque;

	memset(data, 0xff, len);
	if (len != 1)
		return;
	pthread_mutex_lock(&u->lock);
	data[0] = uart_read_reg(u, off);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct uart *u = opaque;

	if (len != 1)
		return;
	pthread_mutex_lock(&u->lock);
	uart_write_reg(u, off, data[0]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_receive(struct uart *u, const uint8_t *p, size_t n)
{
	size_t taken = 0;

	pthread_mutex_lock(&u->lock);
	while (taken < n && u->rx_count < UART_RX_FIFO && !(u->mcr & MCR_LOOP))
		uart_rx_push(u, p[taken++]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return taken;
}

static const struct bus_ops uart_ops = { .read = uart_read, .write = uart_write };

static int uart_init(struct vm *vm, void **state)
{
	struct uart *u = calloc(1, sizeof(*u));
	int rc;

	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	u->vm = vm;
	u->mcr = 0x08;               /* OUT2 */
	rc = bus_register(&vm->pio, PORT_COM1, 8, "com1", &uart_ops, u);
	if (rc) {
		free(u);
		return rc;
	}
	vm->console = u;
	*state = u;
	return 0;
}

static void uart_fini(void *state)
{
	free(state);
}

/* Snapshot: the registers and the receive FIFO (core/vmm/snap.h). */
struct uart_snap {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, thri_pending;
	uint8_t rx_head, rx_count, pad[6];
	uint8_t rx[UART_RX_FIFO];
};
static_assert(sizeof(struct uart_snap) == 16 + UART_RX_FIFO, "on-wire");

static int uart_save(void *state, struct snap_buf *b)
{
	struct uart *u = state;
	struct uart_snap s;

	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&u->lock);
	s = (struct uart_snap){ .ier = u->ier, .lcr = u->lcr, .mcr = u->mcr, .scr = u->scr,
		.fcr = u->fcr, .dll = u->dll, .dlm = u->dlm,
		.thri_pending = (uint8_t)!!u->thri_pending,
		.rx_head = (uint8_t)u->rx_head, .rx_count = (uint8_t)u->rx_count };
	memcpy(s.rx, u->rx, sizeof(s.rx));
	pthread_mutex_unlock(&u->lock);
	b->len = 0;
	return snap_buf_put(b, &s, sizeof(s));
}

static int uart_restore(void *state, const uint8_t *p, size_t len)
{
	struct uart *u = state;
	struct uart_snap s;

	if (len != sizeof(s))
		return -EBADMSG;
	memcpy(&s, p, sizeof(s));
	if (s.rx_head >= UART_RX_FIFO || s.rx_count > UART_RX_FIFO || s.thri_pending > 1)
		return -EBADMSG;
	if (!u)
		return 0;
	pthread_mutex_lock(&u->lock);
	u->ier = s.ier;
	u->lcr = s.lcr;
	u->mcr = s.mcr;
	u->scr = s.scr;
	u->fcr = s.fcr;
	u->dll = s.dll;
	u->dlm = s.dlm;
	u->thri_pending = s.thri_pending;
	u->rx_head = s.rx_head;
	u->rx_count = s.rx_count;
	memcpy(u->rx, s.rx, sizeof(u->rx));
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

const struct vm_device dev_uart = { "uart", uart_init, uart_fini, uart_save, uart_restore };
