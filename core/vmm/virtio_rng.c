/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng (virtio 1.x, 5.4): fills the guest's writable buffers from the
 * host's getrandom(), at most VIRTIO_RNG_MAX_BYTES per request, straight
 * into guest RAM (no host buffer sized by the guest).
 */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/vmm/virtio.h"
#include "core/vmm/virtio_rng.h"

struct virtio_rng {
	struct virtq_chain chain;
	uint32_t errors;
};

int virtio_rng_create(void **dev)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	*dev = r;
	return 0;
}

/* Fill up to VIRTIO_RNG_MAX_BYTES of the chain's writable part; bytes filled. */
static uint32_t rng_fill(struct virtio_rng *r, const struct virtq_chain *c)
{
	uint32_t done = 0;

	for (uint16_t i = 0; i < c->n_in && done < VIRTIO_RNG_MAX_BYTES; i++) {
		const struct iovec *v = &c->iov[c->n_out + i];
		size_t want = v->iov_len, got = 0;

		if (want > VIRTIO_RNG_MAX_BYTES - done)
			want = VIRTIO_RNG_MAX_BYTES - done;
		while (got < want) {
			ssize_t n = getrandom((uint8_t *)v->iov_base + got, want - got, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (r->errors++ == 0)
					log_warn("getrandom: %s", n ? strerror(errno) : "no bytes");
				return done + (uint32_t)got;
			}
			got += (size_t)n;
		}
		done += (uint32_t)got;
	}
	return done;
}

static int rng_queue_process(void *dev, uint16_t qi, struct virtq *q,
			     const struct gmem *m)
{
	struct virtio_rng *r = dev;
	int pushed = 0;

	(void)qi;
	for (uint32_t n = 0; n < q->num; n++) {
		int rc = virtq_pop(q, m, &r->chain);

		if (rc <= 0)
			return rc ? rc : pushed;
		virtq_push(q, &r->chain, rng_fill(r, &r->chain));
		pushed = 1;
	}
	return pushed;
}

static uint64_t rng_features(void *dev)
{
	(void)dev;
	return 0;
}

static void rng_destroy(void *dev)
{
	free(dev);
}

const struct virtio_device_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = 0xff00,            /* other */
	.num_queues = 1,
	.queue_max = 64,
	.config_size = 0,
	.features = rng_features,
	.queue_process = rng_queue_process,
	.destroy = rng_destroy,
};
