/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's appraisal (verify_host.h): chain, AK, quote, binding, PCR 10,
 * IMA replay, allowlist.  Pure computation on bytes, like the rest of the
 * verifier: libcrypto and tss2-mu, no TPM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "attest/format/imalog.h"
#include "attest/verify/verify_host.h"
#include "attest/verify/verify_priv.h"
#include "core/util.h"

#define HOST_AK_ATTRS (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
		       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED | \
		       TPMA_OBJECT_SIGN_ENCRYPT)

/* What the stages share. */
struct host_work {
	X509 *ak_cert, *ek_cert;
	EVP_PKEY *ak_key;
	TPMT_PUBLIC ak_public;
	TPMS_ATTEST attest;
};

static X509 *host_der_cert(const struct bundle_blob *b)
{
	const unsigned char *p = b->data;
	X509 *x = b->data ? d2i_X509(NULL, &p, (long)b->len) : NULL;

	if (x && p != b->data + b->len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The leaf of c into *leaf; 0 if it chains to store at pol->at, else -1 (why). */
static int host_chain(const struct verify_host_policy *pol, X509_STORE *store,
		      const struct bundle_chain *c, X509 **leaf, char *why, size_t cap)
{
	STACK_OF(X509) *mid = sk_X509_new_null();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int ok = mid && sc && store && (*leaf = host_der_cert(&c->cert)) != NULL;

	snprintf(why, cap, "certificate malformed");
	for (size_t i = 0; ok && i < c->nchain && i < BUNDLE_MAX_CHAIN; i++) {
		X509 *x = host_der_cert(&c->chain[i]);

		ok = x && sk_X509_push(mid, x);
		if (!ok)
			X509_free(x);
	}
	ok = ok && X509_STORE_CTX_init(sc, store, *leaf, mid) == 1;
	if (ok && pol->at)
		X509_STORE_CTX_set_time(sc, 0, pol->at);
	if (ok && X509_verify_cert(sc) != 1) {
		snprintf(why, cap, "%s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
		ok = 0;
	}
	X509_STORE_CTX_free(sc);
	sk_X509_pop_free(mid, X509_free);
	return ok ? 0 : -1;
}

/* SHA-256 of x's SubjectPublicKeyInfo, hex. */
static int host_spki_hex(X509 *x, char out[65])
{
	unsigned char *der = NULL;
	uint8_t h[32];
	int n = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	int ok = n > 0 && EVP_Digest(der, (size_t)n, h, NULL, EVP_sha256(), NULL);

	OPENSSL_free(der);
	if (ok)
		hex_encode(h, sizeof(h), out);
	return ok ? 0 : -1;
}

/* The AK's Name (nameAlg || H(TPMT_PUBLIC)) in hex, as certified in its SAN. */
static int host_ak_name_ok(const struct bundle_blob *pub, const TPMT_PUBLIC *p, X509 *cert)
{
	char name[2 * (2 + EVP_MAX_MD_SIZE) + 1], certified[sizeof(name)];
	uint8_t raw[2 + EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const EVP_MD *md = verify_md(p->nameAlg);

	if (!md || !EVP_Digest(pub->data, pub->len, raw + 2, &n, md, NULL))
		return 0;
	raw[0] = (uint8_t)(p->nameAlg >> 8);
	raw[1] = (uint8_t)p->nameAlg;
	hex_encode(raw, 2 + n, name);
	return !verify_san_uri(cert, VERIFY_AK_SAN_NAME, certified, sizeof(certified)) &&
	       !strcmp(name, certified);
}

/* The AK's policy: the certified host UUID's, with locality 3 (a swtpm host
 * TPM) or without (a hardware TPM: verify_host_ak_policy). */
static int host_policy_ok(const TPMT_PUBLIC *p, X509 *cert)
{
	uint8_t a[32], b[32];
	char uuid[40];

	if (verify_san_uri(cert, VERIFY_AK_SAN_UUID, uuid, sizeof(uuid)) ||
	    verify_ak_policy(uuid, a) || verify_host_ak_policy(uuid, b) ||
	    p->authPolicy.size != 32)
		return 0;
	return !memcmp(p->authPolicy.buffer, a, 32) || !memcmp(p->authPolicy.buffer, b, 32);
}

/* Chains, AK bound to the EK, AK public area = the certified key.  0 or -1 (stop). */
static int host_certs(const struct verify_host_policy *pol, const struct bundle_host *h,
		      struct host_work *w, struct verify_result *res)
{
	char why[120], got[80], want[65];
	EVP_PKEY *tk = NULL;
	size_t off = 0;

	if (host_chain(pol, pol->ek_store, &h->ek, &w->ek_cert, why, sizeof(why)))
		verify_fail(res, VR_HOST_EK_CHAIN, "host EK certificate: %s", why);
	if (host_chain(pol, pol->ak_store, &h->ak, &w->ak_cert, why, sizeof(why))) {
		verify_fail(res, VR_HOST_AK_CHAIN, "host AK certificate: %s", why);
		if (!w->ak_cert)
			return -1;
	}
	if (!w->ek_cert || verify_san_uri(w->ak_cert, VERIFY_AK_SAN_EK, got, sizeof(got)) ||
	    host_spki_hex(w->ek_cert, want) || strcmp(got, want))
		verify_fail(res, VR_HOST_AK_EK_BINDING, "host AK certificate names another EK");
	w->ak_key = X509_get_pubkey(w->ak_cert);
	if (!w->ak_key || Tss2_MU_TPMT_PUBLIC_Unmarshal(h->ak_public.data, h->ak_public.len,
							&off, &w->ak_public) ||
	    off != h->ak_public.len) {
		verify_fail(res, VR_HOST_AK_PUBLIC, "host AK public area malformed");
		return -1;
	}
	if ((w->ak_public.objectAttributes & HOST_AK_ATTRS) != HOST_AK_ATTRS ||
	    (w->ak_public.objectAttributes & TPMA_OBJECT_DECRYPT))
		verify_fail(res, VR_HOST_AK_PUBLIC, "host AK is not a restricted TPM signing key");
	if (!host_ak_name_ok(&h->ak_public, &w->ak_public, w->ak_cert))
		verify_fail(res, VR_HOST_AK_PUBLIC, "host AK public area is not the certified one");
	tk = verify_tpm_pkey(&w->ak_public);
	if (!tk || EVP_PKEY_eq(tk, w->ak_key) != 1)
		verify_fail(res, VR_HOST_AK_PUBLIC, "host AK key differs from its certificate's");
	EVP_PKEY_free(tk);
	if (!host_policy_ok(&w->ak_public, w->ak_cert))
		verify_fail(res, VR_HOST_AK_PUBLIC, "host AK policy is not the certified host's");
	return 0;
}

/* The selection is exactly PCR 10 of h->pcr_alg, its digest H(value). */
static void host_pcrs(const struct bundle_host *h, const struct host_work *w, uint16_t hash,
		      struct verify_result *res)
{
	const TPML_PCR_SELECTION *sel = &w->attest.attested.quote.pcrSelect;
	const TPM2B_DIGEST *qd = &w->attest.attested.quote.pcrDigest;
	uint16_t size = evlog_alg_size(h->pcr_alg);
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int only10 = sel->count == 1 && sel->pcrSelections[0].hash == h->pcr_alg &&
		     sel->pcrSelections[0].sizeofSelect >= 2 &&
		     sel->pcrSelections[0].pcrSelect[1] == 0x04 &&
		     sel->pcrSelections[0].pcrSelect[0] == 0;

	for (uint8_t i = 2; only10 && i < sel->pcrSelections[0].sizeofSelect; i++)
		only10 = !sel->pcrSelections[0].pcrSelect[i];
	if (!only10 || !size) {
		verify_fail(res, VR_HOST_PCR, "host quote does not select PCR 10 of %s alone",
			    evlog_alg_name(h->pcr_alg) ? evlog_alg_name(h->pcr_alg) : "?");
		return;
	}
	if (!verify_md(hash) || !EVP_Digest(h->pcr10, size, d, &n, verify_md(hash), NULL) ||
	    qd->size != n || memcmp(qd->buffer, d, n))
		verify_fail(res, VR_HOST_PCR, "host PCR 10 is not the value the host TPM quoted");
}

/* TPMS_ATTEST, signature, binding to the guest quote, PCR 10.  0 or -1 (stop). */
static int host_quote(const struct bundle_host *h, const struct bundle *g,
		      struct host_work *w, struct verify_result *res)
{
	uint8_t bind[BUNDLE_HOST_BINDING_LEN];
	const TPM2B_DATA *xd = &w->attest.extraData;
	uint16_t hash = 0;
	size_t off = 0;

	if (Tss2_MU_TPMS_ATTEST_Unmarshal(h->attest.data, h->attest.len, &off, &w->attest) ||
	    off != h->attest.len || w->attest.magic != TPM2_GENERATED_VALUE ||
	    w->attest.type != TPM2_ST_ATTEST_QUOTE) {
		verify_fail(res, VR_HOST_QUOTE_MALFORMED,
			    "host TPMS_ATTEST malformed, not TPM-generated or not a quote");
		return -1;
	}
	if (verify_tpm_signature(&w->ak_public, w->ak_key, &h->signature, &h->attest, &hash))
		verify_fail(res, VR_HOST_SIGNATURE, "host quote not signed by the host AK");
	if (bundle_host_binding(g, bind)) {
		verify_fail(res, VR_INTERNAL, "binding digest");
		return -1;
	}
	if (xd->size != sizeof(bind) || memcmp(xd->buffer, bind, sizeof(bind)))
		verify_fail(res, VR_HOST_BINDING,
			    "host quote's qualifying data does not bind this guest quote and nonce");
	else
		res->fresh = 1;   /* as fresh as the guest quote it binds */
	host_pcrs(h, w, hash ? hash : TPM2_ALG_SHA256, res);
	return 0;
}

/* Is (path, alg, digest) on the sorted allowlist? */
static int host_allowed(const struct verify_host_policy *pol, const struct imalog_entry *e)
{
	return host_allow_find(pol->allow, pol->nallow, e->path, e->file_alg, e->file_digest,
			       e->file_digest_size);
}

/* Every entry of the list: allowed, or named; violations counted. */
static void host_allowlist(const struct verify_host_policy *pol, const struct bundle_host *h,
			   struct verify_result *res)
{
	struct imalog_parser p;
	struct imalog_entry e;
	uint32_t violations = 0, refused = 0;
	char hex[2 * EVLOG_MAX_DIGEST + 1];

	if (imalog_parse_begin(&p, h->ima_log.data, h->ima_log.len))
		return;
	while (imalog_parse_next(&p, &e) == 1) {
		if (e.violation) {
			violations++;
			continue;
		}
		if (host_allowed(pol, &e))
			continue;
		if (refused++ < VERIFY_MAX_FAILURES / 2) {
			hex_encode(e.file_digest, e.file_digest_size, hex);
			verify_fail(res, VR_HOST_FILE, "%.100s %s:%.16s... (entry %u)", e.path,
				    evlog_alg_name(e.file_alg), hex, e.index);
		}
	}
	if (refused > VERIFY_MAX_FAILURES / 2)
		verify_fail(res, VR_HOST_FILE, "%u files not allowed in all", refused);
	if (violations)
		verify_fail(res, VR_HOST_IMA_VIOLATION, "IMA recorded %u violation(s): a file "
			    "measured while open for writing (names not bound)", violations);
}

/* The list replays to the quoted PCR 10; then its files against the allowlist. */
static void host_ima(const struct verify_host_policy *pol, const struct bundle_host *h,
		     struct verify_result *res)
{
	struct evlog_digest pcr;
	struct evlog_error err;
	char msg[160];
	int rc = imalog_replay(h->ima_log.data, h->ima_log.len, h->pcr_alg, &pcr,
			       &res->events, &err);

	if (rc == -EBADMSG) {
		evlog_strerror(&err, msg, sizeof(msg));
		verify_fail(res, VR_HOST_IMA_MALFORMED, "host IMA list: %s", msg);
		return;
	}
	if (rc) {
		verify_fail(res, VR_HOST_IMA_MALFORMED, "host IMA list: bank %04x (%d)",
			    h->pcr_alg, rc);
		return;
	}
	if (memcmp(pcr.bytes, h->pcr10, pcr.size))
		verify_fail(res, VR_HOST_IMA_REPLAY, "host IMA list (%u entries) does not replay "
			    "to the quoted PCR 10", res->events);
	host_allowlist(pol, h, res);
}

enum verify_status verify_host(const struct verify_host_policy *pol,
			       const struct bundle_host *h, const struct bundle *g,
			       struct verify_result *res)
{
	struct host_work w;

	memset(res, 0, sizeof(*res));
	memset(&w, 0, sizeof(w));
	snprintf(res->name, sizeof(res->name), "host");
	if (!host_certs(pol, h, &w, res) && !host_quote(h, g, &w, res))
		host_ima(pol, h, res);
	else if (!res->nfail)
		verify_fail(res, VR_INTERNAL, "a host stage stopped without a reason");
	verify_result_finish(res);
	EVP_PKEY_free(w.ak_key);
	X509_free(w.ak_cert);
	X509_free(w.ek_cert);
	return res->status;
}
