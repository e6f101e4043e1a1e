/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier's context (trust anchors, nonces) and the order of checks:
 * form, certificates, quote, log, reference values.  Every check runs even
 * after a failure (an auditor wants the whole picture); the first failure is
 * the primary reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "attest/verify/verify_host.h"
#include "attest/verify/verify_priv.h"
#include "core/log.h"
#include "core/util.h"

/* The digests are fetched once per process (eventlog.h: evlog_md). */
const EVP_MD *verify_md(uint16_t alg)
{
	return evlog_md(alg);
}

/* Every certificate in every PEM file becomes a trust anchor. */
static int store_load(X509_STORE **out, const char *const *files, size_t n)
{
	X509_STORE *st = X509_STORE_new();
	int rc = st && n ? 0 : -EINVAL;

	for (size_t i = 0; !rc && i < n; i++) {
		if (X509_STORE_load_file(st, files[i]) != 1) {
			log_err("cannot load trust anchors from %s", files[i]);
			rc = -EINVAL;
		}
	}
	if (rc) {
		X509_STORE_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* Host anchors are optional: none is an empty store (nothing chains to it). */
static int host_store_load(X509_STORE **out, const char *const *files, size_t n)
{
	if (n)
		return store_load(out, files, n);
	*out = X509_STORE_new();
	return *out ? 0 : -ENOMEM;
}

int verify_ctx_new(const struct verify_options *opt, struct verify_ctx **out)
{
	struct verify_ctx *ctx;
	int rc;

	if (!opt->manifest || !opt->nak_ca || !opt->nek_ca)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->m = opt->manifest;
	ctx->at = opt->at;
	ctx->host_allow = opt->host_allow;
	rc = store_load(&ctx->ak_store, opt->ak_ca, opt->nak_ca);
	rc = rc ? rc : store_load(&ctx->ek_store, opt->ek_ca, opt->nek_ca);
	rc = rc ? rc : host_store_load(&ctx->host_ak_store, opt->host_ak_ca, opt->nhost_ak_ca);
	rc = rc ? rc : host_store_load(&ctx->host_ek_store, opt->host_ek_ca, opt->nhost_ek_ca);
	if (rc) {
		verify_ctx_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

void verify_ctx_free(struct verify_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->nids; i++)
		EVP_PKEY_free(ctx->ids[i].ak_key);
	X509_STORE_free(ctx->ak_store);
	X509_STORE_free(ctx->ek_store);
	X509_STORE_free(ctx->host_ak_store);
	X509_STORE_free(ctx->host_ek_store);
	free(ctx->issued.h);
	free(ctx->issued.slot);
	free(ctx->used.h);
	free(ctx->used.slot);
	free(ctx);
}

static size_t nonce_slot(const struct verify_nonces *set, const uint8_t h[32])
{
	uint64_t v;

	memcpy(&v, h, sizeof(v));
	return (size_t)v & (set->nslot - 1);
}

/* Index sized for at least twice the entries: every probe ends at an empty slot. */
static int nonce_index_grow(struct verify_nonces *set)
{
	size_t nslot = set->nslot ? 2 * set->nslot : 256;
	uint32_t *slot = calloc(nslot, sizeof(*slot));

	if (!slot || set->n >= UINT32_MAX) {
		free(slot);
		return -ENOMEM;
	}
	free(set->slot);
	set->slot = slot;
	set->nslot = nslot;
	for (size_t i = 0; i < set->n; i++) {
		size_t k = nonce_slot(set, set->h[i]);

		while (set->slot[k])
			k = (k + 1) & (nslot - 1);
		set->slot[k] = (uint32_t)i + 1;
	}
	return 0;
}

static void nonces_clear(struct verify_nonces *set)
{
	set->n = 0;
	if (set->slot)
		memset(set->slot, 0, set->nslot * sizeof(*set->slot));
}

int verify_nonce_lookup(struct verify_nonces *set, const uint8_t *nonce, size_t len,
			int add)
{
	uint8_t h[32];
	size_t k;

	if (!EVP_Digest(nonce, len, h, NULL, verify_md(TPM2_ALG_SHA256), NULL))
		return -EIO;
	for (k = set->nslot ? nonce_slot(set, h) : 0; set->nslot && set->slot[k];
	     k = (k + 1) & (set->nslot - 1))
		if (!memcmp(set->h[set->slot[k] - 1], h, sizeof(h)))
			return 1;
	if (!add)
		return 0;
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 64;
		void *p = reallocarray(set->h, cap, sizeof(*set->h));

		if (!p)
			return -ENOMEM;
		set->h = p;
		set->cap = cap;
	}
	if (2 * (set->n + 1) > set->nslot) {
		if (nonce_index_grow(set))
			return -ENOMEM;
		for (k = nonce_slot(set, h); set->slot[k]; k = (k + 1) & (set->nslot - 1))
			;
	}
	memcpy(set->h[set->n++], h, sizeof(h));
	set->slot[k] = (uint32_t)set->n;
	return 0;
}

int verify_ctx_expect_nonce(struct verify_ctx *ctx, const uint8_t *nonce, size_t len)
{
	int rc;

	if (!nonce) {
		nonces_clear(&ctx->issued);
		return 0;
	}
	if (len < BUNDLE_MIN_NONCE || len > BUNDLE_MAX_NONCE)
		return -EINVAL;
	rc = verify_nonce_lookup(&ctx->issued, nonce, len, 1);
	return rc < 0 ? rc : 0;
}

int verify_ctx_seen_nonce(struct verify_ctx *ctx, const uint8_t *nonce, size_t len)
{
	int rc = verify_nonce_lookup(&ctx->used, nonce, len, 1);

	return rc < 0 ? rc : 0;
}

void verify_ctx_forget_used(struct verify_ctx *ctx)
{
	nonces_clear(&ctx->used);
}

static void work_reset(struct verify_work *w)
{
	bundle_free(&w->b);
	EVP_PKEY_free(w->ak_key);
	X509_free(w->ak_cert);
	X509_free(w->ek_cert);
	memset(w, 0, sizeof(*w));
	w->secstate = -1;
	for (size_t i = 0; i < ARRAY_SIZE(w->item); i++)
		w->item[i] = -1;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (the parser accepts nothing else); 0 for the epoch. */
static int64_t created_time(const char *s)
{
	long long t = bundle_created_time(s);

	return t > 0 ? (int64_t)t : 0;
}

static void result_from_bundle(struct verify_result *res, const struct bundle *b)
{
	memcpy(res->name, b->name, sizeof(res->name));
	memcpy(res->uuid, b->uuid, sizeof(res->uuid));
	hex_encode(b->nonce, b->nonce_len, res->nonce_hex);
	res->created = created_time(b->created);
}

static enum verify_reason parse_reason(int code)
{
	switch (code) {
	case BUNDLE_ERR_TOO_LARGE:
		return VR_BUNDLE_TOO_LARGE;
	case BUNDLE_ERR_JSON:
		return VR_BUNDLE_JSON;
	case BUNDLE_ERR_FORMAT:
		return VR_BUNDLE_FORMAT;
	case BUNDLE_ERR_CANONICAL:
		return VR_BUNDLE_NOT_CANONICAL;
	default:
		return VR_BUNDLE_FIELD;
	}
}

/* The host policy of ctx (verify_host.h). */
static struct verify_host_policy host_policy(const struct verify_ctx *ctx)
{
	const struct host_allowlist *al = ctx->host_allow;

	return (struct verify_host_policy){ .ek_store = ctx->host_ek_store,
		.ak_store = ctx->host_ak_store, .at = ctx->at,
		.allow = al ? al->e : NULL, .nallow = al ? al->n : 0 };
}

/* hr (a host appraisal's result) into h; hr NULL: out of memory. */
static void host_result_copy(struct verify_host_result *h, const struct verify_result *hr)
{
	h->present = 1;
	if (!hr) {
		h->status = VS_CONTRAINDICATED;
		h->vector[TV_INSTANCE_IDENTITY] = 1;
		h->nfail = 1;
		h->fail[0].reason = VR_INTERNAL;
		snprintf(h->fail[0].detail, sizeof(h->fail[0].detail), "out of memory");
		return;
	}
	h->status = hr->status;
	memcpy(h->vector, hr->vector, sizeof(h->vector));
	h->nfail = hr->nfail;
	memcpy(h->fail, hr->fail, sizeof(h->fail));
	h->entries = hr->events;
}

/* The host's evidence, appraised on its own (verify_host.h) into res->host. */
static void host_appraise(struct verify_ctx *ctx, struct verify_result *res)
{
	struct verify_host_policy pol = host_policy(ctx);
	struct verify_result *hr = malloc(sizeof(*hr));

	if (hr)
		verify_host(&pol, &ctx->w.b.host, &ctx->w.b, hr);
	host_result_copy(&res->host, hr);
	free(hr);
}

/* The migration of the chain whose stream is hex, not yet claimed: its index, or 0. */
static uint32_t hop_link(const struct verify_result *res, const char *hex, const uint32_t *taken)
{
	for (size_t i = 1; i < res->nchain && i < ARRAY_SIZE(res->chain); i++)
		if (res->chain[i].migrated && !taken[i] && !strcmp(res->chain[i].snapshot, hex))
			return (uint32_t)i;
	return 0;
}

/*
 * Issue 18: each "migrations" entry is the source host of one migration
 * event of the log (by the stream's SHA-256), appraised as a host; each
 * migration without one is host-evidence-missing (a warning) when the
 * manifest requires host evidence.
 */
static void hops_appraise(struct verify_ctx *ctx, struct verify_result *res)
{
	struct verify_host_policy pol = host_policy(ctx);
	uint32_t taken[ARRAY_SIZE(res->chain)] = { 0 };
	struct verify_result *hr = malloc(sizeof(*hr));
	char what[96];

	res->nhops = ctx->w.b.nhops;
	for (size_t i = 0; i < res->nhops && i < BUNDLE_MAX_HOPS; i++) {
		struct verify_hop_result *h = &res->hops[i];

		hex_encode(ctx->w.b.hops[i].stream_sha256, 32, h->stream);
		h->link = hop_link(res, h->stream, taken);
		taken[h->link] = h->link != 0;
		snprintf(what, sizeof(what), "host at migration %u (stream %.16s)", h->link,
			 h->stream);
		if (hr)
			verify_host_hop(&pol, &ctx->w.b.hops[i], what, hr);
		if (hr && !h->link) {
			verify_fail(hr, VR_HOP_NOT_IN_LOG, "hop %zu: no migration event of the log "
				    "has stream %.16s...", i + 1, h->stream);
			verify_result_finish(hr);
		}
		host_result_copy(&h->r, hr);
	}
	free(hr);
	for (size_t i = 1; ctx->m->host_required && i < res->nchain && i < ARRAY_SIZE(res->chain);
	     i++)
		if (res->chain[i].migrated && !taken[i])
			verify_fail(res, VR_HOST_MISSING, "migration %zu from %s: no host evidence "
				    "of the source (the manifest requires it)", i,
				    res->chain[i].source);
}

enum verify_status verify_bundle(struct verify_ctx *ctx, const uint8_t *buf, size_t len,
				 struct verify_result *res)
{
	struct verify_work *w = &ctx->w;
	struct bundle_error err;

	memset(res, 0, sizeof(*res));
	work_reset(w);
	if (bundle_parse(buf, len, &w->b, &err)) {
		verify_fail(res, parse_reason(err.code), "%s", err.msg);
		return res->status;
	}
	result_from_bundle(res, &w->b);
	/* Each stage records its own failures; a stage that cannot go on
	 * returns non-zero and the stages depending on it are skipped. */
	if (!verify_certs(ctx, res) && !verify_quote(ctx, res) && !verify_log(ctx, res))
		verify_references(ctx, res);
	else if (!res->nfail)
		verify_fail(res, VR_INTERNAL, "a stage stopped without a reason");
	/* Warnings: last, so that any contradiction stays the primary reason. */
	if (res->clock_known && !res->clock_safe)
		verify_fail(res, VR_CLOCK_UNSAFE, "the vTPM's clock may have run backwards (a "
			    "TPM reset without an orderly shutdown): its quotes have no order by clock");
	if (w->b.version != BUNDLE_VERSION_HOST && ctx->m->host_required)
		verify_fail(res, VR_HOST_MISSING, "no host evidence: nothing shows what the host "
			    "ran (the manifest requires it)");
	hops_appraise(ctx, res);
	verify_result_finish(res);
	if (w->b.version == BUNDLE_VERSION_HOST)
		host_appraise(ctx, res);
	work_reset(w);
	return verify_result_worst(res);
}

enum verify_status verify_result_worst(const struct verify_result *res)
{
	enum verify_status s = res->status;

	if (res->host.present && res->host.status > s)
		s = res->host.status;
	for (size_t i = 0; i < res->nhops && i < BUNDLE_MAX_HOPS; i++)
		if (res->hops[i].r.status > s)
			s = res->hops[i].r.status;
	return s;
}
