/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher's bounded byte codecs (core/launch/wirebuf.h). */
#include "core/launch/wirebuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void wbuf_put(struct wbuf *w, const void *src, size_t n)
{
	if (w->err || !n)
		return;
	if (w->len + n > w->cap) {
		size_t cap = (w->len + n) * 2;
		uint8_t *p = realloc(w->p, cap);

		if (!p) {
			w->err = -ENOMEM;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

void wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	wbuf_put(w, b, sizeof(b));
}

void wbuf_u64(struct wbuf *w, uint64_t v)
{
	wbuf_u32(w, (uint32_t)v);
	wbuf_u32(w, (uint32_t)(v >> 32));
}

void wbuf_str(struct wbuf *w, const void *s, size_t n)
{
	wbuf_u32(w, (uint32_t)n);
	wbuf_put(w, s, n);
}

int wbuf_done(struct wbuf *w, uint8_t **out, size_t *len)
{
	if (!w->err && !w->p) {            /* nothing written: still a buffer */
		w->p = malloc(1);
		if (!w->p)
			w->err = -ENOMEM;
	}
	if (w->err) {
		free(w->p);
		return w->err;
	}
	*out = w->p;
	*len = w->len;
	return 0;
}

int rbuf_fail(struct rbuf *r, const char *why)
{
	if (!r->err) {
		log_err("%s: %s (at byte %zu)", r->what, why, r->off);
		if (r->why && r->whylen)
			snprintf(r->why, r->whylen, "%s: %s (at byte %zu)", r->what, why, r->off);
	}
	r->err = -EBADMSG;
	return r->err;
}

const uint8_t *rbuf_take(struct rbuf *r, size_t n, const char *field)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		rbuf_fail(r, field);
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint32_t rbuf_u32(struct rbuf *r, const char *field)
{
	const uint8_t *b = rbuf_take(r, 4, field);

	return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		   (uint32_t)b[3] << 24 : 0;
}

uint64_t rbuf_u64(struct rbuf *r, const char *field)
{
	uint64_t lo = rbuf_u32(r, field);

	return lo | (uint64_t)rbuf_u32(r, field) << 32;
}

const uint8_t *rbuf_bytes(struct rbuf *r, size_t min, size_t max, size_t *n,
			  const char *field)
{
	uint32_t len = rbuf_u32(r, field);

	*n = 0;
	if (r->err)
		return NULL;
	if (len < min || len > max) {
		rbuf_fail(r, field);
		return NULL;
	}
	*n = len;
	return rbuf_take(r, len, field);
}

void rbuf_str(struct rbuf *r, char *dst, size_t min, size_t dst_size, const char *field)
{
	size_t n;
	const uint8_t *s = rbuf_bytes(r, min, dst_size - 1, &n, field);

	dst[0] = '\0';
	if (!s)
		return;
	if (memchr(s, '\0', n)) {
		rbuf_fail(r, field);
		return;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int rbuf_start(struct rbuf *r, const char *magic, void *out, size_t size)
{
	const uint8_t *m = magic ? rbuf_take(r, 8, "too short for its magic") : NULL;

	memset(out, 0, size);
	if (m && memcmp(m, magic, 8))
		return rbuf_fail(r, "not this part (magic)");
	return r->err;
}

int rbuf_end(struct rbuf *r)
{
	if (!r->err && r->off != r->len)
		rbuf_fail(r, "bytes after the last field");
	return r->err;
}
