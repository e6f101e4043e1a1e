/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's bounded byte codecs (snapshot META and DISKS, the
 * migration messages): a growing little-endian writer, and a reading
 * cursor that refuses to run past the end and keeps the first reason.
 */
#ifndef BULWARK_LAUNCH_WIREBUF_H
#define BULWARK_LAUNCH_WIREBUF_H

#include <stddef.h>
#include <stdint.h>

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

void wbuf_put(struct wbuf *w, const void *src, size_t n);
void wbuf_u32(struct wbuf *w, uint32_t v);
void wbuf_u64(struct wbuf *w, uint64_t v);
/* u32 length, then the bytes. */
void wbuf_str(struct wbuf *w, const void *s, size_t n);
/* *out = the bytes (caller frees) and 0, or the first error (freed). */
int wbuf_done(struct wbuf *w, uint8_t **out, size_t *len);

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	const char *what;      /* the part, for the reason: "snapshot META" */
	int err;               /* 0 or -EBADMSG, sticky */
	char *why;             /* may be NULL: the first reason, copied */
	size_t whylen;
};

/* Logs "WHAT: WHY (at byte N)" once, copies it to r->why; -EBADMSG. */
int rbuf_fail(struct rbuf *r, const char *why);
const uint8_t *rbuf_take(struct rbuf *r, size_t n, const char *field);
uint32_t rbuf_u32(struct rbuf *r, const char *field);
uint64_t rbuf_u64(struct rbuf *r, const char *field);
/* A length-prefixed byte string of MIN..MAX bytes. */
const uint8_t *rbuf_bytes(struct rbuf *r, size_t min, size_t max, size_t *n,
			  const char *field);
/* The same, into a NUL-ended string of DST_SIZE with no NUL inside. */
void rbuf_str(struct rbuf *r, char *dst, size_t min, size_t dst_size, const char *field);
/* An 8-byte magic (NULL: none); OUT zeroed first. */
int rbuf_start(struct rbuf *r, const char *magic, void *out, size_t size);
/* Nothing may follow the last field. */
int rbuf_end(struct rbuf *r);

#endif
