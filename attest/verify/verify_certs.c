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

/* Verdicts of a chain (cached per chain). */
enum chain_verdict { CHAIN_OK, CHAIN_UNTRUSTED, CHAIN_SPARE, CHAIN_WEAK };

/* SHA-1 and older digests: collisions are practical, so no signature in a
 * chain may use them (the bundle is kept for years). */
static int weak_signature(X509 *x)
{
	int md = NID_undef, pk = NID_undef;

	if (!X509_get_signature_info(x, &md, &pk, NULL, NULL))
		return 1;
	if (md == NID_undef)      /* only EdDSA hashes inside the scheme */
		return pk != NID_ED25519 && pk != NID_ED448;
	return md == NID_sha1 || md == NID_md5 || md == NID_md4 || md == NID_mdc2 ||
	       md == NID_md5_sha1;
}

/*
 * The intermediates given are exactly the path's, in its order, without its
 * trust anchor (a spare, repeated or reordered certificate, or the anchor,
 * is another encoding of one piece of evidence); no signature in the path
 * is SHA-1 or weaker.
 */
static enum chain_verdict path_check(X509_STORE_CTX *sc, STACK_OF(X509) *mid, char *why,
				     size_t cap)
{
	STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(sc);
	int n = sk_X509_num(mid);

	for (int i = 0; i < sk_X509_num(path); i++)
		if (weak_signature(sk_X509_value(path, i))) {
			snprintf(why, cap, "certificate %d of the path has a SHA-1 or weaker "
				 "signature", i);
			return CHAIN_WEAK;
		}
	for (int i = 0; i < n; i++)
		if (i + 2 >= sk_X509_num(path) ||        /* the anchor is never in a bundle */
		    X509_cmp(sk_X509_value(path, i + 1), sk_X509_value(mid, i))) {
			snprintf(why, cap, "chain certificate %d is not the path's certificate %d "
				 "(spare, repeated or out of order)", i + 1, i + 1);
			return CHAIN_SPARE;
		}
	return CHAIN_OK;
}

/* The OpenSSL verdict on leaf + intermediates against store, then the path. */
static enum chain_verdict chain_check(struct verify_ctx *ctx, X509_STORE *store, X509 *leaf,
				      const struct bundle_chain *c, char *why, size_t cap)
{
	STACK_OF(X509) *mid = sk_X509_new_null();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	enum chain_verdict v = CHAIN_UNTRUSTED;
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
	if (ok && X509_verify_cert(sc) != 1)
		snprintf(why, cap, "%s", X509_verify_cert_error_string(
			 X509_STORE_CTX_get_error(sc)));
	else if (!ok)
		snprintf(why, cap, "intermediate certificate malformed");
	else
		v = path_check(sc, mid, why, cap);
	X509_STORE_CTX_free(sc);
	sk_X509_pop_free(mid, X509_free);
	return v;
}

/* Parses the leaf into *leaf; the chain's verdict (cached per chain). */
static enum chain_verdict chain_verify(struct verify_ctx *ctx, X509_STORE *store,
				       const char *tag, const struct bundle_chain *c,
				       X509 **leaf, char *why, size_t cap)
{
	struct verify_cached_chain *e;
	uint8_t key[32];

	*leaf = der_cert(&c->cert);
	if (!*leaf || chain_key(tag, c, key)) {
		snprintf(why, cap, "certificate malformed");
		return CHAIN_UNTRUSTED;
	}
	for (size_t i = 0; i < ctx->ncache; i++)
		if (!memcmp(ctx->cache[i].key, key, sizeof(key))) {
			snprintf(why, cap, "certificate chain rejected (cached verdict)");
			return (enum chain_verdict)ctx->cache[i].verdict;
		}
	e = &ctx->cache[ctx->cache_next];
	ctx->cache_next = (ctx->cache_next + 1) % ARRAY_SIZE(ctx->cache);
	if (ctx->ncache < ARRAY_SIZE(ctx->cache))
		ctx->ncache++;
	memcpy(e->key, key, sizeof(key));
	e->verdict = (int)chain_check(ctx, store, *leaf, c, why, cap);
	return (enum chain_verdict)e->verdict;
}

/* A name's every entry, as UTF-8, holds no NUL and no control byte. */
static int name_clean(const X509_NAME *n)
{
	for (int i = 0; i < X509_NAME_entry_count(n); i++) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
		unsigned char *u = NULL;
		int len = ASN1_STRING_to_UTF8(&u, v), ok = len >= 0;

		for (int j = 0; ok && j < len; j++)
			ok = u[j] >= 0x20 && u[j] != 0x7f;
		OPENSSL_free(u);
		if (!ok)
			return 0;
	}
	return 1;
}

/* Subject and issuer of the leaf and of every intermediate of a chain. */
static int chain_names_clean(X509 *leaf, const struct bundle_chain *c)
{
	int ok = name_clean(X509_get_subject_name(leaf)) && name_clean(X509_get_issuer_name(leaf));

	for (size_t i = 0; ok && i < c->nchain; i++) {
		X509 *x = der_cert(&c->chain[i]);

		ok = !x || (name_clean(X509_get_subject_name(x)) &&
			    name_clean(X509_get_issuer_name(x)));
		X509_free(x);
	}
	return ok;
}

/* Every subjectAltName of the AK certificate is a URI of printable ASCII
 * (none at all is for the binding checks to refuse). */
static int san_clean(X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int ok = 1;

	for (int i = 0; ok && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *s;
		int n;

		ok = g->type == GEN_URI;
		s = ok ? ASN1_STRING_get0_data(g->d.uniformResourceIdentifier) : NULL;
		n = ok ? ASN1_STRING_length(g->d.uniformResourceIdentifier) : 0;
		for (int j = 0; ok && j < n; j++)
			ok = s[j] > 0x20 && s[j] < 0x7f;
	}
	GENERAL_NAMES_free(gens);
	return ok;
}

/* EKU absent, or only tcg-kp-AIKCertificate (2.23.133.8.3). */
static int eku_ok(X509 *x)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	ASN1_OBJECT *aik = OBJ_txt2obj("2.23.133.8.3", 1);
	int ok = aik && (eku || X509_get_ext_by_NID(x, NID_ext_key_usage, -1) < 0);

	for (int i = 0; ok && eku && i < sk_ASN1_OBJECT_num(eku); i++)
		ok = !OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), aik);
	ASN1_OBJECT_free(aik);
	EXTENDED_KEY_USAGE_free(eku);
	return ok;
}

/*
 * BUNDLE.md's AK certificate profile: X.509 v3, basicConstraints CA:FALSE,
 * keyUsage digitalSignature and nothing else, no EKU but the TCG AK one,
 * exactly one CN.  NULL or what is wrong.
 */
static const char *ak_profile(X509 *x)
{
	const X509_NAME *subj = X509_get_subject_name(x);
	uint32_t flags = X509_get_extension_flags(x);
	int cn = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);

	if (X509_get_version(x) != X509_VERSION_3)
		return "not X.509 v3";
	if (!(flags & EXFLAG_BCONS) || (flags & EXFLAG_CA))
		return "not basicConstraints CA:FALSE";
	if (!(flags & EXFLAG_KUSAGE) || X509_get_key_usage(x) != KU_DIGITAL_SIGNATURE)
		return "keyUsage is not digitalSignature alone";
	if (!eku_ok(x))
		return "an extended key usage other than tcg-kp-AIKCertificate";
	if (cn < 0 || X509_NAME_get_index_by_NID(subj, NID_commonName, cn) >= 0)
		return "not exactly one commonName";
	return NULL;
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
	hex_encode(h, sizeof(h), out);
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

static void chain_fail(struct verify_result *res, enum chain_verdict v, enum verify_reason untrusted,
		       const char *which, const char *why)
{
	static const enum verify_reason reason[] = { [CHAIN_SPARE] = VR_BUNDLE_NOT_CANONICAL,
						     [CHAIN_WEAK] = VR_CERT_WEAK_SIGNATURE };

	if (v != CHAIN_OK)
		verify_fail(res, v == CHAIN_UNTRUSTED ? untrusted : reason[v], "%s certificate: %s",
			    which, why);
}

static int certs_check(struct verify_ctx *ctx, struct verify_result *res)
{
	struct verify_work *w = &ctx->w;
	char why[128] = "";
	const char *bad;

	chain_fail(res, chain_verify(ctx, ctx->ek_store, "ek", &w->b.ek, &w->ek_cert, why,
				     sizeof(why)), VR_EK_CHAIN, "EK", why);
	if (w->ek_cert && !chain_names_clean(w->ek_cert, &w->b.ek))
		verify_fail(res, VR_CERT_NAME, "a name in the EK chain holds a NUL or control byte");
	chain_fail(res, chain_verify(ctx, ctx->ak_store, "ak", &w->b.ak, &w->ak_cert, why,
				     sizeof(why)), VR_AK_CHAIN, "AK", why);
	if (!w->ak_cert)
		return -1;
	if (!chain_names_clean(w->ak_cert, &w->b.ak) || !san_clean(w->ak_cert))
		verify_fail(res, VR_CERT_NAME, "a name in the AK chain holds a NUL or control byte");
	if ((bad = ak_profile(w->ak_cert)))
		verify_fail(res, VR_AK_CERT_PROFILE, "AK certificate: %s", bad);
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
