/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The META and DISKS parts of a sealed snapshot (core/launch/snapmeta.h):
 * encoders, the bounded decoders (authenticated bytes, parsed as hostile
 * all the same) and the disks' identity.
 */
#include "core/launch/snapmeta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "core/launch/file_digest.h"
#include "core/log.h"
#include "core/util.h"

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void w_put(struct wbuf *w, const void *src, size_t n)
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

static void w_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	w_put(w, b, sizeof(b));
}

static void w_u64(struct wbuf *w, uint64_t v)
{
	w_u32(w, (uint32_t)v);
	w_u32(w, (uint32_t)(v >> 32));
}

static void w_str(struct wbuf *w, const void *s, size_t n)
{
	w_u32(w, (uint32_t)n);
	w_put(w, s, n);
}

static int w_done(struct wbuf *w, uint8_t **out, size_t *len)
{
	if (w->err) {
		free(w->p);
		return w->err;
	}
	*out = w->p;
	*len = w->len;
	return 0;
}

int snapmeta_encode(const struct snapmeta *m, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };
	size_t nl = strnlen(m->name, sizeof(m->name)), ll = strnlen(m->label, sizeof(m->label));

	if (!m->nvcpus || m->nvcpus > SNAPMETA_CPUS_MAX || !nl || nl > CONFIG_NAME_MAX ||
	    ll >= sizeof(m->label) || !m->config_len || m->config_len > SNAPMETA_CONFIG_MAX ||
	    m->log_len > SNAPMETA_LOG_MAX)
		return -EINVAL;
	w_put(&w, SNAPMETA_MAGIC, 8);
	w_u32(&w, m->nvcpus);
	w_u32(&w, m->flags & SNAPMETA_F_VTPM);
	w_u64(&w, m->memory_mib);
	w_u64(&w, (uint64_t)m->time);
	w_str(&w, m->name, nl);
	w_str(&w, m->label, ll);
	w_str(&w, m->config, m->config_len);
	w_str(&w, m->log, m->log_len);
	return w_done(&w, out, len);
}

int snapdisks_encode(const struct snapdisks *d, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };

	if (d->n > CONFIG_MAX_DISKS)
		return -EINVAL;
	w_put(&w, SNAPDISKS_MAGIC, 8);
	w_u32(&w, d->n);
	w_u32(&w, 0);
	for (uint32_t i = 0; i < d->n; i++) {
		size_t pl = strnlen(d->d[i].path, sizeof(d->d[i].path));

		if (!pl || pl >= sizeof(d->d[i].path)) {
			free(w.p);
			return -EINVAL;
		}
		w_str(&w, d->d[i].path, pl);
		w_u64(&w, d->d[i].size);
		w_u32(&w, d->d[i].flags & (SNAPDISK_F_DIGEST | SNAPDISK_F_READONLY));
		w_u32(&w, 0);
		w_put(&w, d->d[i].digest, 32);
	}
	return w_done(&w, out, len);
}

/* ---- decoding: a cursor that refuses to run past the end ---------------- */

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	const char *what;      /* the part, for the reason */
	int err;
};

static int r_fail(struct rbuf *r, const char *why)
{
	if (!r->err)
		log_err("snapshot %s: %s (at byte %zu)", r->what, why, r->off);
	r->err = -EBADMSG;
	return r->err;
}

static const uint8_t *r_take(struct rbuf *r, size_t n, const char *field)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r_fail(r, field);
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint32_t r_u32(struct rbuf *r, const char *field)
{
	const uint8_t *b = r_take(r, 4, field);

	return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		   (uint32_t)b[3] << 24 : 0;
}

static uint64_t r_u64(struct rbuf *r, const char *field)
{
	uint64_t lo = r_u32(r, field);

	return lo | (uint64_t)r_u32(r, field) << 32;
}

/* A length-prefixed byte string of MIN..MAX bytes. */
static const uint8_t *r_bytes(struct rbuf *r, size_t min, size_t max, size_t *n,
			      const char *field)
{
	uint32_t len = r_u32(r, field);

	*n = 0;
	if (r->err)
		return NULL;
	if (len < min || len > max) {
		r_fail(r, field);
		return NULL;
	}
	*n = len;
	return r_take(r, len, field);
}

/* The same, into a NUL-ended string with no NUL inside. */
static void r_str(struct rbuf *r, char *dst, size_t min, size_t dst_size, const char *field)
{
	size_t n;
	const uint8_t *s = r_bytes(r, min, dst_size - 1, &n, field);

	dst[0] = '\0';
	if (!s)
		return;
	if (memchr(s, '\0', n)) {
		r_fail(r, field);
		return;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The part's 8-byte magic; its decoder starts with the struct zeroed. */
static int r_start(struct rbuf *r, const char *magic, void *out, size_t size)
{
	const uint8_t *m = r_take(r, 8, "too short for its magic");

	memset(out, 0, size);
	if (m && memcmp(m, magic, 8))
		return r_fail(r, "not this part (magic)");
	return r->err;
}

static int r_end(struct rbuf *r)
{
	if (!r->err && r->off != r->len)
		r_fail(r, "bytes after the last field");
	return r->err;
}

int snapmeta_decode(const uint8_t *buf, size_t len, struct snapmeta *m)
{
	struct rbuf r = { .p = buf, .len = len, .what = "META" };

	if (r_start(&r, SNAPMETA_MAGIC, m, sizeof(*m)))
		return r.err;
	m->nvcpus = r_u32(&r, "vCPU count");
	m->flags = r_u32(&r, "flags");
	m->memory_mib = r_u64(&r, "memory");
	m->time = (int64_t)r_u64(&r, "time");
	if (!r.err && (!m->nvcpus || m->nvcpus > SNAPMETA_CPUS_MAX))
		return r_fail(&r, "vCPU count out of bounds");
	if (!r.err && (m->flags & ~SNAPMETA_F_VTPM))
		return r_fail(&r, "unknown flags");
	r_str(&r, m->name, 1, sizeof(m->name), "guest name");
	r_str(&r, m->label, 0, sizeof(m->label), "label");
	m->config = r_bytes(&r, 1, SNAPMETA_CONFIG_MAX, &m->config_len, "configuration");
	m->log = r_bytes(&r, 0, SNAPMETA_LOG_MAX, &m->log_len, "event log");
	return r_end(&r);
}

int snapdisks_decode(const uint8_t *buf, size_t len, struct snapdisks *d)
{
	struct rbuf r = { .p = buf, .len = len, .what = "DISKS" };

	if (r_start(&r, SNAPDISKS_MAGIC, d, sizeof(*d)))
		return r.err;
	d->n = r_u32(&r, "disk count");
	if (!r.err && (d->n > CONFIG_MAX_DISKS || r_u32(&r, "reserved")))
		return r_fail(&r, "disk count out of bounds, or reserved bytes set");
	for (uint32_t i = 0; i < d->n && !r.err; i++) {
		struct snapdisk *k = &d->d[i];
		const uint8_t *sha;

		r_str(&r, k->path, 1, sizeof(k->path), "disk path");
		k->size = r_u64(&r, "disk size");
		k->flags = r_u32(&r, "disk flags");
		if (!r.err && ((k->flags & ~(SNAPDISK_F_DIGEST | SNAPDISK_F_READONLY)) ||
			       r_u32(&r, "reserved")))
			return r_fail(&r, "unknown disk flags, or reserved bytes set");
		sha = r_take(&r, 32, "disk digest");
		if (sha)
			memcpy(k->digest, sha, 32);
	}
	return r_end(&r);
}

/* ---- the disks as they are now ------------------------------------------- */

int snapdisk_measure(int fd, bool digest, uint64_t *size, uint8_t sha[32])
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*size = (uint64_t)st.st_size;
	memset(sha, 0, 32);
	return digest ? sha256_fd(fd, sha) : 0;
}

int snapdisk_check(const struct snapdisk *d, int fd, char *why, size_t why_len)
{
	uint8_t sha[32];
	uint64_t size;
	int rc = snapdisk_measure(fd, d->flags & SNAPDISK_F_DIGEST, &size, sha);

	why[0] = '\0';
	if (rc) {
		snprintf(why, why_len, "%s: cannot read it: %s", d->path, strerror(-rc));
		return rc;
	}
	if (size != d->size) {
		snprintf(why, why_len, "%s: size %llu, the snapshot's %llu", d->path,
			 (unsigned long long)size, (unsigned long long)d->size);
		return -ESTALE;
	}
	if ((d->flags & SNAPDISK_F_DIGEST) && memcmp(sha, d->digest, 32)) {
		snprintf(why, why_len, "%s: its SHA-256 is not the snapshot's", d->path);
		return -ESTALE;
	}
	return 0;
}
