/* SPDX-License-Identifier: Apache-2.0 */
/* The unit tests' echo device: see virtio_echo.h. */
#include "tests/unit/virtio_echo.h"

int echo_process(void *dev, uint16_t qi, struct virtq *q, const struct gmem *m)
{
	struct virtq_chain *c = dev;
	int pushed = 0;

	(void)qi;
	for (uint32_t n = 0; n < q->num; n++) {
		int rc = virtq_pop(q, m, c);

		if (rc <= 0)
			return rc ? rc : pushed;
		if (virtq_chain_write(c, 0, "Z", 1))
			return virtq_fail(q, "no writable byte", c->head);
		virtq_push(q, c, 1);
		pushed = 1;
	}
	return pushed;
}

uint64_t echo_features(void *dev)
{
	(void)dev;
	return ECHO_FEATURES;
}
