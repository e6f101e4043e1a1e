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

/*
 * One host quote as the stages see it: the bundle's (bound to the guest
 * quote) or the one made at enrollment (bound to the guest AK's Name), each
 * with its own reasons.
 */
struct host_codes {
	enum verify_reason malformed, signature, binding, pcr, ima_malformed, ima_replay, file;
	const char *what;                 /* "host", "host enrollment" */
	const char *unbound;              /* the binding's failure */
};

struct host_view {
	const struct bundle_blob *attest, *signature, *ima_log;
	const uint8_t *pcr10;
	uint16_t pcr_alg;
	const struct host_codes *c;
	TPMS_ATTEST a;
};

static const struct host_codes host_quote_codes = {
	VR_HOST_QUOTE_MALFORMED, VR_HOST_SIGNATURE, VR_HOST_BINDING, VR_HOST_PCR,
	VR_HOST_IMA_MALFORMED, VR_HOST_IMA_REPLAY, VR_HOST_FILE, "host",
	"host quote's qualifying data does not bind this guest quote and nonce"
};

static const struct host_codes host_enroll_codes = {
	VR_HOST_ENROLL_MALFORMED, VR_HOST_ENROLL_SIGNATURE, VR_HOST_ENROLL_BINDING,
	VR_HOST_ENROLL_PCR, VR_HOST_ENROLL_IMA_MALFORMED, VR_HOST_ENROLL_IMA_REPLAY,
	VR_HOST_ENROLL_FILE, "host enrollment",
	"host enrollment quote does not bind this guest's AK Name"
};

/* The selection is exactly PCR 10 of v->pcr_alg, its digest H(value). */
static void host_pcrs(const struct host_view *v, uint16_t hash, struct verify_result *res)
{
	const TPML_PCR_SELECTION *sel = &v->a.attested.quote.pcrSelect;
	const TPM2B_DIGEST *qd = &v->a.attested.quote.pcrDigest;
	uint16_t size = evlog_alg_size(v->pcr_alg);
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int only10 = sel->count == 1 && sel->pcrSelections[0].hash == v->pcr_alg &&
		     sel->pcrSelections[0].sizeofSelect >= 2 &&
		     sel->pcrSelections[0].pcrSelect[1] == 0x04 &&
		     sel->pcrSelections[0].pcrSelect[0] == 0;

	for (uint8_t i = 2; only10 && i < sel->pcrSelections[0].sizeofSelect; i++)
		only10 = !sel->pcrSelections[0].pcrSelect[i];
	if (!only10 || !size) {
		verify_fail(res, v->c->pcr, "%s quote does not select PCR 10 of %s alone",
			    v->c->what, evlog_alg_name(v->pcr_alg) ? evlog_alg_name(v->pcr_alg) : "?");
		return;
	}
	if (!verify_md(hash) || !EVP_Digest(v->pcr10, size, d, &n, verify_md(hash), NULL) ||
	    qd->size != n || memcmp(qd->buffer, d, n))
		verify_fail(res, v->c->pcr, "%s PCR 10 is not the value the host TPM quoted",
			    v->c->what);
}

/* TPMS_ATTEST, signature, qualifying data = bind, PCR 10.  0, 1 (bound) or -1 (stop). */
static int host_quote(struct host_view *v, const uint8_t bind[BUNDLE_HOST_BINDING_LEN],
		      const struct host_work *w, struct verify_result *res)
{
	const TPM2B_DATA *xd = &v->a.extraData;
	uint16_t hash = 0;
	size_t off = 0;
	int bound;

	if (Tss2_MU_TPMS_ATTEST_Unmarshal(v->attest->data, v->attest->len, &off, &v->a) ||
	    off != v->attest->len || v->a.magic != TPM2_GENERATED_VALUE ||
	    v->a.type != TPM2_ST_ATTEST_QUOTE) {
		verify_fail(res, v->c->malformed,
			    "%s TPMS_ATTEST malformed, not TPM-generated or not a quote", v->c->what);
		return -1;
	}
	if (verify_tpm_signature(&w->ak_public, w->ak_key, v->signature, v->attest, &hash))
		verify_fail(res, v->c->signature, "%s quote not signed by the host AK", v->c->what);
	bound = xd->size == BUNDLE_HOST_BINDING_LEN &&
		!memcmp(xd->buffer, bind, BUNDLE_HOST_BINDING_LEN);
	if (!bound)
		verify_fail(res, v->c->binding, "%s", v->c->unbound);
	host_pcrs(v, hash ? hash : TPM2_ALG_SHA256, res);
	return bound;
}

/* Is (path, alg, digest) on the sorted allowlist? */
static int host_allowed(const struct verify_host_policy *pol, const struct imalog_entry *e)
{
	return host_allow_find(pol->allow, pol->nallow, e->path, e->file_alg, e->file_digest,
			       e->file_digest_size);
}

/* Every entry of the list: allowed, or named; violations counted. */
static void host_allowlist(const struct verify_host_policy *pol, const struct host_view *v,
			   struct verify_result *res)
{
	struct imalog_parser p;
	struct imalog_entry e;
	uint32_t violations = 0, refused = 0;
	char hex[2 * EVLOG_MAX_DIGEST + 1];

	if (imalog_parse_begin(&p, v->ima_log->data, v->ima_log->len))
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
			verify_fail(res, v->c->file, "%.100s %s:%.16s... (entry %u)", e.path,
				    evlog_alg_name(e.file_alg), hex, e.index);
		}
	}
	if (refused > VERIFY_MAX_FAILURES / 2)
		verify_fail(res, v->c->file, "%u files not allowed in all", refused);
	if (violations)
		verify_fail(res, VR_HOST_IMA_VIOLATION, "%s: IMA recorded %u violation(s): a file "
			    "measured while open for writing (names not bound)", v->c->what,
			    violations);
}

/* The list replays to the quoted PCR 10; then its files against the allowlist. */
static void host_ima(const struct verify_host_policy *pol, const struct host_view *v,
		     uint32_t *entries, struct verify_result *res)
{
	struct evlog_digest pcr;
	struct evlog_error err;
	char msg[160];
	int rc = imalog_replay(v->ima_log->data, v->ima_log->len, v->pcr_alg, &pcr, entries,
			       &err);

	if (rc == -EBADMSG) {
		evlog_strerror(&err, msg, sizeof(msg));
		verify_fail(res, v->c->ima_malformed, "%s IMA list: %s", v->c->what, msg);
		return;
	}
	if (rc) {
		verify_fail(res, v->c->ima_malformed, "%s IMA list: bank %04x (%d)", v->c->what,
			    v->pcr_alg, rc);
		return;
	}
	if (memcmp(pcr.bytes, v->pcr10, pcr.size))
		verify_fail(res, v->c->ima_replay, "%s IMA list (%u entries) does not replay "
			    "to the quoted PCR 10", v->c->what, *entries);
	host_allowlist(pol, v, res);
}

/* The bundle's host quote: bound to the guest quote and the nonce. */
static int host_current(const struct verify_host_policy *pol, const struct bundle_host *h,
			const struct bundle *g, const struct host_work *w,
			struct verify_result *res)
{
	struct host_view v = { &h->attest, &h->signature, &h->ima_log, h->pcr10, h->pcr_alg,
			       &host_quote_codes, { 0 } };
	uint8_t bind[BUNDLE_HOST_BINDING_LEN];
	int bound;

	if (bundle_host_binding(g, bind)) {
		verify_fail(res, VR_INTERNAL, "binding digest");
		return -1;
	}
	bound = host_quote(&v, bind, w, res);
	if (bound < 0)
		return -1;
	if (bound)
		res->fresh = 1;   /* as fresh as the guest quote it binds */
	host_ima(pol, &v, &res->events, res);
	return 0;
}

/* The guest AK's Name (nameAlg || H(TPMT_PUBLIC)) from the bundle's AK public area. */
static int host_guest_ak_name(const struct bundle *g, uint8_t *name, size_t *len)
{
	TPMT_PUBLIC p;
	unsigned int n = 0;
	size_t off = 0;
	const EVP_MD *md;

	if (!g->ak_public.data ||
	    Tss2_MU_TPMT_PUBLIC_Unmarshal(g->ak_public.data, g->ak_public.len, &off, &p) ||
	    off != g->ak_public.len || !(md = verify_md(p.nameAlg)) ||
	    !EVP_Digest(g->ak_public.data, g->ak_public.len, name + 2, &n, md, NULL))
		return -1;
	name[0] = (uint8_t)(p.nameAlg >> 8);
	name[1] = (uint8_t)p.nameAlg;
	*len = 2 + n;
	return 0;
}

/*
 * The host quote made when the guest's AK certificate was issued: signed
 * by the same host AK, bound to the guest AK's Name, its IMA list replayed
 * and appraised against the same allowlist.
 */
static void host_enrollment(const struct verify_host_policy *pol, const struct bundle_host *h,
			    const struct bundle *g, const struct host_work *w,
			    struct verify_result *res)
{
	const struct bundle_host_enroll *e = &h->enroll;
	struct host_view v = { &e->attest, &e->signature, &e->ima_log, e->pcr10, h->pcr_alg,
			       &host_enroll_codes, { 0 } };
	uint8_t name[2 + EVP_MAX_MD_SIZE], bind[BUNDLE_HOST_BINDING_LEN];
	uint32_t entries = 0;
	size_t len = 0;
	int bound;

	if (!e->present)
		return;
	if (host_guest_ak_name(g, name, &len) || bundle_host_enroll_binding(name, len, bind))
		memset(bind, 0, sizeof(bind));   /* no guest AK: nothing can be bound to it */
	bound = host_quote(&v, bind, w, res);
	if (bound >= 0)
		host_ima(pol, &v, &entries, res);
}

static void host_begin(struct verify_result *res, struct host_work *w)
{
	memset(res, 0, sizeof(*res));
	memset(w, 0, sizeof(*w));
	snprintf(res->name, sizeof(res->name), "host");
}

static enum verify_status host_end(struct verify_result *res, struct host_work *w)
{
	verify_result_finish(res);
	EVP_PKEY_free(w->ak_key);
	X509_free(w->ak_cert);
	X509_free(w->ek_cert);
	return res->status;
}

enum verify_status verify_host(const struct verify_host_policy *pol,
			       const struct bundle_host *h, const struct bundle *g,
			       struct verify_result *res)
{
	struct host_work w;

	host_begin(res, &w);
	if (!host_certs(pol, h, &w, res) && !host_current(pol, h, g, &w, res))
		host_enrollment(pol, h, g, &w, res);
	else if (!res->nfail)
		verify_fail(res, VR_INTERNAL, "a host stage stopped without a reason");
	return host_end(res, &w);
}

enum verify_status verify_host_hop(const struct verify_host_policy *pol,
				   const struct bundle_hop *hop, const char *what,
				   struct verify_result *res)
{
	struct host_codes c = host_quote_codes;
	struct host_view v = { &hop->host.attest, &hop->host.signature, &hop->host.ima_log,
			       hop->host.pcr10, hop->host.pcr_alg, &c, { 0 } };
	uint8_t bind[BUNDLE_HOST_BINDING_LEN];
	struct host_work w;
	int bound = -1;

	host_begin(res, &w);
	c.binding = VR_HOP_BINDING;
	c.what = what;
	c.unbound = "the source host's quote does not bind this migration's stream";
	if (bundle_hop_binding(hop->stream_sha256, bind))
		verify_fail(res, VR_INTERNAL, "binding digest");
	else if (!host_certs(pol, &hop->host, &w, res) &&
		 (bound = host_quote(&v, bind, &w, res)) >= 0)
		host_ima(pol, &v, &res->events, res);
	else if (!res->nfail)
		verify_fail(res, VR_INTERNAL, "a host stage stopped without a reason");
	/* Bound to the stream, it was made at that move or after: as fresh as
	 * the move it vouches for (hops_appraise: a stream the guest's fresh
	 * quote does not cover is host-migration-not-in-log). */
	if (bound > 0)
		res->fresh = 1;
	return host_end(res, &w);
}
