/* SPDX-License-Identifier: Apache-2.0 */
/* Console output ring between vCPU threads and the io thread. */
#include "core/vmm/outbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

int outbuf_init(struct outbuf *o, int fd)
{
	memset(o, 0, sizeof(*o));
	o->data = malloc(OUTBUF_SIZE);
	if (!o->data)
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	o->fd = fd;
	return 0;
}

void outbuf_fini(struct outbuf *o)
{
	if (o->dropped)
		log_warn("console: %llu bytes of guest output dropped (output too slow)",
			 (unsigned long long)o->dropped);
	free(o->data);
	o->data = NULL;
}

void outbuf_put(struct outbuf *o, const uint8_t *p, size_t n)
{
	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < n; i++) {
		if (o->tail - o->head >= OUTBUF_SIZE) {
			o->dropped += n - i;
			break;
		}
		o->data[o->tail++ % OUTBUF_SIZE] = p[i];
	}
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

void outbuf_drain(struct outbuf *o)
{
	int broken = 0, rc;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		size_t off, n;

		while (o->tail == o->head && !o->closing)
			pthread_cond_wait(&o->cond, &o->lock);
		if (o->tail == o->head)
			break;
		off = o->head % OUTBUF_SIZE;
		n = o->tail - o->head;
		if (n > OUTBUF_SIZE - off)
			n = OUTBUF_SIZE - off;
		pthread_mutex_unlock(&o->lock);
		if (!broken && (rc = write_all(o->fd, o->data + off, n))) {
			broken = 1;    /* e.g. the reader went away: keep draining */
			log_warn("console: output write failed: %s", strerror(-rc));
		}
		pthread_mutex_lock(&o->lock);
		o->head += n;
	}
	pthread_mutex_unlock(&o->lock);
}

void outbuf_close(struct outbuf *o)
{
	pthread_mutex_lock(&o->lock);
	o->closing = 1;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}
