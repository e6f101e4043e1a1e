/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives core/virtio_queue and the virtio-blk and virtio-rng request
 * handlers over a fake guest memory made of the input.
 *
 * Input: byte 0 picks the queue size (1 << (b % 9)); byte 1 the device (bit 0:
 * rng; else bit 2: the transmit queue of net on a socketpair; else blk on a
 * 32 KiB memfd image) and, bit 1, whether the device's features (DISCARD,
 * WRITE_ZEROES) are negotiated; then three little-endian u64 ring addresses
 * (desc, avail, used); bit 3 of byte 1 halts the queue (the transport's
 * bus-master-off) after two passes; the rest is copied to guest address 0.  Guest RAM is
 * 64 KiB low plus 16 KiB at 4 GiB, so both halves and the hole between are
 * reachable.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/vmm/virtio.h"
#include "core/vmm/virtio_blk.h"
#include "core/vmm/virtio_net.h"
#include "core/vmm/virtio_rng.h"
#include "tests/fuzz/fuzz.h"

#define LOW_SIZE  0x10000u
#define HIGH_SIZE 0x4000u
#define HDR_SIZE  26u

static uint8_t *ram;
static void *blk, *rng, *net;
static _Atomic uint32_t halt;

static int fuzz_init(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	int fd, sv[2];

	log_set_level(LOG_ERR);
	ram = malloc(LOW_SIZE + HIGH_SIZE);
	fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	if (!ram || fd < 0 || ftruncate(fd, 64 * 512))
		return -1;
	if (virtio_blk_create(fd, false, "fuzz", &blk) || virtio_rng_create(&rng))
		return -1;
	/* The peer is never read: once its buffer is full frames are dropped,
	 * as on a congested tap. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ||
	    virtio_net_create(sv[0], mac, &net))
		return -1;
	return 0;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const struct virtio_device_ops *ops;
	struct gmem m = { NULL, LOW_SIZE, HIGH_SIZE, NULL };
	struct virtq q;
	uint16_t qi;
	void *dev;

	if (!ready)
		ready = fuzz_init() ? -1 : 1;
	if (ready < 0 || size < HDR_SIZE)
		return 0;
	m.base = ram;
	memset(ram, 0, LOW_SIZE + HIGH_SIZE);
	memcpy(ram, data + HDR_SIZE,
	       size - HDR_SIZE < LOW_SIZE + HIGH_SIZE ? size - HDR_SIZE : LOW_SIZE + HIGH_SIZE);
	ops = (data[1] & 1) ? &virtio_rng_ops : (data[1] & 4) ? &virtio_net_ops : &virtio_blk_ops;
	dev = (data[1] & 1) ? rng : (data[1] & 4) ? net : blk;
	qi = ops == &virtio_net_ops ? 1 : 0;
	if (ops->activate)
		ops->activate(dev, (data[1] & 2) ? ops->features(dev) : 0);
	virtq_init(&q, ops->queue_max, "fuzz.q0");
	q.halt = &halt;
	atomic_store(&halt, 0);
	q.size = (uint16_t)(1u << (data[0] % 9));
	q.desc_gpa = get_u64(data + 2);
	q.avail_gpa = get_u64(data + 10);
	q.used_gpa = get_u64(data + 18);
	if (virtq_activate(&q, &m))
		return 0;
	/* A few passes, as repeated kicks would; a broken queue stays broken. */
	for (int pass = 0; pass < 4; pass++) {
		/* Bit 3: halted (bus master off) from the third pass on. */
		if (pass == 2 && (data[1] & 8))
			atomic_store(&halt, 1);
		if (ops->queue_process(dev, qi, &q, &m) < 0)
			break;
	}
	return 0;
}
