/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio-pci device's snapshot record (core/vmm/virtio_pci_snap.c): a
 * device driven as a guest drives it (features, queue, MSI-X, one request
 * served) is saved, a NEW device restores the record and serves the next
 * request on the same rings with the same vector; and records changed the
 * way a hostile stream would are refused (features not offered, queue
 * size, vector, rings outside RAM, device type, length).  Real transport,
 * real I/O threads, eventfds in place of KVM (as test_virtio_pci).
 */
#include <errno.h>
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
#include "core/vmm/snap.h"
#include "core/vmm/virtio_pci_priv.h"
#include "tests/unit/virtio_echo.h"
#include "core/vmm/virtio_setup.h"

#define RAM_SIZE  0x100000ULL
#define BAR       0xC0000000ULL
#define DESC_GPA  0x1000ULL
#define AVAIL_GPA 0x2000ULL
#define USED_GPA  0x3000ULL
#define DATA_GPA  0x8000ULL
#define QSIZE     16

/* Offsets in the record (struct vp_snap, virtio_pci_snap.c). */
#define R_DEVICE_ID  4
#define R_FEATURES   16
#define R_Q0_DESC    352
#define R_Q0_SIZE    376
#define R_Q0_VECTOR  378

int vmm_thread_confine(struct vm *vm, enum vmm_role role)
{
	(void)vm;
	(void)role;
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_state why)
{
	(void)vm;
	(void)why;
}

static const struct virtio_device_ops echo_ops = {
	.name = "echo", .device_id = 4, .pci_class = 0xff00, .num_queues = 1,
	.queue_max = QSIZE, .features = echo_features, .queue_process = echo_process,
};

static uint8_t *ram;
static struct gmem mem;
static struct virtio_irq *irq;
static struct virtq_chain chain_a, chain_b;
static struct virtio_pci *a, *b;
static struct snap_buf rec = { .max = SNAP_DEV_MAX };

static void cfg_wr(struct virtio_pci *vp, uint32_t off, uint32_t v, uint32_t len)
{
	virtio_pci_cfg_ops.cfg_write(vp, off, (const uint8_t *)&v, len);
}

static void bar_wr(struct virtio_pci *vp, uint64_t off, uint64_t v, uint32_t len)
{
	virtio_pci_bar_ops.write(vp, off, (const uint8_t *)&v, len);
}

static uint64_t bar_rd(struct virtio_pci *vp, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	virtio_pci_bar_ops.read(vp, off, (uint8_t *)&v, len);
	return v;
}

static void offer(uint16_t head)
{
	struct virtq_desc *d = (struct virtq_desc *)(void *)(ram + DESC_GPA);
	struct virtq_avail *av = (struct virtq_avail *)(void *)(ram + AVAIL_GPA);

	d[head] = (struct virtq_desc){ DATA_GPA + head, 1, VIRTQ_DESC_F_WRITE, 0 };
	av->ring[av->idx % QSIZE] = head;
	__atomic_store_n(&av->idx, (uint16_t)(av->idx + 1), __ATOMIC_RELEASE);
}

static int irq_seen(struct virtio_pci *vp, uint16_t v)
{
	struct pollfd p = { .fd = vp->irqfd[v], .events = POLLIN };
	uint64_t n;

	return poll(&p, 1, 5000) == 1 && read(p.fd, &n, sizeof(n)) == sizeof(n);
}

/* A: a guest's bring-up (features, queue 0, MSI-X vector 1, DRIVER_OK)
 * and one request served; then its record is saved. */
static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	mem = (struct gmem){ ram, RAM_SIZE, 0, NULL };
	assert_int_equal(virtio_irq_create(-1, &irq), 0);
	assert_int_equal(virtio_pci_create(NULL, irq, &mem, &echo_ops, &chain_a, BAR, &a), 0);
	/* B: the same device in a new VMM, at the same BAR (the configuration
	 * places devices alike at every start). */
	assert_int_equal(virtio_pci_create(NULL, irq, &mem, &echo_ops, &chain_b, BAR, &b), 0);
	assert_int_equal(virtio_pci_start(a), 0);
	cfg_wr(a, 0x04, 0x0006, 2);
	cfg_wr(a, 0x42, 0x8000 | 1, 2);
	bar_wr(a, VP_MSIX_OFF + 16, 0xfee00000, 4);
	bar_wr(a, VP_MSIX_OFF + 16 + 8, 0x42, 4);
	bar_wr(a, VP_MSIX_OFF + 16 + 12, 0, 4);
	bar_wr(a, 0x14, 1 | 2, 1);
	bar_wr(a, 0x08, 1, 4);
	bar_wr(a, 0x0c, 1, 4);                  /* VERSION_1 */
	bar_wr(a, 0x14, 1 | 2 | 8, 1);
	bar_wr(a, 0x18, QSIZE, 2);
	bar_wr(a, 0x1a, 1, 2);
	bar_wr(a, 0x20, DESC_GPA, 8);
	bar_wr(a, 0x28, AVAIL_GPA, 8);
	bar_wr(a, 0x30, USED_GPA, 8);
	bar_wr(a, 0x1c, 1, 2);
	bar_wr(a, 0x14, 1 | 2 | 8 | 4, 1);
	offer(3);
	bar_wr(a, VP_NOTIFY_OFF, 0, 2);
	assert_true(irq_seen(a, 1));
	assert_int_equal(virtio_pci_pause(a), 0);
	while (!virtio_pci_parked(a))
		usleep(1000);
	assert_int_equal(virtio_pci_snap_save(a, &rec), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* A is destroyed still parked: resumed, its thread would rescan the
	 * rings it shares with B and serve B's requests a second time. */
	virtio_pci_destroy(a);
	virtio_pci_destroy(b);
	virtio_irq_destroy(irq);
	snap_buf_free(&rec);
	rec.max = SNAP_DEV_MAX;
	free(ram);
	return 0;
}

static void test_restore_carries_on(void **state)
{
	struct virtq_used *u = (struct virtq_used *)(void *)(ram + USED_GPA);

	(void)state;
	assert_int_equal(u->idx, 1);
	assert_int_equal(virtio_pci_snap_restore(b, 9, rec.p, rec.len), 0);
	assert_int_equal(bar_rd(b, 0x14, 1), 1 | 2 | 4 | 8);
	assert_true(b->vq[0].enabled);
	assert_int_equal(b->vq[0].q.last_avail, 1);
	assert_int_equal(b->vq[0].q.used_idx, 1);
	assert_int_equal(b->vq[0].vector, 1);
	assert_int_equal(b->driver_features, a->driver_features);
	assert_int_equal(b->table[1].data, 0x42);
	assert_int_equal(b->msix_ctrl, 0x8000);
	assert_true(b->route_ok[1]);
	/* B serves the next request, on A's rings, through A's vector. */
	assert_int_equal(virtio_pci_start(b), 0);
	offer(4);
	bar_wr(b, VP_NOTIFY_OFF, 0, 2);
	assert_true(irq_seen(b, 1));
	assert_int_equal(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 2);
	assert_int_equal(u->ring[1].id, 4);
	assert_int_equal(ram[DATA_GPA + 4], 'Z');
}

static void refused(size_t off, const void *v, size_t n)
{
	uint8_t *copy = malloc(rec.len);

	memcpy(copy, rec.p, rec.len);
	memcpy(copy + off, v, n);
	assert_int_equal(virtio_pci_snap_restore(b, 9, copy, rec.len), -EBADMSG);
	free(copy);
}

static void test_refused(void **state)
{
	(void)state;
	refused(R_FEATURES, &(uint64_t){ (1ULL << 32) | (1ULL << 6) }, 8);  /* not offered */
	refused(R_Q0_SIZE, &(uint16_t){ 12 }, 2);                          /* not 2^n */
	refused(R_Q0_SIZE, &(uint16_t){ 2 * QSIZE }, 2);                   /* over max */
	refused(R_Q0_VECTOR, &(uint16_t){ 7 }, 2);                         /* no vector 7 */
	refused(R_Q0_DESC, &(uint64_t){ RAM_SIZE - 16 }, 8);               /* past RAM */
	refused(R_DEVICE_ID, &(uint16_t){ 2 }, 2);                         /* a disk's */
	assert_int_equal(virtio_pci_snap_restore(b, 9, rec.p, rec.len - 1), -EBADMSG);
	assert_int_equal(virtio_pci_snap_check(&echo_ops, 9, rec.p, rec.len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restore_carries_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
