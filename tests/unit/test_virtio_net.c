/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/virtio_net: the --net option, and frames both ways between rings in a
 * fake guest memory and a SOCK_SEQPACKET socket standing in for the tap
 * (both keep frame boundaries).
 */
#include <errno.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/util.h"
#include "core/devopts.h"
#include "core/vmm/virtio_net.h"

#define RAM_SIZE  0x40000ULL
#define QSIZE     8
#define RX 0
#define TX 1

struct t {
	uint8_t *ram;
	struct gmem m;
	int peer;               /* the host side of the "tap" */
	void *dev;
	struct virtq q[2];
};

/* Queue QI's rings live at 0x1000 + 0x4000 * QI. */
static uint64_t ring(int qi, uint64_t part)
{
	return 0x1000ULL + 0x4000ULL * (uint64_t)qi + part;
}

static struct virtq_desc *desc(struct t *t, int qi)
{
	return (struct virtq_desc *)(void *)(t->ram + ring(qi, 0));
}

static struct virtq_avail *avail(struct t *t, int qi)
{
	return (struct virtq_avail *)(void *)(t->ram + ring(qi, 0x1000));
}

static struct virtq_used *used(struct t *t, int qi)
{
	return (struct virtq_used *)(void *)(t->ram + ring(qi, 0x2000));
}

static void offer(struct t *t, int qi, uint16_t head)
{
	struct virtq_avail *a = avail(t, qi);

	a->ring[a->idx % QSIZE] = head;
	a->idx++;
}

static int setup(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	struct t *t = calloc(1, sizeof(*t));
	int sv[2];

	assert_non_null(t);
	t->ram = calloc(1, RAM_SIZE);
	assert_non_null(t->ram);
	t->m = (struct gmem){ t->ram, RAM_SIZE, 0, NULL };
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	t->peer = sv[1];
	assert_int_equal(virtio_net_create(sv[0], mac, &t->dev), 0);
	for (int qi = 0; qi < 2; qi++) {
		virtq_init(&t->q[qi], QSIZE, qi ? "net.tx" : "net.rx");
		t->q[qi].desc_gpa = ring(qi, 0);
		t->q[qi].avail_gpa = ring(qi, 0x1000);
		t->q[qi].used_gpa = ring(qi, 0x2000);
		assert_int_equal(virtq_activate(&t->q[qi], &t->m), 0);
	}
	virtio_net_ops.activate(t->dev, virtio_net_ops.features(t->dev));
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	virtio_net_ops.destroy(t->dev);
	close(t->peer);
	free(t->ram);
	free(t);
	return 0;
}

static int process(struct t *t, int qi)
{
	return virtio_net_ops.queue_process(t->dev, (uint16_t)qi, &t->q[qi], &t->m);
}

static void test_parse_opts(void **state)
{
	struct net_opts o;

	(void)state;
	assert_int_equal(devopts_net_parse("tap=tap0", &o, "--net"), 0);
	assert_string_equal(o.tap, "tap0");
	assert_int_equal(o.mac[0], 0x52);
	assert_int_equal(o.mac[1], 0x54);
	assert_int_equal(o.mac[2], 0x00);
	assert_int_equal(devopts_net_parse("tap=t1,mac=02:00:00:ab:cd:ef", &o, "--net"), 0);
	assert_memory_equal(o.mac, "\x02\x00\x00\xab\xcd\xef", 6);
	assert_int_equal(devopts_net_parse("tap=t1,mac=01:00:00:ab:cd:ef", &o, "--net"),
			 -EINVAL);       /* multicast */
	assert_int_equal(devopts_net_parse("tap=t1,mac=02:00:00:ab:cd", &o, "--net"),
			 -EINVAL);
	assert_int_equal(devopts_net_parse("tap=t1,mac=02:00:00:ab:cd:efx", &o, "--net"),
			 -EINVAL);
	assert_int_equal(devopts_net_parse("tap=0123456789abcdef", &o, "--net"), -EINVAL);
	assert_int_equal(devopts_net_parse("tap=", &o, "--net"), -EINVAL);
	assert_int_equal(devopts_net_parse("eth0", &o, "--net"), -EINVAL);
	assert_int_equal(devopts_net_parse("tap=t1,ro", &o, "--net"), -EINVAL);
}

static void test_features_no_offloads(void **state)
{
	struct t *t = *state;
	uint64_t f = virtio_net_ops.features(t->dev);
	uint8_t cfg[12];

	assert_true(f & (1ULL << VIRTIO_NET_F_MAC));
	assert_false(f & ((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
			  (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
			  (1ULL << VIRTIO_NET_F_MRG_RXBUF)));
	virtio_net_ops.config_read(t->dev, 0, cfg, sizeof(cfg));
	assert_memory_equal(cfg, "\x52\x54\x00\x01\x02\x03", 6);
	assert_int_equal(cfg[6], VIRTIO_NET_S_LINK_UP);
}

static void test_tx(void **state)
{
	struct t *t = *state;
	uint8_t got[256];

	memset(t->ram + 0x20000, 0x77, 12);                     /* guest header */
	for (int i = 0; i < 60; i++)
		t->ram[0x20100 + i] = (uint8_t)i;
	desc(t, TX)[0] = (struct virtq_desc){ 0x20000, 12, VIRTQ_DESC_F_NEXT, 1 };
	desc(t, TX)[1] = (struct virtq_desc){ 0x20100, 60, 0, 0 };
	offer(t, TX, 0);
	assert_int_equal(process(t, TX), 1);
	assert_int_equal(recv(t->peer, got, sizeof(got), MSG_DONTWAIT), 60);
	assert_memory_equal(got, t->ram + 0x20100, 60);
	assert_int_equal(used(t, TX)->idx, 1);
	/* A runt frame is dropped, its buffer still returned. */
	desc(t, TX)[2] = (struct virtq_desc){ 0x20000, 12 + 13, 0, 0 };
	offer(t, TX, 2);
	assert_int_equal(process(t, TX), 1);
	assert_int_equal(recv(t->peer, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(used(t, TX)->idx, 2);
	/* No room for the header at all: the queue is broken. */
	desc(t, TX)[3] = (struct virtq_desc){ 0x20000, 11, 0, 0 };
	offer(t, TX, 3);
	assert_int_equal(process(t, TX), -EINVAL);
	assert_true(t->q[TX].broken);
}

static void test_rx(void **state)
{
	struct t *t = *state;
	uint8_t frame[100];
	short ev;

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(0xc0 ^ i);
	desc(t, RX)[0] = (struct virtq_desc){ 0x30000, 1526, VIRTQ_DESC_F_WRITE, 0 };
	offer(t, RX, 0);
	/* Nothing on the tap: the buffer stays with the device, unused. */
	assert_int_equal(process(t, RX), 0);
	assert_int_equal(used(t, RX)->idx, 0);
	assert_int_equal(t->q[RX].last_avail, 0);
	assert_int_equal(send(t->peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	memset(t->ram + 0x30000, 0xee, 12);
	assert_int_equal(process(t, RX), 1);
	assert_int_equal(used(t, RX)->idx, 1);
	assert_int_equal(used(t, RX)->ring[0].len, 12 + sizeof(frame));
	assert_memory_equal(t->ram + 0x30000, "\0\0\0\0\0\0\0\0\0\0\1\0", 12);
	assert_memory_equal(t->ram + 0x30000 + 12, frame, sizeof(frame));
	/* Frames waiting but no buffers: stop polling the tap until a kick. */
	assert_int_equal(send(t->peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_int_equal(process(t, RX), 0);
	assert_int_equal(virtio_net_ops.poll_fd(t->dev, &ev) >= 0, 1);
	assert_int_equal(ev, 0);
	/* Two buffers for one frame: the second waits, and the tap is polled. */
	desc(t, RX)[1] = (struct virtq_desc){ 0x31000, 1526, VIRTQ_DESC_F_WRITE, 0 };
	offer(t, RX, 0);
	offer(t, RX, 1);
	assert_int_equal(process(t, RX), 1);
	assert_int_equal(used(t, RX)->idx, 2);
	virtio_net_ops.poll_fd(t->dev, &ev);
	assert_int_equal(ev, POLLIN);
}

static void test_rx_buffer_too_small(void **state)
{
	struct t *t = *state;

	desc(t, RX)[0] = (struct virtq_desc){ 0x30000, 20, VIRTQ_DESC_F_WRITE, 0 };
	offer(t, RX, 0);
	assert_int_equal(process(t, RX), -EINVAL);
	assert_true(t->q[RX].broken);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_opts),
		T(test_features_no_offloads),
		T(test_tx),
		T(test_rx),
		T(test_rx_buffer_too_small),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
