/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Console output ring: vCPU threads put bytes without ever blocking; the io
 * thread writes them to the output fd.  When the reader is too slow and the
 * ring (1 MiB) fills, bytes are dropped and counted, and that is reported.
 */
#ifndef BULWARK_OUTBUF_H
#define BULWARK_OUTBUF_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define OUTBUF_SIZE (1u << 20)

struct outbuf {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *data;
	size_t head, tail;          /* tail - head bytes pending (mod SIZE) */
	uint64_t dropped;
	int closing;
	int fd;
};

int outbuf_init(struct outbuf *o, int fd);
void outbuf_fini(struct outbuf *o);
void outbuf_put(struct outbuf *o, const uint8_t *p, size_t n);
/* Write everything pending, then return once outbuf_close() was called. */
void outbuf_drain(struct outbuf *o);
void outbuf_close(struct outbuf *o);

#endif
