/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who signed the quote.  The EK certificate chains to a trusted EK CA (the
 * vTPM is one we manufactured); the AK certificate chains to a trusted
 * attestation CA, which issued it only after credential activation proved
 * the AK lives in the TPM holding that EK, and says so in its subjectAltName:
 *   urn:bulwark:ak-name:HEX          the AK's TPM Name (binds its attributes)
 *   urn:bulwark:ek-spki-sha256:HEX   SHA-256 of the EK's SubjectPublicKeyInfo
 *   urn:uuid:UUID                    the guest (and CN = the guest's name)
 * The bundle's TPMT_PUBLIC must hash to that Name and hold the certified key
 * with the attributes of an attestation key.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "attest/verify/verify_priv.h"
#include "core/util.h"

static int chain_key(const char *tag, const struct bundle_chain *c, uint8_t key[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, verify_md(TPM2_ALG_SHA256), NULL) &&
		 EVP_DigestUpdate(md, tag, strlen(tag) + 1) &&
		 EVP_DigestUpdate(md, &c->cert.len, sizeof(c->cert.len)) &&
		 EVP_DigestUpdate(md, c->cert.data, c->cert.len);

	for (size_t i = 0; ok && i < c->nchain; i++)
		ok = EVP_DigestUpdate(md, &c->chain[i].len, sizeof(c->chain[i].len)) &&
		     EVP_DigestUpdate(md, c->chain[i].data, c->chain[i].len);
	ok = ok && EVP_DigestFinal_ex(md, key, NULL);
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

static X509 *der_cert(const struct bundle_blob *b)
{
	const unsigned char *p = b->data;
	X509 *x = d2i_X509(NULL, &p, (long)b->len);

	if (x && p != b->data + b->len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The OpenSSL verdict on leaf + intermediates against store. */
static int chain_check(struct verify_ctx *ctx, X509_STORE *store, X509 *leaf,
		       const struct bundle_chain *c, char *why, size_t cap)
{
	STACK_OF(X509) *mid = sk_X509_new_null();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int ok = mid && sc;

	for (size_t i = 0; ok && i < c->nchain; i++) {
		X509 *x = der_cert(&c->chain[i]);

		ok = x && sk_X509_push(mid, x);
		if (!ok)
			X509_free(x);
	}
	ok = ok && X509_STORE_CTX_init(sc, store, leaf, mid) == 1;
	if (ok && ctx->at)
		X509_STORE_CTX_set_time(sc, 0, ctx->at);
	if (ok && X509_verify_cert(sc) != 1) {
		snprintf(why, cap, "%s", X509_verify_cert_error_string(
			 X509_STORE_CTX_get_error(sc)));
		ok = 0;
	} else if (!ok) {
		snprintf(why, cap, "intermediate certificate malformed");
	}
	X509_STORE_CTX_free(sc);
	sk_X509_pop_free(mid, X509_free);
	return ok ? 0 : -1;
}

/* Parses the leaf into *leaf; 0 when the chain verifies (cached per chain). */
static int chain_verify(struct verify_ctx *ctx, X509_STORE *store, const char *tag,
			const struct bundle_chain *c, X509 **leaf, char *why, size_t cap)
{
	struct verify_cached_chain *e;
	uint8_t key[32];

	*leaf = der_cert(&c->cert);
	if (!*leaf || chain_key(tag, c, key)) {
		snprintf(why, cap, "certificate malformed");
		return -1;
	}
	for (size_t i = 0; i < ctx->ncache; i++)
		if (!memcmp(ctx->cache[i].key, key, sizeof(key))) {
			snprintf(why, cap, "certificate chain rejected (cached verdict)");
			return ctx->cache[i].ok ? 0 : -1;
		}
	e = &ctx->cache[ctx->cache_next];
	ctx->cache_next = (ctx->cache_next + 1) % ARRAY_SIZE(ctx->cache);
	if (ctx->ncache < ARRAY_SIZE(ctx->cache))
		ctx->ncache++;
	memcpy(e->key, key, sizeof(key));
	e->ok = !chain_check(ctx, store, *leaf, c, why, cap);
	return e->ok ? 0 : -1;
}

/* The value of the AK certificate's "urn:..." SAN with this prefix. */
int verify_san_uri(X509 *x, const char *prefix, char *out, size_t cap)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t plen = strlen(prefix);
	int found = 0;

	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *s;
		size_t n;

		if (g->type != GEN_URI)
			continue;
		s = (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		n = (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier);
		if (n <= plen || n - plen >= cap || memcmp(s, prefix, plen) ||
		    memchr(s, 0, n))
			continue;
		found++;
		memcpy(out, s + plen, n - plen);
		out[n - plen] = '\0';
	}
	GENERAL_NAMES_free(gens);
	return found == 1 ? 0 : -1;    /* absent or ambiguous: no binding */
}

static int spki_hex(X509 *x, char out[65])
{
	unsigned char *der = NULL;
	uint8_t h[32];
	int n = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	int ok = n > 0 && EVP_Digest(der, (size_t)n, h, NULL, verify_md(TPM2_ALG_SHA256), NULL);

	OPENSSL_free(der);
	if (!ok)
		return -1;
	bundle_hex_encode(h, sizeof(h), out);
	return 0;
}

static void check_binding(struct verify_work *w, struct verify_result *res)
{
	char want[65], got[80], cn[BUNDLE_NAME_MAX + 2] = "";

	if (!w->ek_cert || verify_san_uri(w->ak_cert, VERIFY_AK_SAN_EK, got, sizeof(got)) ||
	    spki_hex(w->ek_cert, want) || strcmp(want, got))
		verify_fail(res, VR_AK_EK_BINDING, "AK certificate names another EK (or none)");
	else
		memcpy(res->ek_spki, want, sizeof(res->ek_spki));
	X509_NAME_get_text_by_NID(X509_get_subject_name(w->ak_cert), NID_commonName, cn,
				  sizeof(cn));
	snprintf(res->ak_subject, sizeof(res->ak_subject), "CN=%s", cn);
	if (verify_san_uri(w->ak_cert, VERIFY_AK_SAN_UUID, got, sizeof(got)) ||
	    strcmp(got, w->b.uuid) || strcmp(cn, w->b.name))
		verify_fail(res, VR_GUEST_IDENTITY,
			    "bundle says %s (%s), AK certificate says otherwise", w->b.name,
			    w->b.uuid);
}

static int digest_blob(EVP_MD_CTX *md, const struct bundle_blob *b)
{
	return EVP_DigestUpdate(md, &b->len, sizeof(b->len)) &&
	       EVP_DigestUpdate(md, b->data, b->len);
}

/* SHA-256 over everything the certificate stage looks at. */
static int identity_key(const struct bundle *b, uint8_t key[32])
{
	const struct bundle_chain *c[] = { &b->ak, &b->ek };
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, verify_md(TPM2_ALG_SHA256), NULL) &&
		 EVP_DigestUpdate(md, b->name, sizeof(b->name)) &&
		 EVP_DigestUpdate(md, b->uuid, sizeof(b->uuid)) &&
		 digest_blob(md, &b->ak_public);

	for (size_t i = 0; ok && i < ARRAY_SIZE(c); i++) {
		ok = EVP_DigestUpdate(md, &c[i]->nchain, sizeof(c[i]->nchain)) &&
		     digest_blob(md, &c[i]->cert);
		for (size_t j = 0; ok && j < c[i]->nchain; j++)
			ok = digest_blob(md, &c[i]->chain[j]);
	}
	ok = ok && EVP_DigestFinal_ex(md, key, NULL);
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

static int identity_cached(struct verify_ctx *ctx, const uint8_t key[32],
			   struct verify_result *res)
{
	for (size_t i = 0; i < ctx->nids; i++) {
		const struct verify_cached_identity *id = &ctx->ids[i];

		if (memcmp(id->key, key, 32) || EVP_PKEY_up_ref(id->ak_key) != 1)
			continue;
		ctx->w.ak_key = id->ak_key;
		ctx->w.ak_public = id->ak_public;
		memcpy(res->ak_subject, id->ak_subject, sizeof(res->ak_subject));
		memcpy(res->ek_spki, id->ek_spki, sizeof(res->ek_spki));
		return 1;
	}
	return 0;
}

static void identity_remember(struct verify_ctx *ctx, const uint8_t key[32],
			      const struct verify_result *res)
{
	struct verify_cached_identity *id = &ctx->ids[ctx->ids_next];

	if (EVP_PKEY_up_ref(ctx->w.ak_key) != 1)
		return;
	if (ctx->nids == ARRAY_SIZE(ctx->ids))
		EVP_PKEY_free(id->ak_key);
	else
		ctx->nids++;
	ctx->ids_next = (ctx->ids_next + 1) % ARRAY_SIZE(ctx->ids);
	memcpy(id->key, key, 32);
	id->ak_public = ctx->w.ak_public;
	id->ak_key = ctx->w.ak_key;
	memcpy(id->ak_subject, res->ak_subject, sizeof(id->ak_subject));
	memcpy(id->ek_spki, res->ek_spki, sizeof(id->ek_spki));
}

static int certs_check(struct verify_ctx *ctx, struct verify_result *res)
{
	struct verify_work *w = &ctx->w;
	char why[128] = "";

	if (chain_verify(ctx, ctx->ek_store, "ek", &w->b.ek, &w->ek_cert, why, sizeof(why)))
		verify_fail(res, VR_EK_CHAIN, "EK certificate: %s", why);
	if (chain_verify(ctx, ctx->ak_store, "ak", &w->b.ak, &w->ak_cert, why, sizeof(why))) {
		verify_fail(res, VR_AK_CHAIN, "AK certificate: %s", why);
		if (!w->ak_cert)
			return -1;
	}
	check_binding(w, res);
	return verify_ak_public(w, res);
}

int verify_certs(struct verify_ctx *ctx, struct verify_result *res)
{
	size_t before = res->nfail;
	uint8_t key[32];
	int rc, keyed = !identity_key(&ctx->w.b, key);

	if (keyed && identity_cached(ctx, key, res))
		return 0;
	rc = certs_check(ctx, res);
	if (!rc && keyed && res->nfail == before)
		identity_remember(ctx, key, res);
	return rc;
}
