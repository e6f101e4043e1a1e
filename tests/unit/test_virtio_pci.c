/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/virtio_pci: the transport driven the way a guest drives it, through
 * its config-space and BAR ops, with a small test device behind it, its real
 * I/O thread, and eventfds in place of KVM (virtio_irq with no VM): a test
 * reads an irqfd to see an interrupt.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/util.h"
#include "core/vmm/virtio_pci_priv.h"
#include "tests/unit/virtio_echo.h"

#define RAM_SIZE  0x100000ULL
#define BAR       0xC0000000ULL
#define DESC_GPA  0x1000ULL
#define AVAIL_GPA 0x2000ULL
#define USED_GPA  0x3000ULL
#define DATA_GPA  0x8000ULL
#define QSIZE     16

/* The VMM's confinement hook (core/vmm/sandbox_hooks.c in bulwark-vmm; its
 * filters are tested in test_seccomp and the lab): here it counts that every
 * I/O thread asks for its filter before it touches a queue. */
static int io_confined;

int vmm_thread_confine(struct vm *vm, enum vmm_role role)
{
	(void)vm;
	if (role == VMM_ROLE_IO)
		__atomic_add_fetch(&io_confined, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_state why)
{
	(void)vm;
	(void)why;
}

static void echo_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	static const uint8_t cfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)dev;
	memcpy(data, cfg + off, len);
}

static const struct virtio_device_ops echo_ops = {
	.name = "echo", .device_id = 4, .pci_class = 0xff00, .num_queues = 1,
	.queue_max = QSIZE, .config_size = 8, .features = echo_features,
	.config_read = echo_config_read, .queue_process = echo_process,
};

struct t {
	uint8_t *ram;
	struct gmem m;
	struct virtio_irq *irq;
	struct virtio_pci *vp;
	struct virtq_chain chain;
};

static uint32_t cfg_rd(struct t *t, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	virtio_pci_cfg_ops.cfg_read(t->vp, off, (uint8_t *)&v, len);
	return v;
}

static void cfg_wr(struct t *t, uint32_t off, uint32_t v, uint32_t len)
{
	virtio_pci_cfg_ops.cfg_write(t->vp, off, (const uint8_t *)&v, len);
}

static uint64_t bar_rd(struct t *t, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	virtio_pci_bar_ops.read(t->vp, off, (uint8_t *)&v, len);
	return v;
}

static void bar_wr(struct t *t, uint64_t off, uint64_t v, uint32_t len)
{
	virtio_pci_bar_ops.write(t->vp, off, (const uint8_t *)&v, len);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->ram = calloc(1, RAM_SIZE);
	assert_non_null(t->ram);
	t->m = (struct gmem){ t->ram, RAM_SIZE, 0, NULL };
	assert_int_equal(virtio_irq_create(-1, &t->irq), 0);
	assert_int_equal(virtio_pci_create(NULL, t->irq, &t->m, &echo_ops, &t->chain, BAR,
					   &t->vp), 0);
	assert_int_equal(virtio_pci_start(t->vp), 0);
	cfg_wr(t, 0x04, 0x0006, 2);     /* memory space + bus master */
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	t->vp->dev = NULL;              /* the chain buffer is not the device's */
	virtio_pci_destroy(t->vp);
	virtio_irq_destroy(t->irq);
	free(t->ram);
	free(t);
	return 0;
}

/* Find the vendor capability of TYPE; returns its config-space offset. */
static uint32_t find_cap(struct t *t, uint8_t type)
{
	uint32_t at = cfg_rd(t, 0x34, 1);

	for (int n = 0; at && n < 16; n++, at = cfg_rd(t, at + 1, 1))
		if (cfg_rd(t, at, 1) == 0x09 && cfg_rd(t, at + 3, 1) == type)
			return at;
	return 0;
}

static void test_config_space(void **state)
{
	struct t *t = *state;
	uint32_t c;

	assert_int_equal(cfg_rd(t, 0, 4), 0x1044u << 16 | 0x1af4);
	assert_int_equal(cfg_rd(t, 0x06, 2) & 0x10, 0x10);       /* capability list */
	assert_int_equal(cfg_rd(t, 0x3d, 1), 0);                 /* no INTx */
	assert_int_equal(cfg_rd(t, 0x40, 1), 0x11);              /* MSI-X first */
	assert_int_equal(cfg_rd(t, 0x42, 2) & 0x7ff, 1);         /* two vectors */
	c = find_cap(t, VIRTIO_PCI_CAP_COMMON_CFG);
	assert_int_not_equal(c, 0);
	assert_int_equal(cfg_rd(t, c + 8, 4), VP_COMMON_OFF);
	assert_int_equal(cfg_rd(t, c + 12, 4), 56);
	c = find_cap(t, VIRTIO_PCI_CAP_NOTIFY_CFG);
	assert_int_equal(cfg_rd(t, c + 8, 4), VP_NOTIFY_OFF);
	assert_int_equal(cfg_rd(t, c + 16, 4), VP_NOTIFY_MULT);
	assert_int_not_equal(find_cap(t, VIRTIO_PCI_CAP_ISR_CFG), 0);
	c = find_cap(t, VIRTIO_PCI_CAP_DEVICE_CFG);
	assert_int_equal(cfg_rd(t, c + 12, 4), 8);
	assert_int_equal(cfg_rd(t, 0x100, 4), 0);                /* no extended caps */
	/* Read-only fields stay. */
	cfg_wr(t, 0, 0x12345678, 4);
	assert_int_equal(cfg_rd(t, 0, 2), 0x1af4);
}

static void test_bar_sizing(void **state)
{
	struct t *t = *state;

	assert_int_equal(cfg_rd(t, 0x10, 4), (uint32_t)BAR);
	cfg_wr(t, 0x04, 0, 2);                          /* decoding off, as Linux does */
	assert_int_equal(bar_rd(t, 0x12, 2), 0xffff);   /* absent while off */
	cfg_wr(t, 0x10, 0xffffffff, 4);
	assert_int_equal(cfg_rd(t, 0x10, 4), ~(VIRTIO_PCI_BAR_SIZE - 1));
	cfg_wr(t, 0x10, (uint32_t)BAR, 4);
	cfg_wr(t, 0x04, 0x0006, 2);
	assert_int_equal(bar_rd(t, 0x12, 2), 1);        /* num_queues */
	/* Moved elsewhere: the device no longer answers at its address. */
	cfg_wr(t, 0x10, 0xd0000000, 4);
	assert_int_equal(bar_rd(t, 0x12, 2), 0xffff);
	cfg_wr(t, 0x10, (uint32_t)BAR, 4);
}

static void test_features(void **state)
{
	struct t *t = *state;

	bar_wr(t, 0x00, 0, 4);
	assert_int_equal(bar_rd(t, 0x04, 4), (uint32_t)ECHO_FEATURES);
	bar_wr(t, 0x00, 1, 4);
	assert_int_equal(bar_rd(t, 0x04, 4), 1);        /* VERSION_1 */
	bar_wr(t, 0x00, 7, 4);
	assert_int_equal(bar_rd(t, 0x04, 4), 0);
	/* Asking for a feature not offered: FEATURES_OK does not stick. */
	bar_wr(t, 0x08, 1, 4);
	bar_wr(t, 0x0c, 1, 4);
	bar_wr(t, 0x08, 0, 4);
	bar_wr(t, 0x0c, 1u << 6, 4);
	bar_wr(t, 0x14, 1 | 2 | 8, 1);
	assert_int_equal(bar_rd(t, 0x14, 1), 1 | 2);
	/* Without VERSION_1 neither. */
	bar_wr(t, 0x14, 0, 1);
	bar_wr(t, 0x08, 0, 4);
	bar_wr(t, 0x0c, (uint32_t)ECHO_FEATURES, 4);
	bar_wr(t, 0x14, 1 | 2 | 8, 1);
	assert_int_equal(bar_rd(t, 0x14, 1), 1 | 2);
	/* Device config window, bounded by its size. */
	assert_int_equal(bar_rd(t, VP_DEVCFG_OFF + 4, 4), 0x08070605);
	assert_int_equal(bar_rd(t, VP_DEVCFG_OFF + 6, 4), 0);
}

/* MSI-X on, vector V pointed at the LAPIC (or ADDR) and unmasked. */
static void msix_setup(struct t *t, uint16_t v, uint32_t addr)
{
	cfg_wr(t, 0x42, 0x8000 | 1, 2);
	bar_wr(t, VP_MSIX_OFF + 16 * v, addr, 4);
	bar_wr(t, VP_MSIX_OFF + 16 * v + 4, 0, 4);
	bar_wr(t, VP_MSIX_OFF + 16 * v + 8, 0x41 + v, 4);
	bar_wr(t, VP_MSIX_OFF + 16 * v + 12, 0, 4);
}

/* Driver bring-up to DRIVER_OK with queue 0 at the test rings, vector 1. */
static void bring_up(struct t *t, uint16_t qsize)
{
	bar_wr(t, 0x14, 1 | 2, 1);
	bar_wr(t, 0x08, 1, 4);
	bar_wr(t, 0x0c, 1, 4);
	bar_wr(t, 0x14, 1 | 2 | 8, 1);
	assert_int_equal(bar_rd(t, 0x14, 1), 1 | 2 | 8);
	bar_wr(t, 0x10, 0, 2);                  /* config vector 0 */
	bar_wr(t, 0x16, 0, 2);
	assert_int_equal(bar_rd(t, 0x18, 2), QSIZE);
	bar_wr(t, 0x18, qsize, 2);
	bar_wr(t, 0x1a, 1, 2);
	bar_wr(t, 0x20, DESC_GPA, 8);
	bar_wr(t, 0x28, AVAIL_GPA, 4);          /* 32-bit halves work too */
	bar_wr(t, 0x2c, 0, 4);
	bar_wr(t, 0x30, USED_GPA, 8);
	bar_wr(t, 0x1c, 1, 2);
}

static void offer_chain(struct t *t, uint16_t head, uint64_t addr, uint16_t flags,
			uint16_t next)
{
	struct virtq_desc *d = (struct virtq_desc *)(void *)(t->ram + DESC_GPA);
	struct virtq_avail *a = (struct virtq_avail *)(void *)(t->ram + AVAIL_GPA);

	d[head] = (struct virtq_desc){ addr, 1, flags, next };
	a->ring[a->idx % QSIZE] = head;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
}

/* Wait (bounded) for an interrupt on vector V; 1 if it came. */
static int irq_seen(struct t *t, uint16_t v, int ms)
{
	struct pollfd p = { .fd = t->vp->irqfd[v], .events = POLLIN };
	uint64_t n;

	if (poll(&p, 1, ms) != 1)
		return 0;
	return read(p.fd, &n, sizeof(n)) == sizeof(n);
}

static void test_queue_roundtrip(void **state)
{
	struct t *t = *state;
	struct virtq_used *u = (struct virtq_used *)(void *)(t->ram + USED_GPA);

	msix_setup(t, 1, 0xfee00000);
	bring_up(t, QSIZE);
	assert_int_equal(bar_rd(t, 0x1c, 2), 1);
	bar_wr(t, 0x14, 1 | 2 | 8 | 4, 1);
	offer_chain(t, 3, DATA_GPA, VIRTQ_DESC_F_WRITE, 0);
	bar_wr(t, VP_NOTIFY_OFF, 0, 2);
	assert_true(irq_seen(t, 1, 5000));
	assert_true(__atomic_load_n(&io_confined, __ATOMIC_SEQ_CST) > 0);
	assert_int_equal(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(u->ring[0].id, 3);
	assert_int_equal(t->ram[DATA_GPA], 'Z');
	assert_int_equal(bar_rd(t, 0x14, 1) & 0x40, 0);
}

static void test_frozen_after_driver_ok(void **state)
{
	struct t *t = *state;

	bring_up(t, 8);
	bar_wr(t, 0x14, 1 | 2 | 8 | 4, 1);
	bar_wr(t, 0x18, 256, 2);
	bar_wr(t, 0x20, 0xdead0000, 8);
	assert_int_equal(bar_rd(t, 0x18, 2), 8);
	assert_int_equal(bar_rd(t, 0x20, 8), DESC_GPA);
	assert_int_equal(t->vp->vq[0].q.num, 8);
	/* Features cannot change after FEATURES_OK either. */
	bar_wr(t, 0x08, 0, 4);
	bar_wr(t, 0x0c, 0xffffffff, 4);
	assert_int_equal(bar_rd(t, 0x0c, 4), 0);
}

static void test_bad_queue_needs_reset(void **state)
{
	struct t *t = *state;

	bring_up(t, 12);                        /* not a power of two */
	assert_int_equal(bar_rd(t, 0x1c, 2), 0);
	assert_int_equal(bar_rd(t, 0x14, 1) & 0x40, 0x40);
	/* A reset clears it and the device works again. */
	bar_wr(t, 0x14, 0, 1);
	assert_int_equal(bar_rd(t, 0x14, 1), 0);
	bring_up(t, QSIZE);
	assert_int_equal(bar_rd(t, 0x1c, 2), 1);
	assert_int_equal(bar_rd(t, 0x14, 1) & 0x40, 0);
}

static void test_hostile_ring_needs_reset(void **state)
{
	struct t *t = *state;
	struct virtq_used *u = (struct virtq_used *)(void *)(t->ram + USED_GPA);

	msix_setup(t, 0, 0xfee00000);
	bring_up(t, QSIZE);
	bar_wr(t, 0x14, 1 | 2 | 8 | 4, 1);
	offer_chain(t, 2, DATA_GPA, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);  /* loop */
	bar_wr(t, VP_NOTIFY_OFF, 0, 2);
	assert_true(irq_seen(t, 0, 5000));      /* the config-change interrupt */
	assert_int_equal(bar_rd(t, 0x14, 1) & 0x40, 0x40);
	assert_int_equal(bar_rd(t, VP_ISR_OFF, 1) & VP_ISR_CONFIG, VP_ISR_CONFIG);
	assert_int_equal(bar_rd(t, VP_ISR_OFF, 1), 0);  /* read to clear */
	assert_int_equal(u->idx, 0);
}

static void test_vectors(void **state)
{
	struct t *t = *state;

	bar_wr(t, 0x10, 2, 2);                  /* only vectors 0 and 1 exist */
	assert_int_equal(bar_rd(t, 0x10, 2), VP_NO_VECTOR);
	bar_wr(t, 0x16, 0, 2);
	bar_wr(t, 0x1a, 0x7fff, 2);
	assert_int_equal(bar_rd(t, 0x1a, 2), VP_NO_VECTOR);
	bar_wr(t, 0x1a, 1, 2);
	assert_int_equal(bar_rd(t, 0x1a, 2), 1);
	/* Table writes past the table and PBA writes are dropped. */
	bar_wr(t, VP_MSIX_OFF + 32, 0x1234, 4);
	assert_int_equal(bar_rd(t, VP_MSIX_OFF + 32, 4), 0);
	bar_wr(t, VP_PBA_OFF, 3, 8);
	assert_int_equal(bar_rd(t, VP_PBA_OFF, 8), 0);
	/* Misaligned and odd-width common config writes change nothing. */
	bar_wr(t, 0x16, 0x0100, 4);
	bar_wr(t, 0x17, 1, 1);
	assert_int_equal(bar_rd(t, 0x16, 2), 0);
}

static void test_masked_vector_pends(void **state)
{
	struct t *t = *state;

	msix_setup(t, 1, 0xfee00000);
	bar_wr(t, VP_MSIX_OFF + 16 + 12, 1, 4);         /* mask vector 1 */
	vp_fire(t->vp, 1, VP_ISR_QUEUE);
	assert_false(irq_seen(t, 1, 0));
	assert_int_equal(bar_rd(t, VP_PBA_OFF, 4), 2);
	bar_wr(t, VP_MSIX_OFF + 16 + 12, 0, 4);         /* unmask: delivered now */
	assert_true(irq_seen(t, 1, 0));
	assert_int_equal(bar_rd(t, VP_PBA_OFF, 4), 0);
	/* Function mask, same story. */
	cfg_wr(t, 0x42, 0xc000, 2);
	vp_fire(t->vp, 1, VP_ISR_QUEUE);
	assert_false(irq_seen(t, 1, 0));
	cfg_wr(t, 0x42, 0x8000, 2);
	assert_true(irq_seen(t, 1, 0));
	/* MSI-X off: nothing is delivered (there is no INTx). */
	cfg_wr(t, 0x42, 0, 2);
	vp_fire(t->vp, 1, VP_ISR_QUEUE);
	assert_false(irq_seen(t, 1, 0));
}

static void test_bad_msi_address(void **state)
{
	struct t *t = *state;

	msix_setup(t, 1, 0xdead0000);           /* not the LAPIC window */
	vp_fire(t->vp, 1, VP_ISR_QUEUE);
	assert_false(irq_seen(t, 1, 0));
	assert_int_equal(bar_rd(t, VP_PBA_OFF, 4), 2);
	/* Fixed by the driver: the pending interrupt goes out. */
	bar_wr(t, VP_MSIX_OFF + 16 + 12, 1, 4);
	bar_wr(t, VP_MSIX_OFF + 16, 0xfee01000, 4);
	bar_wr(t, VP_MSIX_OFF + 16 + 12, 0, 4);
	assert_true(irq_seen(t, 1, 0));
}

/* A first chain through, so DRIVER_OK's own wake of the I/O thread is done
 * before a test counts what happens next. */
static void first_roundtrip(struct t *t)
{
	struct virtq_used *u = (struct virtq_used *)(void *)(t->ram + USED_GPA);

	msix_setup(t, 1, 0xfee00000);
	bring_up(t, QSIZE);
	bar_wr(t, 0x14, 1 | 2 | 8 | 4, 1);
	offer_chain(t, 3, DATA_GPA, VIRTQ_DESC_F_WRITE, 0);
	bar_wr(t, VP_NOTIFY_OFF, 0, 2);
	assert_true(irq_seen(t, 1, 5000));
	assert_int_equal(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 1);
}

/* KVM's ioeventfd on the notify address fires whatever the command register
 * says: a test writes the eventfd as KVM would. */
static void kvm_notify(struct t *t, uint16_t qi)
{
	uint64_t one = 1;

	assert_int_equal(write(t->vp->vq[qi].kick_fd, &one, sizeof(one)), sizeof(one));
}

static void test_kick_with_memory_space_off(void **state)
{
	struct t *t = *state;
	struct virtq_used *u = (struct virtq_used *)(void *)(t->ram + USED_GPA);

	first_roundtrip(t);
	cfg_wr(t, 0x04, 0x0004, 2);             /* memory space off, bus master on */
	offer_chain(t, 4, DATA_GPA + 1, VIRTQ_DESC_F_WRITE, 0);
	kvm_notify(t, 0);
	bar_wr(t, VP_NOTIFY_OFF, 0, 2);         /* the MMIO exit path: not decoded */
	assert_false(irq_seen(t, 1, 300));
	assert_int_equal(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(t->ram[DATA_GPA + 1], 0);
	/* Back on: the kick made while it was off stays lost, as on hardware. */
	cfg_wr(t, 0x04, 0x0006, 2);
	assert_false(irq_seen(t, 1, 300));
	assert_int_equal(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(t->ram[DATA_GPA + 1], 0);
	/* A kick now is acted on. */
	kvm_notify(t, 0);
	assert_true(irq_seen(t, 1, 5000));
	assert_int_equal(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 2);
	assert_int_equal(t->ram[DATA_GPA + 1], 'Z');
}

static void test_no_dma_with_bus_master_off(void **state)
{
	struct t *t = *state;
	struct virtq_used *u = (struct virtq_used *)(void *)(t->ram + USED_GPA);
	uint8_t *snap = malloc(RAM_SIZE);

	assert_non_null(snap);
	first_roundtrip(t);
	cfg_wr(t, 0x04, 0x0002, 2);             /* bus master off, memory space on */
	offer_chain(t, 4, DATA_GPA + 1, VIRTQ_DESC_F_WRITE, 0);
	memcpy(snap, t->ram, RAM_SIZE);
	bar_wr(t, VP_NOTIFY_OFF, 0, 2);         /* taken: memory space is on */
	kvm_notify(t, 0);
	vp_fire(t->vp, 1, VP_ISR_QUEUE);        /* an MSI is a write: it pends */
	assert_false(irq_seen(t, 1, 300));
	assert_memory_equal(t->ram, snap, RAM_SIZE);    /* not a byte touched */
	assert_int_equal(bar_rd(t, VP_PBA_OFF, 4), 2);
	/* Bus master on: the queued chain is done and the vector goes out. */
	cfg_wr(t, 0x04, 0x0006, 2);
	assert_true(irq_seen(t, 1, 5000));
	for (int i = 0; i < 500 && __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != 2; i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 2);
	assert_int_equal(u->ring[1].id, 4);
	assert_int_equal(t->ram[DATA_GPA + 1], 'Z');
	assert_int_equal(bar_rd(t, VP_PBA_OFF, 4), 0);
	free(snap);
}

static void test_reset_drops_work_queued_without_bus_master(void **state)
{
	struct t *t = *state;
	uint8_t *snap = malloc(RAM_SIZE);

	assert_non_null(snap);
	first_roundtrip(t);
	cfg_wr(t, 0x04, 0x0002, 2);
	offer_chain(t, 4, DATA_GPA + 1, VIRTQ_DESC_F_WRITE, 0);
	bar_wr(t, VP_NOTIFY_OFF, 0, 2);
	memcpy(snap, t->ram, RAM_SIZE);
	bar_wr(t, 0x14, 0, 1);                  /* device reset */
	assert_int_equal(bar_rd(t, 0x14, 1), 0);
	cfg_wr(t, 0x04, 0x0006, 2);
	assert_false(irq_seen(t, 1, 300));
	assert_memory_equal(t->ram, snap, RAM_SIZE);
	free(snap);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_config_space),
		T(test_bar_sizing),
		T(test_features),
		T(test_queue_roundtrip),
		T(test_frozen_after_driver_ok),
		T(test_bad_queue_needs_reset),
		T(test_hostile_ring_needs_reset),
		T(test_vectors),
		T(test_masked_vector_pends),
		T(test_bad_msi_address),
		T(test_kick_with_memory_space_off),
		T(test_no_dma_with_bus_master_off),
		T(test_reset_drops_work_queued_without_bus_master),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
