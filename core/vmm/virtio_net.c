/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (virtio 1.x, 5.1) on a tap fd: one receive and one transmit
 * queue, the 12-byte virtio_net_hdr of VERSION_1, no offloads offered (no
 * checksum, GSO, TSO, mergeable buffers), so every header the device sends
 * is zero but num_buffers = 1, and the guest's headers are skipped.  Frames
 * go between the tap and guest RAM with readv/writev, no host copy.
 */
#include "core/vmm/virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"

#define NET_RXQ 0
#define NET_TXQ 1
#define NET_QUEUE_SIZE 256
#define NET_HDR_LEN 12u
#define NET_FRAME_MIN 14u              /* an Ethernet header */
#define NET_FRAME_MAX 65535u           /* what a tap takes at most */

struct net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
};
static_assert(sizeof(struct net_config) == 12, "virtio 1.x 5.1.4");

struct virtio_net {
	int tap;
	_Atomic bool rx_ready;          /* receive buffers may be there: poll the tap */
	uint32_t tx_dropped, errors;
	struct net_config cfg;
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SIZE];
	struct virtio_counters count;   /* frames received in, sent out (metrics) */
};

int virtio_net_create(int tap_fd, const uint8_t mac[6], void **dev)
{
	struct virtio_net *n;
	int fl = fcntl(tap_fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(tap_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->tap = tap_fd;
	memcpy(n->cfg.mac, mac, 6);
	n->cfg.status = VIRTIO_NET_S_LINK_UP;
	n->cfg.max_virtqueue_pairs = 1;
	n->cfg.mtu = 1500;
	*dev = n;
	return 0;
}

/* One frame from the guest: skip its header, hand the rest to the tap. */
static void net_tx_one(struct virtio_net *n, const struct virtq_chain *c)
{
	uint64_t len = c->out_len - NET_HDR_LEN;
	int k;

	if (len < NET_FRAME_MIN || len > NET_FRAME_MAX) {
		n->tx_dropped++;
		return;
	}
	k = virtq_iov_slice(c->iov, c->n_out, NET_HDR_LEN, len, n->iov);
	if (writev(n->tap, n->iov, k) < 0) {
		if (errno != EAGAIN && n->errors++ == 0)
			log_warn("tap write: %s (frames are dropped)", strerror(errno));
		return;
	}
	VIRTIO_COUNT(n->count.out_bytes, len);
	VIRTIO_COUNT(n->count.out_reqs, 1);
}

static int net_tx(struct virtio_net *n, struct virtq *q, const struct gmem *m)
{
	int pushed = 0;

	for (uint32_t i = 0; i < q->num; i++) {
		int rc = virtq_pop(q, m, &n->chain);

		if (rc <= 0)
			return rc ? rc : pushed;
		if (n->chain.out_len < NET_HDR_LEN)
			return virtq_fail(q, "net tx chain shorter than its header",
					  n->chain.out_len);
		net_tx_one(n, &n->chain);
		virtq_push(q, &n->chain, 0);
		pushed = 1;
	}
	return pushed;
}

/* One frame from the tap into a popped chain; 0 when the tap had none. */
static ssize_t net_rx_one(struct virtio_net *n, const struct virtq_chain *c)
{
	static const uint8_t hdr[NET_HDR_LEN] = { [10] = 1 };  /* num_buffers = 1 */
	int k = virtq_iov_slice(c->iov + c->n_out, c->n_in, NET_HDR_LEN,
				c->in_len - NET_HDR_LEN, n->iov);
	ssize_t r = readv(n->tap, n->iov, k);

	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (virtq_chain_write(c, 0, hdr, sizeof(hdr)))
		return -EINVAL;         /* cannot be: in_len was checked */
	if (r > 0) {
		VIRTIO_COUNT(n->count.in_bytes, (uint64_t)r);
		VIRTIO_COUNT(n->count.in_reqs, 1);
	}
	return r + NET_HDR_LEN;
}

static int net_rx(struct virtio_net *n, struct virtq *q, const struct gmem *m)
{
	int pushed = 0;

	for (uint32_t i = 0; i < q->num; i++) {
		ssize_t r;
		int rc = virtq_pop(q, m, &n->chain);

		n->rx_ready = rc > 0;           /* none left: wait for a kick */
		if (rc <= 0)
			return rc ? rc : pushed;
		if (n->chain.in_len < NET_HDR_LEN + NET_FRAME_MIN)
			return virtq_fail(q, "net rx buffer too small for a frame",
					  n->chain.in_len);
		r = net_rx_one(n, &n->chain);
		if (r <= 0) {
			virtq_unpop(q);         /* nothing on the tap now */
			if (r < 0 && n->errors++ == 0)
				log_warn("tap read: %s", strerror((int)-r));
			return pushed;
		}
		virtq_push(q, &n->chain, (uint32_t)r);
		pushed = 1;
	}
	return pushed;
}

static int net_queue_process(void *dev, uint16_t qi, struct virtq *q,
			     const struct gmem *m)
{
	return qi == NET_TXQ ? net_tx(dev, q, m) : net_rx(dev, q, m);
}

static int net_poll_fd(void *dev, short *events)
{
	struct virtio_net *n = dev;

	*events = n->rx_ready ? POLLIN : 0;
	return n->tap;
}

static uint64_t net_features(void *dev)
{
	(void)dev;
	return (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS);
}

static void net_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_net *n = dev;

	memcpy(data, (const uint8_t *)&n->cfg + off, len);
}

static void net_activate(void *dev, uint64_t features)
{
	struct virtio_net *n = dev;

	(void)features;
	n->rx_ready = true;
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	n->rx_ready = false;
}

/* The device owns the tap fd from virtio_net_create() on. */
static const struct virtio_counters *net_counters(void *dev)
{
	return &((struct virtio_net *)dev)->count;
}

static void net_destroy(void *dev)
{
	struct virtio_net *n = dev;

	if (!n)
		return;
	close(n->tap);
	free(n);
}

const struct virtio_device_ops virtio_net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = 0x0200,            /* network, Ethernet */
	.num_queues = 2,
	.queue_max = NET_QUEUE_SIZE,
	.config_size = sizeof(struct net_config),
	.features = net_features,
	.config_read = net_config_read,
	.activate = net_activate,
	.queue_process = net_queue_process,
	.poll_fd = net_poll_fd,
	.poll_queue = NET_RXQ,
	.reset = net_reset,
	.counters = net_counters,
	.destroy = net_destroy,
};
