/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A live migration's source host evidence (bundle_host.h, "hop"): its
 * binding to the migration stream and the record's byte form, parsed as
 * hostile bytes (a peer's message, a file): every length bounded, reserved
 * fields zero, nothing after the last field.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attest/format/bundle_host.h"
#include "core/util.h"

int bundle_hop_binding(const uint8_t stream[32], uint8_t out[BUNDLE_HOST_BINDING_LEN])
{
	static const char tag[] = BUNDLE_HOP_BINDING_TAG;
	static const uint8_t be32[4] = { 0, 0, 0, 32 };
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	ok = mc && EVP_DigestInit_ex(mc, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(mc, tag, sizeof(tag)) == 1 &&
	     EVP_DigestUpdate(mc, be32, sizeof(be32)) == 1 &&
	     EVP_DigestUpdate(mc, stream, 32) == 1 &&
	     EVP_DigestFinal_ex(mc, out, &n) == 1 && n == BUNDLE_HOST_BINDING_LEN;
	EVP_MD_CTX_free(mc);
	return ok ? 0 : -EIO;
}

/* ---- encoding ------------------------------------------------------------ */

struct wbuf {
	uint8_t *p;
	size_t len;
};

static void wput_le(struct wbuf *w, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct wbuf *w, const void *p, size_t n)
{
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void put_str(struct wbuf *w, const void *p, size_t n)
{
	wput_le(w, n, 4);
	put_bytes(w, p, n);
}

static int blob_ok(const struct bundle_blob *b, size_t max)
{
	return b->data && b->len >= 1 && b->len <= max;
}

static int chain_ok(const struct bundle_chain *c)
{
	int ok = blob_ok(&c->cert, BUNDLE_MAX_CERT) && c->nchain <= BUNDLE_MAX_CHAIN;

	for (size_t i = 0; ok && i < c->nchain; i++)
		ok = blob_ok(&c->chain[i], BUNDLE_MAX_CERT);
	return ok;
}

static void put_chain(struct wbuf *w, const struct bundle_chain *c)
{
	put_str(w, c->cert.data, c->cert.len);
	wput_le(w, c->nchain, 4);
	for (size_t i = 0; i < c->nchain; i++)
		put_str(w, c->chain[i].data, c->chain[i].len);
}

int bundle_hop_encode(const struct bundle_hop *h, uint8_t **out, size_t *len)
{
	const struct bundle_host *o = &h->host;
	uint16_t size = evlog_alg_size(o->pcr_alg);
	struct wbuf w = { 0 };

	if (!size || !blob_ok(&o->attest, BUNDLE_MAX_TPM) ||
	    !blob_ok(&o->signature, BUNDLE_MAX_TPM) || !blob_ok(&o->ak_public, BUNDLE_MAX_TPM) ||
	    !blob_ok(&o->ima_log, BUNDLE_HOP_IMA_MAX) || !chain_ok(&o->ak) || !chain_ok(&o->ek))
		return -EINVAL;
	w.p = malloc(BUNDLE_HOP_WIRE_MAX);
	if (!w.p)
		return -ENOMEM;
	wput_le(&w, BUNDLE_HOP_VERSION, 4);
	wput_le(&w, 0, 4);
	put_bytes(&w, h->stream_sha256, 32);
	wput_le(&w, o->pcr_alg, 2);
	wput_le(&w, 0, 2);
	put_str(&w, o->pcr10, size);
	put_str(&w, o->attest.data, o->attest.len);
	put_str(&w, o->signature.data, o->signature.len);
	put_str(&w, o->ak_public.data, o->ak_public.len);
	put_str(&w, o->ima_log.data, o->ima_log.len);
	put_chain(&w, &o->ak);
	put_chain(&w, &o->ek);
	*out = w.p;
	*len = w.len;
	return 0;
}

void bundle_chain_free(struct bundle_chain *c)
{
	free(c->cert.data);
	for (size_t i = 0; i < ARRAY_SIZE(c->chain); i++)
		free(c->chain[i].data);
}

/* Here rather than in bundle.c: fuzz_migwire links this file alone. */
void bundle_host_free(struct bundle_host *h)
{
	free(h->attest.data);
	free(h->signature.data);
	free(h->ak_public.data);
	free(h->ima_log.data);
	free(h->enroll.attest.data);
	free(h->enroll.signature.data);
	free(h->enroll.ima_log.data);
	bundle_chain_free(&h->ak);
	bundle_chain_free(&h->ek);
	memset(h, 0, sizeof(*h));
}

void bundle_hop_free(struct bundle_hop *h)
{
	bundle_host_free(&h->host);
	memset(h, 0, sizeof(*h));
}

/* ---- decoding ------------------------------------------------------------ */

struct rbuf {
	const uint8_t *p;
	size_t len, pos;
	char *why;
	size_t whylen;
	int bad;
};

static int rbad(struct rbuf *r, const char *what, const char *how)
{
	if (!r->bad && r->why && r->whylen)
		snprintf(r->why, r->whylen, "hop record: %s %s (at byte %zu)", what, how, r->pos);
	r->bad = 1;
	return -EBADMSG;
}

static const uint8_t *take(struct rbuf *r, size_t n, const char *what)
{
	const uint8_t *p = r->p + r->pos;

	if (r->bad)
		return NULL;
	if (n > r->len - r->pos) {
		rbad(r, what, "is cut short");
		return NULL;
	}
	r->pos += n;
	return p;
}

static uint64_t get_le(struct rbuf *r, size_t n, const char *what)
{
	const uint8_t *p = take(r, n, what);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* str of min..max bytes into a fresh blob. */
static int get_blob(struct rbuf *r, size_t min, size_t max, struct bundle_blob *b,
		    const char *what)
{
	uint64_t n = get_le(r, 4, what);
	const uint8_t *p;

	if (r->bad)
		return -EBADMSG;
	if (n < min || n > max)
		return rbad(r, what, "has a length out of bounds");
	p = take(r, (size_t)n, what);
	if (!p)
		return -EBADMSG;
	b->data = malloc((size_t)n);
	if (!b->data)
		return rbad(r, what, "does not fit in memory");
	memcpy(b->data, p, (size_t)n);
	b->len = (size_t)n;
	return 0;
}

static int get_chain(struct rbuf *r, struct bundle_chain *c, const char *what)
{
	uint64_t n;

	if (get_blob(r, 1, BUNDLE_MAX_CERT, &c->cert, what))
		return -EBADMSG;
	n = get_le(r, 4, what);
	if (!r->bad && n > BUNDLE_MAX_CHAIN)
		return rbad(r, what, "has too many intermediates");
	for (uint64_t i = 0; !r->bad && i < n; i++, c->nchain++)
		if (get_blob(r, 1, BUNDLE_MAX_CERT, &c->chain[i], what))
			return -EBADMSG;
	return r->bad ? -EBADMSG : 0;
}

static int get_head(struct rbuf *r, struct bundle_hop *h)
{
	const uint8_t *sha;
	uint64_t n;

	if (get_le(r, 4, "version") != BUNDLE_HOP_VERSION && !r->bad)
		return rbad(r, "version", "is not 1");
	if (get_le(r, 4, "reserved word") && !r->bad)
		return rbad(r, "reserved word", "is not zero");
	sha = take(r, 32, "stream SHA-256");
	if (sha)
		memcpy(h->stream_sha256, sha, 32);
	h->host.pcr_alg = (uint16_t)get_le(r, 2, "PCR bank");
	if (!r->bad && !evlog_alg_size(h->host.pcr_alg))
		return rbad(r, "PCR bank", "is unknown");
	if (get_le(r, 2, "reserved half-word") && !r->bad)
		return rbad(r, "reserved half-word", "is not zero");
	n = get_le(r, 4, "PCR 10");
	if (!r->bad && n != evlog_alg_size(h->host.pcr_alg))
		return rbad(r, "PCR 10", "is not its bank's size");
	sha = take(r, (size_t)n, "PCR 10");
	if (sha)
		memcpy(h->host.pcr10, sha, (size_t)n);
	return r->bad ? -EBADMSG : 0;
}

int bundle_hop_decode(const uint8_t *p, size_t len, struct bundle_hop *h, char *why,
		      size_t whylen)
{
	struct rbuf r = { p, len, 0, why, whylen, 0 };
	struct bundle_host *o = &h->host;
	int rc;

	memset(h, 0, sizeof(*h));
	rc = len > BUNDLE_HOP_WIRE_MAX ? rbad(&r, "record", "is too large") : 0;
	rc = rc ? rc : get_head(&r, h);
	rc = rc ? rc : get_blob(&r, 1, BUNDLE_MAX_TPM, &o->attest, "host quote");
	rc = rc ? rc : get_blob(&r, 1, BUNDLE_MAX_TPM, &o->signature, "host signature");
	rc = rc ? rc : get_blob(&r, 1, BUNDLE_MAX_TPM, &o->ak_public, "host AK public");
	rc = rc ? rc : get_blob(&r, 1, BUNDLE_HOP_IMA_MAX, &o->ima_log, "IMA list");
	rc = rc ? rc : get_chain(&r, &o->ak, "host AK certificate");
	rc = rc ? rc : get_chain(&r, &o->ek, "host EK certificate");
	if (!rc && r.pos != r.len)
		rc = rbad(&r, "record", "has bytes after its last field");
	if (rc)
		bundle_hop_free(h);
	return rc;
}
